#!/usr/bin/env bash
# Fuzzes ThermoLearn's file readers with afl++ and SharpFuzz: .npy, CSV, HDF5, Parquet, sidecar, HMM, protocol and model JSON.
#   bash scripts/fuzz.sh [MINUTES_PER_TARGET] [TARGET...]      (default 10 minutes, every target)
# Each target starts from fuzz/corpus/TARGET; inputs that crash (an exception other than InvalidInputException, a hang
# past 10 s) are copied to fuzz/crashes/TARGET, where the fast test suite replays them (CorpusReplayTests, no afl++ needed).
# Needs: afl++ (Debian package afl++, installed here when missing) and the SharpFuzz.CommandLine tool (installed into
# artifacts/fuzz/tools). Prints one line per target: executions, paths found, crashes, hangs.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"; shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(npy csv hdf5 parquet sidecar hmm protocol model)

if ! command -v afl-fuzz >/dev/null; then
  apt-get update -qq && apt-get install -y -qq afl++ >/dev/null
fi
work=artifacts/fuzz
mkdir -p "$work/tools"
if [ ! -x "$work/tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools" >/dev/null
fi
# a fresh folder: SharpFuzz refuses to instrument an assembly twice, and publish leaves unchanged ones in place
rm -rf "$work/bin"
dotnet publish fuzz/ThermoLearn.Fuzz/ThermoLearn.Fuzz.csproj -c Release -o "$work/bin" -nologo -v quiet
# instrument the code under test (the readers live in ThermoLearn.Core; the HDF5 and Parquet decoders in PureHDF and Parquet)
for dll in ThermoLearn.Core.dll PureHDF.dll Parquet.dll; do
  "$work/tools/sharpfuzz" "$work/bin/$dll" >/dev/null
done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
for target in "${targets[@]}"; do
  out="$work/findings/$target"
  rm -rf "$out"; mkdir -p "$work/findings"
  timeout --preserve-status $((minutes * 60 + 30)) \
    afl-fuzz -V $((minutes * 60)) -i "fuzz/corpus/$target" -o "$out" -t 10000 -m none -- dotnet "$work/bin/thermolearn-fuzz.dll" "$target" \
    >"$work/$target.log" 2>&1 || true
  stats="$out/default/fuzzer_stats"
  crashes=0; hangs=0; execs=0; paths=0
  if [ -f "$stats" ]; then
    execs=$(awk -F: '/^execs_done/ {gsub(/ /,"",$2); print $2}' "$stats")
    paths=$(awk -F: '/^corpus_count/ {gsub(/ /,"",$2); print $2}' "$stats")
    crashes=$(awk -F: '/^saved_crashes/ {gsub(/ /,"",$2); print $2}' "$stats")
    hangs=$(awk -F: '/^saved_hangs/ {gsub(/ /,"",$2); print $2}' "$stats")
  fi
  mkdir -p "fuzz/crashes/$target"
  for f in "$out"/default/crashes/id:* "$out"/default/hangs/id:*; do
    [ -f "$f" ] && cp "$f" "fuzz/crashes/$target/$(sha256sum "$f" | cut -c1-16)"
  done
  echo "$target: $minutes min, $execs executions, $paths corpus entries, $crashes crashes, $hangs hangs (log: $work/$target.log)"
done
