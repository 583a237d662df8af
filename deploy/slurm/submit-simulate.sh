#!/bin/bash
# Queues a sharded simulation and its merge:  SHARDS=16 RUN_DIR=/shared/run1 bash submit-simulate.sh
# Settings (MODEL, SETTINGS, TRAJECTORIES, STEPS, DT, SAVE_EVERY, SEED, FORMAT, THERMOLEARN) pass through
# the environment. Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${SHARDS:?set SHARDS}" "${RUN_DIR:?set RUN_DIR}"
export SHARDS RUN_DIR
array=$(sbatch --parsable --array="1-${SHARDS}" --export=ALL "$here/simulate-array.sbatch")
merge=$(sbatch --parsable --dependency="afterok:${array}" --export=ALL "$here/merge.sbatch")
echo "simulate array: ${array}  merge: ${merge}"
