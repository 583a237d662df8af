#!/usr/bin/env bash
# Checks that the packed tool installs and runs on a clean setup, as README says:
#   dotnet pack -c Release                     (-> ./artifacts)
#   dotnet tool install --add-source ./artifacts thermolearn
# The install uses a fresh HOME and DOTNET_CLI_HOME, a fresh NUGET_PACKAGES and a NuGet config that lists only ./artifacts
# (<clear/>: no nuget.org, no machine cache), into a temporary --tool-path. The installed tool then runs --help, a
# simulation, the current estimator on it, and a libtorch command (beliefs train), and the script checks that the
# packed libLibTorchSharp.so carries the weak GLIBCXX version need (build/LibTorchNatives.targets). Prints package
# sizes and its run time; exit 0 only if every step passed. SKIP_PACK=1 reuses ./artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$(date +%s)
work=$(mktemp -d /tmp/thermolearn-pack.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ "${SKIP_PACK:-0}" != 1 ]; then
  echo "== dotnet pack -c Release"
  dotnet pack -c Release -nologo -v minimal > "$work/pack.log" 2>&1 || { tail -n 30 "$work/pack.log"; echo "FAIL: dotnet pack"; exit 1; }
fi
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
package="artifacts/thermolearn.$version.nupkg"
[ -f "$package" ] || { echo "FAIL: $package not found"; exit 1; }
echo "== packages in ./artifacts"
ls -l artifacts/*.nupkg artifacts/*.snupkg | awk '{printf "  %8.1f MB  %s\n", $5 / 1e6, $NF}'
unpacked=$(unzip -l "$package" | tail -n 1 | awk '{print $1}')
echo "  thermolearn tool: $(awk -v b="$(stat -c %s "$package")" 'BEGIN{printf "%.1f", b/1e6}') MB packed, $(awk -v b="$unpacked" 'BEGIN{printf "%.1f", b/1e6}') MB unpacked"

echo "== dotnet tool install into a clean home, cache and tool path"
cat > "$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
  </packageSources>
</configuration>
EOF
# HOME too, so that nothing under the user's ~/.nuget can stand in for the tool's own libtorch.
export HOME="$work/home" DOTNET_CLI_HOME="$work/home" NUGET_PACKAGES="$work/nuget-packages" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
mkdir -p "$DOTNET_CLI_HOME"
(cd "$work" && dotnet tool install --tool-path "$work/tools" --configfile "$work/nuget.config" --add-source "$repo/artifacts" thermolearn --version "$version")
tool="$work/tools/thermolearn"
echo "  installed: $(du -sm "$work/tools" | cut -f1) MB under the tool path"

cd "$work"
echo "== thermolearn --help"
"$tool" --help | head -n 3
echo "== thermolearn simulate"
"$tool" simulate --model driven-trap-2d --trajectories 200 --steps 2000 --dt 0.01 --save-every 10 --seed 1 \
  --out run.npy --energetics run-energetics.csv --json > simulate.json
grep -q '"exact_ep_rate": 0.18' simulate.json || { cat simulate.json; echo "FAIL: simulate"; exit 1; }
echo "  200 trajectories written, exact_ep_rate 0.18"
echo "== thermolearn estimate --method current"
"$tool" estimate --in run.npy --method current --json > estimate.json
python3 - estimate.json <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
rate, se = e["ep_rate"], e["stderr"]
print(f"  ep_rate = {rate:.4f} +- {se:.4f} (exact 0.18; docs/inference.md has the estimator's calibration)")
# A smoke test of the installed tool: a finite, positive estimate with a finite standard error.
sys.exit(0 if rate > 0 and se > 0 and rate < 1e3 and se < 1e3 else 1)
PY
echo "== thermolearn beliefs train (loads libtorch)"
"$tool" beliefs train --process mess3 --tokens 5000 --out beliefs-run --json > beliefs.json
python3 -c "import json,sys; b=json.load(open('beliefs.json')); print(f\"  trained {b['tokens']} tokens, validation cross-entropy {b['min_val_ce']:.4f} nats\")"
native=$(find "$work/tools/.store" -name libLibTorchSharp.so | head -n 1)
if command -v readelf > /dev/null; then
  versions=$(readelf -V "$native")   # (not piped into grep -q: with pipefail, readelf's SIGPIPE would fail the check)
  grep -q "GLIBCXX_3.4.32 *Flags: WEAK" <<<"$versions" && echo "  packed libLibTorchSharp.so: GLIBCXX_3.4.32 need is weak" \
    || { echo "FAIL: the packed libLibTorchSharp.so still needs GLIBCXX_3.4.32 strictly"; exit 1; }
fi
echo "validate-pack: PASS in $(( $(date +%s) - start )) s"
