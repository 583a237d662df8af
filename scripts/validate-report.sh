#!/usr/bin/env bash
# Validation of `thermolearn report`: renders a report from the sample results in headless Chromium (Debian's
# package, installed if missing), checks that every embedded figure decoded (the page's own check, read from
# the DOM after load) and that the screenshot shows the figures (scripts/check-screenshot.py).
# Usage: bash scripts/validate-report.sh [--update-docs]   (--update-docs copies the screenshot to docs/)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

if ! command -v chromium >/dev/null 2>&1; then
  echo "validate-report: installing Debian's chromium" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

dotnet build -c Release src/ThermoLearn.Cli -nologo -v quiet >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
samples=tests/ThermoLearn.Tests/Cli/ReportSamples
dotnet src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll report \
  --in $samples/simulate.json $samples/estimate.json $samples/optimize.json $samples/process-info.json \
  --out "$work/report.html" --title "ThermoLearn report (validation samples)" --json > "$work/report.json"
figures=$(sed -n 's/.*"figures": \([0-9]*\).*/\1/p' "$work/report.json")
echo "report: $figures figures, $(stat -c %s "$work/report.html") bytes"

chrome_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$(mktemp -d -p "$work")")
chromium "${chrome_flags[@]}" --dump-dom "file://$work/report.html" > "$work/dom.html" 2>"$work/chromium-dom.log"
check=$(grep -o '[0-9]* of [0-9]* figures rendered' "$work/dom.html" || true)
echo "browser: ${check:-no figure check found}"
[ "$check" = "$figures of $figures figures rendered" ] || { echo "FAIL: not every figure decoded in Chromium"; exit 1; }

chromium "${chrome_flags[@]}" --window-size=1100,5400 --screenshot="$work/report.png" "file://$work/report.html" 2>"$work/chromium-shot.log"
python3 scripts/check-screenshot.py "$work/report.png" "$figures"

# The same on results of real runs of the commands that exist in this checkout (not only the fixtures).
tl="dotnet src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll"
$tl simulate --model driven-trap-2d --trajectories 200 --steps 1000 --dt 0.001 --save-every 10 --seed 3 \
  --out "$work/sim.h5" --json > "$work/simulate.json" 2>/dev/null
$tl convert --in "$work/sim.h5" --out "$work/sim.parquet" --json > "$work/convert.json" 2>/dev/null
$tl process info --process mess3 --json > "$work/process-info.json" 2>/dev/null
$tl report --in "$work/simulate.json" "$work/convert.json" "$work/process-info.json" --out "$work/real.html" --json > "$work/real.json"
real_figures=$(sed -n 's/.*"figures": \([0-9]*\).*/\1/p' "$work/real.json")
chromium "${chrome_flags[@]}" --dump-dom "file://$work/real.html" > "$work/real-dom.html" 2>/dev/null
real_check=$(grep -o '[0-9]* of [0-9]* figures rendered' "$work/real-dom.html" || true)
echo "report of real runs (simulate, convert, process info): ${real_check:-no figure check found}"
[ "$real_figures" -ge 1 ] && [ "$real_check" = "$real_figures of $real_figures figures rendered" ] \
  || { echo "FAIL: the report of real runs did not render every figure"; exit 1; }

if [ "${1:-}" = "--update-docs" ]; then
  cp "$work/report.png" docs/report-screenshot.png
  echo "copied the screenshot to docs/report-screenshot.png"
fi
echo "validate-report: PASS in $(( $(date +%s) - start )) s"
