#!/usr/bin/env bash
# Validation of the Slurm templates in deploy/slurm/ on a one-node cluster started here: installs Debian's
# slurm-wlm and munge if missing, starts munged, slurmctld and slurmd with a private config, key, socket and
# ports in a temporary folder (nothing under /etc is changed), submits a 4-task simulate array and a merge
# that depends on it (deploy/slurm/submit-simulate.sh), waits, and requires the merged file to equal a
# single-process run of the same simulation byte for byte (cmp), and the merged energetics CSV to equal that
# run's. Then the map-reduce estimate (deploy/slurm/submit-estimate.sh: estimate-map.sbatch per shard, then
# estimate-reduce.sbatch afterok) on the same shards, which must equal `estimate` of the single-process file bit for
# bit (40 batches: the 4 shards' boundaries fall on batch boundaries). Prints its run time. Needs root.
# Usage: bash scripts/validate-slurm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$(date +%s)

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
for _ in $(seq 600); do
  state=$(scontrol show job "$merge_id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
  sleep 1
done
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
for _ in $(seq 600); do
  state=$(scontrol show job "$reduce_id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
  sleep 1
done
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
