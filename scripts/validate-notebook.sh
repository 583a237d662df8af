#!/usr/bin/env bash
# Executes examples/quickstart.ipynb with Debian's jupyter nbconvert (nbclient + ipykernel) against the Release
# build and writes the executed notebook back in place, so the committed outputs are real. The notebook asserts
# each agreement with an exact value or bound, so a disagreement (or any error) fails this script.
# Usage: bash scripts/validate-notebook.sh [OUTPUT.ipynb]   (default: in place)
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v jupyter-nbconvert >/dev/null 2>&1 || need+=(jupyter-nbconvert)
/usr/bin/python3 -c 'import nbclient' >/dev/null 2>&1 || need+=(python3-nbclient)
/usr/bin/python3 -c 'import ipykernel' >/dev/null 2>&1 || need+=(python3-ipykernel)
/usr/bin/python3 -c 'import numpy, matplotlib' >/dev/null 2>&1 || need+=(python3-numpy python3-matplotlib)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian's ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
dotnet build src/ThermoLearn.Cli -c Release -nologo -v quiet >/dev/null
export THERMOLEARN_CLI="$PWD/src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll"
export MPLBACKEND=Agg
target=$(realpath -m "${1:-examples/quickstart.ipynb}")
mkdir -p "$(dirname "$target")"
start=$SECONDS
# Debian's kernel is /usr/bin/python3; the notebook puts python/ on its path when the package is not installed.
# No per-cell timestamps (record_timing): a rerun changes the stored outputs only where the numbers change.
(cd examples && /usr/bin/python3 -m nbconvert --to notebook --execute --ExecutePreprocessor.timeout=-1 \
  --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.record_timing=False --output "$(basename "$target")" --output-dir "$(dirname "$target")" quickstart.ipynb)
echo "notebook executed in $((SECONDS - start)) s: $target"
