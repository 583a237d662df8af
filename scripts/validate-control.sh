#!/usr/bin/env bash
# The control results of docs/control.md ("Results"): the Validation tests (Category=Validation) that optimise each task and
# re-measure the optimised protocol with measurements extrapolated to dt -> 0 (chains at dt, dt/2 and dt/4 on one
# Brownian path), printing every number with its standard error and its margin over the exact optimum or bound:
#   ControlValidationTests   translate-trap <W> against W* = 1/3, the linear ramp against W_lin, the knots against (1 + t)/3
#   EraseValidationTests     erase at tau = 2.5 .. 40 and the Pareto front at tau = 10 (alpha = 1 .. 16) against the
#                            finite-time and Landauer bounds (8 batches x 5,000 paths each)
#   FlipTests.UnderdampedFlipSucceedsWhereNoOverdampedFlipCan   the flips against success <= 1/2 and L >= alpha/2
# Usage: bash scripts/validate-control.sh [LOG]   (LOG: where the tests' output goes; default artifacts/control-validation.log)
# Measured 2026-12-08 on 2 cores shared with other work: see docs/control.md for the CPU time it took.
set -euo pipefail
cd "$(dirname "$0")/.."
log=${1:-artifacts/control-validation.log}
mkdir -p "$(dirname "$log")"
dotnet build tests/ThermoLearn.Tests -c Release -nologo -v quiet >/dev/null
/usr/bin/time -f "validate-control: %e s wall, %U s user + %S s system CPU" \
  dotnet test tests/ThermoLearn.Tests -c Release --no-build -nologo \
  --filter "Category=Validation&(FullyQualifiedName~EraseValidationTests|FullyQualifiedName~ControlValidationTests|FullyQualifiedName~FlipTests)" \
  --logger "console;verbosity=detailed" 2>&1 | tee "$log"
grep -E "^ *(optimised|linear ramp|knot|tau|underdamped|overdamped)" "$log" || { echo "FAIL: no result lines in $log"; exit 1; }
