#!/usr/bin/env bash
# The inference validation matrix (issue 20; docs/inference.md "Validation matrix"): every estimator x model family x frame
# spacing (largest rate x dt = 0.005 ... 0.2), 8 seeds a cell: bias with its standard error, coverage of the 1.96-stderr
# intervals, figures of bias against dt. Runs tests/ThermoLearn.Tests InferenceMatrixValidation (Category=Validation), which
# writes matrix-diffusions.{csv,md}, matrix-jumps.{csv,md} and bias-*.png to artifacts/inference-matrix.
# Usage: bash scripts/validate-inference-matrix.sh [--update-docs]   (--update-docs copies tables and figures to docs/inference-matrix/)
# Takes about 10-15 minutes on 2 cores shared with other work.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/inference-matrix
rm -rf "$out"
mkdir -p "$out"
export THERMOLEARN_MATRIX_OUT="$PWD/$out"
dotnet build tests/ThermoLearn.Tests -c Release -nologo -v quiet >/dev/null
dotnet test tests/ThermoLearn.Tests -c Release --no-build -nologo \
  --filter "Category=Validation&FullyQualifiedName~InferenceMatrixValidation" --logger "console;verbosity=detailed"
for f in matrix-diffusions.md matrix-jumps.md; do
  [ -s "$out/$f" ] || { echo "FAIL: $out/$f was not written"; exit 1; }
done
if [ "${1:-}" = "--update-docs" ]; then
  mkdir -p docs/inference-matrix
  cp "$out"/*.png "$out"/*.md "$out"/*.csv docs/inference-matrix/
  echo "copied $(ls "$out" | wc -l) files to docs/inference-matrix/"
fi
echo "validate-inference-matrix: tables and figures in $out"
