#!/bin/bash
# Queues the map-reduce estimate of a sharded run:  SHARDS=16 RUN_DIR=/shared/run1 bash submit-estimate.sh
# With AFTER=<job id> (the simulate array id that submit-simulate.sh prints, or one submitted with
# sbatch --parsable --array=1-N simulate-array.sbatch) the map array waits for it (afterok): simulate -> map -> reduce,
# with no merge and no step holding the whole data set. Settings (ESTIMATE_OPTIONS, CHUNK_MB, FORMAT, REDUCE_BATCHES,
# THERMOLEARN) pass through the environment. Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${SHARDS:?set SHARDS}" "${RUN_DIR:?set RUN_DIR}"
export SHARDS RUN_DIR
after=()
[ -n "${AFTER:-}" ] && after=(--dependency="afterok:${AFTER}")
map=$(sbatch --parsable "${after[@]}" --array="1-${SHARDS}" --export=ALL "$here/estimate-map.sbatch")
reduce=$(sbatch --parsable --dependency="afterok:${map}" --export=ALL "$here/estimate-reduce.sbatch")
echo "map array: ${map}  reduce: ${reduce}"
