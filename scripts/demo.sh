#!/usr/bin/env bash
# The tour of ThermoLearn's three pillars, each number against an exact value or a bound, with its margin in
# standard errors, ending in one HTML report (its path printed):
#   1. learn entropy production (EP) back from simulated trajectories (linear current estimator, TUR bound,
#      a short neural-current run) against the model's exact EP rate;
#   2. optimise protocols (trap translation against the Schmiedl-Seifert optimum; a short erasure against the
#      Landauer and finite-time bounds);
#   3. belief geometry (Mess3 information measures, a short transformer training against the exact
#      cross-entropy floor, R^2 of the belief regression, the simplex figure).
# Every run has an explicit seed: examples/quickstart.ipynb repeats the same runs from Python (same numbers).
# "agrees" means |z| <= 3 with z = (measured - exact) / stderr (a calibrated Gaussian estimate fails this 0.27 % of
# the time); a bound holds when measured >= bound - 3 stderr.
# Results go to $DEMO_OUT (default: a new folder under /tmp), which is kept: the report links nothing outside it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "building the CLI (Release) ..."
dotnet build src/ThermoLearn.Cli -c Release -nologo -v quiet >/dev/null
tl() { dotnet src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll "$@"; }
out=${DEMO_OUT:-$(mktemp -d /tmp/thermolearn-demo.XXXXXX)}
mkdir -p "$out"
start=$SECONDS
step() { printf '\n== [%3d s] %s\n' $((SECONDS - start)) "$*"; }

# top KEY FILE: a top-level number or string of a --json result (the CLI indents by two spaces).
top() { sed -n "s/^  \"$1\": \(.*\)$/\1/p" "$2" | sed 's/,$//; s/^"//; s/"$//' | head -n 1; }
# inner OBJECT KEY FILE: KEY of a top-level object (e.g. baseline.work).
inner() { awk -v o="$1" -v k="$2" '$0 ~ "^  \"" o "\": [{]" { b = 1; next } b && /^  [}]/ { exit }
  b && $0 ~ "^    \"" k "\":" { sub(/^[^:]*: /, ""); sub(/,$/, ""); print; exit }' "$3"; }
# line LABEL VALUE STDERR REFERENCE REFNAME KIND: one verdict line. KIND: equal (|z| <= 3), above (a lower bound on
# the value: value >= ref - 3 stderr), below (an upper bound on the value: value <= ref + 3 stderr).
line() {
  awk -v label="$1" -v v="$2" -v s="$3" -v r="$4" -v rname="$5" -v kind="$6" 'BEGIN {
    z = (v - r) / s
    if (kind == "equal") verdict = (z <= 3 && z >= -3) ? sprintf("agrees (z = %+.2f)", z) : sprintf("DISAGREES (z = %+.2f)", z)
    else {
      m = (kind == "above") ? z : -z   # margin: how many stderr the value lies on the allowed side of the bound
      verdict = m >= 0 ? sprintf("bound holds (margin %.1f stderr)", m) \
        : m >= -3 ? sprintf("bound holds within error (%.1f stderr over)", -m) : sprintf("BOUND VIOLATED (%.1f stderr)", -m)
    }
    printf "  %-44s measured %.4f +- %.4f   %s %.4f   -> %s\n", label, v, s, rname, r, verdict }'
}

step "1/3 Learning EP back from trajectories: driven 2-D trap (k=1, eps=0.3, mu=1, T=0.5), 400 trajectories x 10 time units, seed 1"
tl simulate --model driven-trap-2d --trajectories 400 --steps 10000 --dt 0.001 --save-every 10 --seed 1 \
  --out "$out/trap.npy" --json 2>/dev/null > "$out/simulate.json"
exact=$(top exact_ep_rate "$out/simulate.json")
awk -v e="$exact" 'BEGIN { printf "  exact EP rate sigma = 2 mu eps^2 / k = %.6g (frames every 0.01; the estimators see positions only)\n", e }'
tl estimate --in "$out/trap.npy" --basis poly:1 --plot "$out/trap-local-ep.png" --json 2>/dev/null > "$out/estimate-current.json"
line "EP rate, linear current estimator (poly:1)" "$(top ep_rate "$out/estimate-current.json")" "$(top stderr "$out/estimate-current.json")" "$exact" exact equal
tl estimate --in "$out/trap.npy" --basis poly:1 --method tur --json 2>/dev/null > "$out/estimate-tur.json"
line "TUR lower bound on the EP rate (poly:1)" "$(top ep_rate "$out/estimate-tur.json")" "$(top stderr "$out/estimate-tur.json")" "$exact" exact below
step "   neural-current estimator: 2x32 network, 5 epochs, 2-fold cross-fitting, seed 1"
tl estimate --in "$out/trap.npy" --method neural-current --hidden 2x32 --epochs 5 --seed 1 --json 2>/dev/null > "$out/estimate-neural.json"
line "EP rate, neural current (held out)" "$(top ep_rate "$out/estimate-neural.json")" "$(top stderr "$out/estimate-neural.json")" "$exact" exact equal

step "2/3 Optimal protocols: translate a trap by 1 in tau = 1 (k = gamma = T = 1), 40 iterations, 4,000 paths, seed 1"
tl optimize --task translate-trap --tau 1 --iterations 40 --trajectories 4000 --seed 1 --plot "$out/translate-protocol.png" \
  --json 2>/dev/null > "$out/optimize-translate.json"
f="$out/optimize-translate.json"
line "<W>, optimised protocol (fresh paths)" "$(top work "$f")" "$(top work_stderr "$f")" "$(top optimum_work "$f")" "W*(Schmiedl-Seifert)" equal
line "<W>, linear ramp (same paths)" "$(inner baseline work "$f")" "$(inner baseline work_stderr "$f")" "$(top linear_ramp_work "$f")" "exact 1/e" equal
step "   erase one bit in tau = 10 (barrier 4), alpha = 8, 20 iterations, 2,000 paths, seed 1"
tl optimize --task erase --tau 10 --iterations 20 --trajectories 2000 --seed 1 --json 2>/dev/null > "$out/optimize-erase.json"
f="$out/optimize-erase.json"
line "<W>, optimised erasure" "$(top work "$f")" "$(top work_stderr "$f")" "$(top finite_time_bound "$f")" "finite-time bound" above
line "<W>, optimised erasure" "$(top work "$f")" "$(top work_stderr "$f")" "$(top landauer_bound "$f")" "Landauer bound" above
awk -v e="$(top error "$f")" -v s="$(top error_stderr "$f")" -v b="$(inner baseline error "$f")" \
  'BEGIN { printf "  %-44s measured %.4f +- %.4f   linear ramp %.4f (the ramp erases nothing)\n", "erasure error", e, s, b }'

step "3/3 Belief geometry: Mess3 (x=0.05, a=0.85), exact information measures"
tl process info --process mess3 --set x=0.05 --set a=0.85 --n-ctx 10 --json 2>/dev/null > "$out/process-info.json"
f="$out/process-info.json"
awk -v h="$(top entropy_rate "$f")" -v E="$(top excess_entropy "$f")" -v c="$(top ce_floor_nats "$f")" \
  'BEGIN { printf "  entropy rate h_mu = %.6f bits/token, excess entropy E = %.6f bits, cross-entropy floor (n_ctx 10) = %.6f nats\n", h, E, c }'
step "   train the 4-layer transformer (d_model 64) on 640,000 tokens, seed 1; then regress the exact beliefs on its residual stream"
tl beliefs train --process mess3 --set x=0.05 --set a=0.85 --out "$out/mess3-run" --tokens 640000 --checkpoints 640000 \
  --validate-every 1000 --seed 1 --json 2>/dev/null > "$out/beliefs-train.json"
tl beliefs analyze --run "$out/mess3-run" --plot-dir "$out/beliefs-figures" --json 2>/dev/null > "$out/beliefs-analyze.json"
f="$out/beliefs-analyze.json"
awk -v v="$(top val_ce "$f")" -v c="$(top ce_floor_nats "$f")" -v n="$(top prefixes "$f")" 'BEGIN {
  printf "  %-44s measured %.6f (exact, all %d prefixes)   floor %.6f   -> %s, gap %.4f nats\n", "validation cross-entropy", v, n, c,
    (v >= c ? "bound holds" : "BOUND VIOLATED"), v - c }'
awk '/"layer": "/ { l = $2; gsub(/[",]/, "", l) } /"r2_held_out":/ { h[l] = $2 } /"r2_shuffled":/ { s[l] = $2 }
  END { for (k in h) if (k != "concat" && (best == "" || k + 0 > best + 0)) best = k;
        gsub(/,/, "", h[best]); gsub(/,/, "", s[best]);
        printf "  belief regression, final layer (block %s): held-out R^2 %.4f, shuffled-label control R^2 %.4f (no geometry: <= 0)\n", best, h[best], s[best] }' "$f"
awk -v r="$(top r2_final "$f")" 'BEGIN { printf "  %-44s R^2 = %.4f of the exact beliefs (1: the simplex is linearly embedded)\n", "belief regression, final residual stream", r }'
echo "  simplex figure: $out/beliefs-figures/$(ls "$out/beliefs-figures" | grep -i simplex | head -n 1)"

step "report"
tl report --in "$out/simulate.json" "$out/estimate-current.json" "$out/estimate-tur.json" "$out/estimate-neural.json" \
  "$out/optimize-translate.json" "$out/optimize-erase.json" "$out/process-info.json" "$out/beliefs-train.json" \
  "$out/beliefs-analyze.json" --title "ThermoLearn demo: EP learning, optimal protocols, belief geometry" \
  --out "$out/report.html" 2>/dev/null
echo "  HTML report: $out/report.html"
echo "  figures: $out/trap-local-ep.png, $out/translate-protocol.png, $out/beliefs-figures/"
printf '\ndemo done in %d s (after the build)\n' $((SECONDS - start))
