#!/bin/bash
# Queues an estimator sweep and its report:  SWEEP_FILE=sweep.txt RUN_DIR=/shared/sweep1 bash submit-estimate-sweep.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${SWEEP_FILE:?set SWEEP_FILE}" "${RUN_DIR:?set RUN_DIR}"
SWEEP_FILE=$(cd "$(dirname "$SWEEP_FILE")" && pwd)/$(basename "$SWEEP_FILE")
export SWEEP_FILE RUN_DIR
tasks=$(grep -c . "$SWEEP_FILE")
array=$(sbatch --parsable --array="1-${tasks}" --export=ALL "$here/estimate-sweep.sbatch")
report=$(sbatch --parsable --dependency="afterok:${array}" --export=ALL "$here/report.sbatch")
echo "sweep array: ${array} (${tasks} tasks)  report: ${report}"
