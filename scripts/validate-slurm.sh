#!/usr/bin/env bash
# Validation of the Slurm templates in deploy/slurm/ on a one-node cluster started here: installs Debian's
# slurm-wlm and munge if missing, starts munged, slurmctld and slurmd with a private config, key, socket and
# ports in a temporary folder (nothing under /etc is changed), submits a 4-task simulate array and a merge
# that depends on it (deploy/slurm/submit-simulate.sh), waits, and requires the merged file to equal a
# single-process run of the same simulation byte for byte (cmp), and the merged energetics CSV to equal that
# run's. Then the map-reduce estimate (deploy/slurm/submit-estimate.sh: estimate-map.sbatch per shard, then
# estimate-reduce.sbatch afterok) on the same shards, which must equal `estimate` of the single-process file bit for
# bit (40 batches: the 4 shards' boundaries fall on batch boundaries). Prints its run time. Needs root.
#
# With --trajectories N (e.g. 1e7) it runs the path for data larger than a node instead, at scale: N trajectories of the
# driven trap (10 frames each: N x 160 bytes of .npy, 1.6 GB for 1e7) simulated as a $SHARDS-task array (default 25),
# then merged chunk by chunk and, in parallel, mapped per shard (estimate --statistics-out) and reduced into the
# estimate and its HTML report; finally one process streams the merged file. Every call of the tool runs under
# /usr/bin/time, and the script prints each step's wall time and peak resident memory, and requires (1) every step's
# peak below 100 MB (the runtime) plus half the data's size, and below 1 GB, (2) the reduced estimate to equal the merged file's bit for bit (50
# batches: every batch lies within one shard), (3) it to lie within 4 standard errors of the exact rate 0.18 (a
# Gaussian's false-failure rate 6e-5), (4) the report. The data are deleted at the end (KEEP=1 keeps them).
# Usage: bash scripts/validate-slurm.sh [--trajectories N]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$(date +%s)
scale=""
while [ $# -gt 0 ]; do
  case "$1" in
    --trajectories) scale=$(printf '%.0f' "${2:?--trajectories needs a number, e.g. 1e7}"); shift 2 ;;
    *) echo "validate-slurm: unknown argument '$1' (usage: validate-slurm.sh [--trajectories N])" >&2; exit 2 ;;
  esac
done

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  echo "validate-slurm: installing Debian's slurm-wlm and munge" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

dotnet build -c Release src/ThermoLearn.Cli -nologo -v quiet >/dev/null
export THERMOLEARN="dotnet $repo/src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll"

work=$(mktemp -d /tmp/thermolearn-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

host=$(hostname -s)
cpus=$(nproc)
port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$work/state" "$work/spool" "$work/munge" "$work/run"

# munge with its own key and socket (root-run munged needs --force).
dd if=/dev/urandom bs=1 count=1024 of="$work/munge/munge.key" status=none
chmod 400 "$work/munge/munge.key"
chmod 700 "$work/munge"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.sock" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" \
  --foreground > "$work/munge/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge/munge.sock" ] && break; sleep 0.1; done

cat > "$work/slurm.conf" <<CONF
ClusterName=thermolearn-validate
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=validate Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$work/slurm.conf"

slurmctld -D -f "$SLURM_CONF" > "$work/slurmctld.out" 2>&1 &
pids+=($!)
sleep 2
slurmd -D -f "$SLURM_CONF" > "$work/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true)
  [ "$state" = "idle" ] && break
  sleep 1
done
echo "cluster: node $host ($cpus CPUs) is ${state:-down}"
[ "$state" = "idle" ] || { tail -n 20 "$work/slurmctld.log" "$work/slurmd.log" 2>/dev/null; echo "FAIL: the node did not come up"; exit 1; }

# Waits for job $1 to end (at most $2 seconds) and prints its state.
wait_job() {
  local state=""
  for _ in $(seq "$2"); do
    state=$(scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n1)
    case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
    sleep 1
  done
  echo "$state"
}

if [ -n "$scale" ]; then
  # Every call of the tool through /usr/bin/time: step, output, wall seconds, user and system CPU seconds, peak RSS (kB).
  timelog="$work/steps.tsv"
  cat > "$work/measured.sh" <<WRAP
#!/bin/bash
out=""; prev=""
for a in "\$@"; do case "\$prev" in --out|--statistics-out) out=\$(basename "\$a") ;; esac; prev=\$a; done
exec /usr/bin/time -a -o "$timelog" -f "\$1\t\$out\t%e\t%U\t%S\t%M" $THERMOLEARN "\$@"
WRAP
  chmod +x "$work/measured.sh"
  export THERMOLEARN="$work/measured.sh"
  export MODEL=driven-trap-2d SETTINGS="--set k=1 --set eps=0.3 --set mu=1 --set T=0.5"
  export TRAJECTORIES=$scale STEPS=90 DT=0.001 SAVE_EVERY=10 SEED=${SEED:-20261205} FORMAT=npy
  export SHARDS=${SHARDS:-25} RUN_DIR="$work/run" CHUNK_MB=${CHUNK_MB:-128} REPORT=1
  export ESTIMATE_OPTIONS="--method current --basis poly:2 --batches 50"
  frames=$(( STEPS / SAVE_EVERY + 1 ))
  data_bytes=$(( scale * frames * 2 * 8 ))
  echo "scale run: $scale trajectories x $frames frames x 2 coordinates = $(( data_bytes / 1000000 )) MB of .npy in $SHARDS shards; $ESTIMATE_OPTIONS"
  cd "$work"
  t0=$(date +%s)
  ids=$(bash "$repo/deploy/slurm/submit-simulate.sh")
  array_id=$(echo "$ids" | sed -n 's/.*simulate array: \([0-9]*\).*/\1/p')
  merge_id=${ids##* }
  ids2=$(AFTER=$array_id bash "$repo/deploy/slurm/submit-estimate.sh")
  reduce_id=${ids2##* }
  echo "submitted: $ids; $ids2"
  state=$(wait_job "$reduce_id" 7200)
  t_reduce=$(date +%s)
  echo "reduce job $reduce_id: $state after $(( t_reduce - t0 )) s (simulate array -> map array -> reduce + report)"
  [ "$state" = COMPLETED ] || { tail -n 5 "$work"/thermolearn-*.out 2>/dev/null || true; echo "FAIL: the simulate, map or reduce jobs did not complete"; exit 1; }
  state=$(wait_job "$merge_id" 7200)
  echo "merge job $merge_id: $state after $(( $(date +%s) - t0 )) s"
  [ "$state" = COMPLETED ] || { tail -n 5 "$work"/thermolearn-merge-*.out 2>/dev/null || true; echo "FAIL: the merge did not complete"; exit 1; }
  ls -l "$RUN_DIR/merged.npy" "$RUN_DIR/merged.energetics.csv"
  # One process streaming the merged file (bounded by --chunk-mb) must give the reduce's numbers bit for bit.
  # shellcheck disable=SC2086
  $THERMOLEARN estimate --in "$RUN_DIR/merged.npy" $ESTIMATE_OPTIONS --chunk-mb "$CHUNK_MB" --json > "$work/merged-estimate.json"
  python3 - "$timelog" "$data_bytes" "$RUN_DIR/estimate.json" "$work/merged-estimate.json" "$SHARDS" <<'PY'
import json, sys
log, data_bytes, shards = sys.argv[1], int(sys.argv[2]), int(sys.argv[5])
steps = {}
for line in open(log):
    f = line.rstrip("\n").split("\t")
    if len(f) != 6:
        continue
    name = {"simulate": "simulate (array task)", "estimate": "map (estimate per shard)" if f[1].endswith(".stats") else "estimate of merged.npy",
            "merge": "merge (.npy)" if f[1].endswith(".npy") else "merge (energetics CSV)"}.get(f[0], f[0])
    s = steps.setdefault(name, [0, 0.0, 0.0, 0.0, 0])
    s[0] += 1; s[1] += float(f[2]); s[2] = max(s[2], float(f[2])); s[3] += float(f[3]) + float(f[4]); s[4] = max(s[4], int(f[5]) * 1024)
limit = min(100_000_000 + data_bytes // 2, 10**9)   # the runtime (under 100 MB) plus half the data; 1 GB at most
print(f"{'step':28} {'calls':>5} {'wall s (sum)':>12} {'max wall s':>10} {'CPU s':>8} {'peak RSS MB':>11}")
bad = []
for name, (n, wall, most, cpu, rss) in steps.items():
    print(f"{name:28} {n:5d} {wall:12.1f} {most:10.1f} {cpu:8.1f} {rss / 1e6:11.0f}")
    if rss > limit:
        bad.append(f"{name} peaked at {rss / 1e6:.0f} MB (limit {limit / 1e6:.0f} MB: 100 MB plus half the data's {data_bytes / 1e6:.0f} MB, at most 1 GB)")
expected = {"simulate (array task)": shards, "map (estimate per shard)": shards, "reduce": 1, "report": 1, "merge (.npy)": 1, "estimate of merged.npy": 1}
bad += [f"{k}: {steps.get(k, [0])[0]} calls recorded, expected {v}" for k, v in expected.items() if steps.get(k, [0])[0] != v]
reduced, merged = (json.load(open(p)) for p in sys.argv[3:5])
keys = ["ep_rate", "stderr", "ep_rate_debiased", "ep_rate_uncorrected", "stderr_uncorrected", "n_frames", "n_transitions", "errors", "diffusion"]
bad += [f"reduced and merged-file estimates differ in {k}: {reduced.get(k)!r} vs {merged.get(k)!r}" for k in keys if reduced.get(k) != merged.get(k)]
exact, rate, se = reduced["exact_of_quantity"], reduced["ep_rate"], reduced["stderr"]
z = (rate - exact) / se
print(f"reduced over {reduced['n_parts']} parts ({reduced['n_transitions']} transitions): EP rate {rate!r} +- {se!r} ({reduced['errors']}); "
      f"exact {exact} ({reduced['exact_comparison']}): {z:+.2f} standard errors; uncorrected {reduced['ep_rate_uncorrected']!r} +- {reduced['stderr_uncorrected']!r} "
      f"(exact sampled chain {reduced.get('exact_sampled_chain_ep_rate')})")
if abs(z) > 4:   # a Gaussian estimate leaves 4 standard errors with probability 6e-5
    bad.append(f"the reduced estimate is {z:+.2f} standard errors from the exact {exact}")
if not bad:
    print("the map-reduce estimate equals the merged file's one-process estimate bit for bit (" + ", ".join(keys) + ")")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
  [ -s "$RUN_DIR/report.html" ] || { echo "FAIL: the reduce step wrote no report"; exit 1; }
  echo "validate-slurm --trajectories $scale: PASS in $(( $(date +%s) - start )) s"
  exit 0
fi

# The simulation: small enough for 2 cores; 403 trajectories split 100/101/101/101, so shards 3 and 4 start
# at indices (201, 302) that are not multiples of the simulator's SIMD group of 4: the case that shows whether
# a trajectory's numbers depend on which other trajectories share its vector lanes.
export MODEL=driven-trap-2d SETTINGS="--set k=1 --set eps=0.3 --set mu=1 --set T=0.5"
export TRAJECTORIES=${TRAJECTORIES:-403} STEPS=${STEPS:-2000} DT=0.001 SAVE_EVERY=20 SEED=${SEED:-20261124} FORMAT=npy
export SHARDS=4 RUN_DIR="$work/run"
cd "$work"
ids=$(bash "$repo/deploy/slurm/submit-simulate.sh")
echo "submitted: $ids"
merge_id=${ids##* }
state=$(wait_job "$merge_id" 600)
echo "merge job $merge_id: $state"
sacct_note=$(ls "$work"/thermolearn-simulate-*.out 2>/dev/null | wc -l)
echo "array task logs: $sacct_note"
if [ "$state" != "COMPLETED" ]; then
  tail -n 5 "$work"/thermolearn-*.out 2>/dev/null || true
  echo "FAIL: the array or the merge did not complete"; exit 1
fi

# 1. The scheduler's part: the same four shards run here, one after another, merge to the same bytes.
mkdir -p "$work/local"
for k in $(seq 1 "$SHARDS"); do
  # shellcheck disable=SC2086
  $THERMOLEARN simulate --model "$MODEL" $SETTINGS --trajectories "$TRAJECTORIES" --steps "$STEPS" --dt "$DT" \
    --save-every "$SAVE_EVERY" --seed "$SEED" --shard "$k/$SHARDS" --out "$work/local/shard-$k.npy" >/dev/null 2>&1
done
$THERMOLEARN merge --out "$work/local/merged.npy" $(for k in $(seq 1 "$SHARDS"); do echo "$work/local/shard-$k.npy"; done) >/dev/null 2>&1
cmp "$RUN_DIR/merged.npy" "$work/local/merged.npy" \
  && echo "the Slurm array's merged output equals the same shards run and merged locally" \
  || { echo "FAIL: the Slurm run differs from the same shards run locally"; exit 1; }

# 2. The acceptance check: sharded and merged equals one process.
# shellcheck disable=SC2086
$THERMOLEARN simulate --model "$MODEL" $SETTINGS --trajectories "$TRAJECTORIES" --steps "$STEPS" --dt "$DT" \
  --save-every "$SAVE_EVERY" --seed "$SEED" --out "$work/single.npy" --energetics "$work/single.energetics.csv" \
  --json > "$work/single.json" 2>/dev/null
cmp "$RUN_DIR/merged.energetics.csv" "$work/single.energetics.csv" \
  && echo "merged energetics CSV equals the single-process run's byte for byte" \
  || { echo "FAIL: merged energetics differ from the single-process run"; exit 1; }
ls -l "$RUN_DIR"/merged.npy "$work/single.npy"
if cmp "$RUN_DIR/merged.npy" "$work/single.npy"; then
  echo "merged output of the 4-task array equals the single-process run byte for byte ($(stat -c %s "$work/single.npy") bytes)"
else
  python3 - "$RUN_DIR/merged.npy" "$work/single.npy" "$STEPS" "$SAVE_EVERY" <<'PY' || true
import struct, sys
def body(p):
    b = open(p, "rb").read(); n = struct.unpack("<H", b[8:10])[0]; return b[10 + n:], b[10:10 + n].decode()
a, header = body(sys.argv[1]); b, _ = body(sys.argv[2])
frames = int(sys.argv[3]) // int(sys.argv[4]) + 1
per = frames * 2 * 8
bad = [t for t in range(len(a) // per) if a[t * per:(t + 1) * per] != b[t * per:(t + 1) * per]]
print(f"trajectories that differ: {bad} (of {len(a) // per}; header {header.strip()})")
PY
  echo "FAIL: merged output differs from the single-process run"; exit 1
fi
# 3. Map-reduce estimate on the cluster against one process estimating the single-process file.
export ESTIMATE_OPTIONS="--method current --basis poly:2 --batches 40" CHUNK_MB=1 REPORT=1
ids=$(bash "$repo/deploy/slurm/submit-estimate.sh")
echo "submitted: $ids"
reduce_id=${ids##* }
state=$(wait_job "$reduce_id" 600)
echo "reduce job $reduce_id: $state"
if [ "$state" != "COMPLETED" ]; then
  tail -n 5 "$work"/thermolearn-map-*.out "$work"/thermolearn-reduce-*.out 2>/dev/null || true
  echo "FAIL: the map array or the reduce did not complete"; exit 1
fi
# shellcheck disable=SC2086
$THERMOLEARN estimate --in "$work/single.npy" $ESTIMATE_OPTIONS --json > "$work/single-estimate.json"
python3 - "$RUN_DIR/estimate.json" "$work/single-estimate.json" <<'PY'
import json, sys
reduced, single = (json.load(open(p)) for p in sys.argv[1:3])
keys = ["ep_rate", "stderr", "ep_rate_debiased", "ep_rate_uncorrected", "stderr_uncorrected", "n_frames", "n_transitions", "errors", "diffusion"]
bad = [k for k in keys if reduced.get(k) != single.get(k)]
print(f"reduced over {reduced['n_parts']} parts: EP rate {reduced['ep_rate']!r} +- {reduced['stderr']!r} ({reduced['errors']}); "
      f"single process: {single['ep_rate']!r} +- {single['stderr']!r}; exact {single.get('exact_ep_rate')}")
if bad:
    print("FAIL: reduced and single-process estimates differ in " + ", ".join(f"{k}: {reduced.get(k)!r} vs {single.get(k)!r}" for k in bad))
    sys.exit(1)
print("the map-reduce estimate equals the single-process estimate bit for bit (" + ", ".join(keys) + ")")
PY
[ -s "$RUN_DIR/report.html" ] || { echo "FAIL: the reduce step wrote no report"; exit 1; }
echo "validate-slurm: PASS in $(( $(date +%s) - start )) s"
