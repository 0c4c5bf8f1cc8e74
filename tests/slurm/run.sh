#!/usr/bin/env bash
# SLURM integration test: the workflow on a real single-node SLURM cluster on localhost.
#
#   sudo tests/slurm/run.sh          # root: installs/starts SLURM + MUNGE; ~5 min on 2 cores
#
# Steps (each in a fresh copy of the repository, as a clone would have it):
#   1. install SLURM/MUNGE if missing, start the cluster (tests/slurm/cluster.sh)
#   2. `snakemake prefetch` without network (unshare -n): nothing to download, must succeed
#   3. reference run with the local executor
#   4. the same targets with --profile profiles/slurm (+ tests/slurm/profile overlay);
#      Snakemake is SIGKILLed after $KILL_AFTER finished jobs, its leftover SLURM jobs are
#      cancelled, then `--unlock` and `--rerun-incomplete` finish the run: outputs finished
#      before the kill must keep their mtimes
#   5. every non-local job went through sbatch: GPU rules (embed, heads_knn, heads_train,
#      heads_train_coarse) -> partition gpu with a GPU request, everything else -> partition
#      cpu (squeue records polled during the runs)
#   6. results of 3 and 4 identical (arrays exactly, tables without timing columns)
#   7. a job that fails at run time (a features file with NaN features) fails the run, and
#      Snakemake's output names the job's log files
#   8. sharded embedding (issue 28): digits through a tiny random-init timm model, once by one
#      embed job and once as `shards: 4` (4 embed_shard jobs, partition gpu, + gather_shards):
#      the two embeddings.npz byte-identical
#   9. group jobs (profiles/slurm group-components): did their member jobs overlap in time?
#      (snakemake-executor-plugin-slurm issue 469; measured from 4's benchmark files, printed)
#  10. stop the cluster (EMBTREE_SLURM_KEEP_CLUSTER=1 leaves it running)
# Independent steps overlap (each in its own directory, with its own log): 2 and 3 run in the
# background from the start, while 1 installs and starts the cluster; 7 and 8 run in the
# background once the cluster is up, beside 4. Their results are checked where the list above has them.
#
# Knobs (environment):
#   EMBTREE_SLURM_REDUCE   overlay deep-merged into config/config.yaml for all runs
#                          (default tests/slurm/reduce.yaml: every rule of `all`, 44 jobs;
#                          "none" runs the default config's full target set, ~150 jobs: give
#                          it a larger EMBTREE_SLURM_TIMEOUT)
#   EMBTREE_SLURM_TARGETS  targets (default: empty = rule all)
#   EMBTREE_SLURM_TIMEOUT  total time budget in seconds (default 1000: a failsafe; the test takes ~5 min)
#   EMBTREE_SLURM_KILL_AFTER  finished jobs before Snakemake is killed (default 5)
#   EMBTREE_SLURM_KEEP=1   keep the temp directory (kept anyway on failure)
#   EMBTREE_SLURM_CPUS     CPUs the test node advertises (cluster.sh; default 2 x cores, >= 4)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SNAKEMAKE=${SNAKEMAKE:-$REPO/.venv/bin/snakemake}
PY=${PYTHON:-$REPO/.venv/bin/python}
REDUCE=${EMBTREE_SLURM_REDUCE:-$HERE/reduce.yaml}
read -r -a TARGETS <<<"${EMBTREE_SLURM_TARGETS:-}"
BUDGET=${EMBTREE_SLURM_TIMEOUT:-1000}
KILL_AFTER=${EMBTREE_SLURM_KILL_AFTER:-5}
START=$(date +%s)
DEADLINE=$((START + BUDGET))
SQUEUE_FORMAT='JobID:|,Partition:|,tres-per-job:|,tres-per-node:|,Name:|,State:|,WorkDir:|,Comment:|'


step() { echo; echo "=== [slurm test $(($(date +%s) - START))s] $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
remaining() {
    local r=$((DEADLINE - $(date +%s)))
    [ "$r" -gt 0 ] || die "time budget of ${BUDGET}s used up"
    echo "$r"
}
timed() { timeout --kill-after=20 "$(remaining)" "$@"; }  # bounded by the total budget

WORK=$(mktemp -d /tmp/embtree-slurm-test.XXXXXX)
POLLER=""
SMK_PID=""
OK=0
declare -A BG_PID=() BG_START=()  # background steps: name -> pid of their `timeout`, start time
cleanup() {
    set +e
    [ -n "$SMK_PID" ] && kill -9 "$SMK_PID" 2>/dev/null
    for name in "${!BG_PID[@]}"; do kill "${BG_PID[$name]}" 2>/dev/null; done  # timeout passes it on
    for name in "${!BG_PID[@]}"; do wait "${BG_PID[$name]}" 2>/dev/null; done
    [ -n "$POLLER" ] && kill "$POLLER" 2>/dev/null
    # SLURM jobs of this test still queued or running (a failure mid-run): cancel them, or
    # their processes outlive the stopped cluster.
    local ids
    ids=$(squeue -h -o '%i %Z' 2>/dev/null | awk -v w="$WORK/" 'index($2 "/", w) == 1 {print $1}')
    if [ -n "$ids" ]; then
        echo "cancelling leftover SLURM jobs:" $ids >&2
        scancel $ids
        for _ in $(seq 30); do
            [ -z "$(squeue -h -j "$(echo $ids | tr ' ' ,)" -t PENDING,RUNNING,CONFIGURING,COMPLETING -o %i 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    if [ "${EMBTREE_SLURM_KEEP_CLUSTER:-0}" != 1 ]; then bash "$HERE/cluster.sh" stop; fi
    if [ "$OK" = 1 ] && [ "${EMBTREE_SLURM_KEEP:-0}" != 1 ]; then
        rm -rf "$WORK"
    else
        echo "slurm test: work directory kept: $WORK" >&2
    fi
}
trap cleanup EXIT

fresh_copy() {  # the files a clone has: tracked + untracked-but-not-ignored
    mkdir -p "$1"
    if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then  # (index entries deleted since: skipped)
        git -C "$REPO" ls-files -z --cached --others --exclude-standard |
            (cd "$REPO" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$1"
    else
        tar -C "$REPO" --exclude=.venv --exclude=.git --exclude=./results --exclude=./logs \
            --exclude=.snakemake --exclude=resources/cache -cf - . |
            tar -xf - -C "$1"
    fi
}

bg_start() {  # bg_start NAME DIR CMD...: CMD in DIR in the background, within the budget; log $WORK/NAME.log
    local name=$1 dir=$2 limit
    shift 2
    limit=$(remaining)
    (cd "$dir" && exec timeout --kill-after=20 "$limit" "$@") >"$WORK/$name.log" 2>&1 &
    BG_PID[$name]=$!
    BG_START[$name]=$(date +%s)
    echo "started in the background: $name (log: $WORK/$name.log)"
}
bg_wait() {  # bg_wait NAME: its exit status; says how long it ran (until the last write to its log)
    local name=$1 rc=0
    wait "${BG_PID[$name]}" || rc=$?
    unset "BG_PID[$name]"
    echo "($name ran $(($(stat -c %Y "$WORK/$name.log") - BG_START[$name]))s, exit status $rc)"
    return "$rc"
}

# ------------------------------------------------------------------------------------------
step "work copies; in the background: prefetch offline, local reference run"
[ "$(id -u)" = 0 ] || die "needs root (starts munged, slurmctld, slurmd)"
echo "work directory: $WORK; config overlay: $REDUCE; targets: ${TARGETS[*]:-all}"
fresh_copy "$WORK/local"
fresh_copy "$WORK/slurm"
fresh_copy "$WORK/fail"
fresh_copy "$WORK/shards"
"$PY" "$HERE/slurmtest.py" merge-yaml "$REPO/profiles/slurm/config.yaml" "$HERE/profile/config.yaml" \
    "$WORK/profile/config.yaml"
# A --configfile replaces the embedded default config: give the full, reduced config.
CONFIG_ARGS=()
if [ "$REDUCE" != none ]; then
    "$PY" "$HERE/slurmtest.py" merge-yaml "$REPO/config/config.yaml" "$REDUCE" "$WORK/config.yaml"
    CONFIG_ARGS=(--configfile "$WORK/config.yaml")
fi
# Neither needs the cluster: both overlap its installation and start.
if unshare -n true 2>/dev/null; then
    bg_start prefetch "$WORK/slurm" unshare -n "$SNAKEMAKE" prefetch "${CONFIG_ARGS[@]}"
else
    echo "unshare -n unavailable: prefetch runs with network"
    bg_start prefetch "$WORK/slurm" "$SNAKEMAKE" prefetch "${CONFIG_ARGS[@]}"
fi
bg_start local "$WORK/local" "$SNAKEMAKE" "${TARGETS[@]}" --cores 2 "${CONFIG_ARGS[@]}"

# ------------------------------------------------------------------------------------------
step "cluster: install + start"
bash "$HERE/install.sh"
bash "$HERE/cluster.sh" start

(while :; do squeue -t all -h -O "$SQUEUE_FORMAT" 2>/dev/null; sleep 2; done >>"$WORK/squeue.log") &
POLLER=$!

# The fault-handling run (step 7), in its own copy, beside the main SLURM run.
# Valid at DAG time (headers, labels and class names are all the cheap checks read);
# invalid at job time: NaN in the features, which only the import job reads.
(cd "$WORK/fail" && "$PY" - <<'EOF'
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 4)).astype(np.float32)
X[3, 1] = np.nan
np.savez("bad_features.npz", features=X, labels=np.repeat([0, 1], 20), class_names=np.array(["a", "b"]))
EOF
)
cat >"$WORK/fail/bad.yaml" <<'EOF'
datasets:
  bad:
    type: features
    path: bad_features.npz
    encoder_name: broken
EOF
bg_start fail "$WORK/fail" "$SNAKEMAKE" results/bad/broken/embeddings.npz --profile "$WORK/profile" \
    --configfile bad.yaml

# The sharded embedding run (step 8), in its own copy, beside the main SLURM run. test_vit: timm's
# smallest ViT, random weights (offline); 1,797 images in batches of 64 = 29 batches -> 8+7+7+7.
cat >"$WORK/shards/shards.yaml" <<'EOF'
datasets:
  digits:
    type: digits
    encoders: [tiny]
  digits-4:
    type: digits
    encoders: [tiny]
    shards: 4
encoders:
  tiny: {type: timm, model: test_vit, pretrained: false, image_size: 32, batch_size: 64, num_workers: 0, seed: 0}
EOF
bg_start shards "$WORK/shards" "$SNAKEMAKE" results/digits/tiny/embeddings.npz results/digits-4/tiny/embeddings.npz \
    --profile "$WORK/profile" --configfile shards.yaml

# ------------------------------------------------------------------------------------------
step "prefetch without network (default config: nothing to download)"
bg_wait prefetch || { tail -n 30 "$WORK/prefetch.log"; die "snakemake prefetch failed offline"; }
test -s "$WORK/slurm/resources/cache/prefetch.json" || die "prefetch wrote no manifest"
# The manifest lives in the cache, outside results/: the comparison below does not see it.

# ------------------------------------------------------------------------------------------
step "SLURM run, killed after $KILL_AFTER finished jobs"
cd "$WORK/slurm"
SMK=("$SNAKEMAKE" "${TARGETS[@]}" --profile "$WORK/profile" "${CONFIG_ARGS[@]}")
: >"$WORK/slurm1.log"
"${SMK[@]}" >>"$WORK/slurm1.log" 2>&1 &
SMK_PID=$!
while kill -0 "$SMK_PID" 2>/dev/null; do
    [ "$(grep -c '^Finished jobid' "$WORK/slurm1.log" || true)" -ge "$KILL_AFTER" ] && break
    [ "$(date +%s)" -lt "$DEADLINE" ] || die "time budget used up waiting for $KILL_AFTER finished jobs"
    sleep 0.5
done
kill -0 "$SMK_PID" 2>/dev/null ||
    { tail -n 20 "$WORK/slurm1.log"; die "Snakemake ended before $KILL_AFTER jobs finished: nothing to kill"; }
kill -9 "$SMK_PID"
wait "$SMK_PID" 2>/dev/null || true
SMK_PID=""
RUN_ID=$(sed -n 's/^SLURM run ID: //p' "$WORK/slurm1.log" | head -n 1)
echo "killed Snakemake (SLURM run $RUN_ID) after $(grep -c '^Finished jobid' "$WORK/slurm1.log") finished jobs"
# A dead Snakemake leaves its SLURM jobs behind: cancel them, as a user would.
scancel --name "$RUN_ID" || true
for _ in $(seq 120); do
    [ -z "$(squeue -h --name "$RUN_ID" -t PENDING,RUNNING,CONFIGURING,COMPLETING -o %i)" ] && break
    sleep 0.5
done
"$PY" "$HERE/slurmtest.py" snapshot "$WORK/slurm" "$WORK/finished_before_kill.json"

step "SLURM rerun: --unlock, then --rerun-incomplete"
timed "${SMK[@]}" --unlock >"$WORK/slurm_unlock.log" 2>&1 || { cat "$WORK/slurm_unlock.log"; die "--unlock failed"; }
timed "${SMK[@]}" --rerun-incomplete >"$WORK/slurm2.log" 2>&1 ||
    { tail -n 60 "$WORK/slurm2.log"; die "SLURM rerun failed (log: $WORK/slurm2.log)"; }
grep -E "steps \(100%\) done|Nothing to be done" "$WORK/slurm2.log" | tail -n 1
"$PY" "$HERE/slurmtest.py" check-mtimes "$WORK/finished_before_kill.json" "$WORK/slurm"

# ------------------------------------------------------------------------------------------
step "every job went through sbatch, GPU rules to partition gpu"
sleep 2.5  # one more squeue poll after the last job
# (Snakemake was SIGKILLed while it submitted slurm1.log's last batch: some of its jobs may
# never have reached sbatch; the rerun ran them.)
"$PY" "$HERE/slurmtest.py" check-jobs --log "$WORK/slurm1.log" --log "$WORK/slurm2.log" \
    --killed-log "$WORK/slurm1.log" --squeue "$WORK/squeue.log" --workdir "$WORK/slurm" \
    --gpu-rules embed embed_shard heads_knn heads_train heads_train_coarse

step "reference run, local executor (ran in the background)"
bg_wait local || { tail -n 40 "$WORK/local.log"; die "local run failed (log: $WORK/local.log)"; }
grep -E "steps \(100%\) done|Nothing to be done" "$WORK/local.log" | tail -n 1

step "results: SLURM run == local run"
"$PY" "$HERE/slurmtest.py" compare "$WORK/local/results" "$WORK/slurm/results"

# ------------------------------------------------------------------------------------------
step "a failing SLURM job fails the run and names its log (ran in the background)"
cd "$WORK/fail"
rc=0
bg_wait fail || rc=$?
[ "$rc" != 0 ] || die "the run with a failing job exited 0"
[ "$rc" != 124 ] && [ "$rc" != 137 ] || die "the run with a failing job timed out"
grep -q "has been submitted with SLURM jobid" "$WORK/fail.log" || die "the failing job never reached sbatch"
SLURM_LOG=$(sed -n 's/.*has been submitted with SLURM jobid [0-9]* (log: \(.*\))\./\1/p' "$WORK/fail.log" | head -n 1)
grep -qF "logs/bad/broken/import_features.log" "$WORK/fail.log" || die "the error message does not name the rule's log"
grep -qF "$SLURM_LOG" <(sed -n '/^Error in rule import_features/,$p' "$WORK/fail.log") ||
    die "the error report does not name the SLURM log $SLURM_LOG"
test -s "$SLURM_LOG" || die "SLURM log $SLURM_LOG missing"
grep -q "Error" "logs/bad/broken/import_features.log" || die "the rule's log holds no error"
echo "OK: exit code $rc; error report names logs/bad/broken/import_features.log and $SLURM_LOG"
grep -m 1 -E "^[A-Za-z_.]*(Error|Exception):" "logs/bad/broken/import_features.log" | cut -c1-200 || true

# ------------------------------------------------------------------------------------------
step "sharded embedding: 4 shards on partition gpu == one job (ran in the background)"
bg_wait shards || { tail -n 40 "$WORK/shards.log"; die "the sharded embedding run failed (log: $WORK/shards.log)"; }
sleep 2.5  # one more squeue poll after its last job
"$PY" "$HERE/slurmtest.py" check-jobs --log "$WORK/shards.log" --squeue "$WORK/squeue.log" --workdir "$WORK/shards" \
    --gpu-rules embed embed_shard
[ "$(grep -c '^rule embed_shard:' "$WORK/shards.log")" = 4 ] || die "expected 4 embed_shard jobs in $WORK/shards.log"
"$PY" "$HERE/slurmtest.py" same-embeddings "$WORK/shards/results/digits/tiny/embeddings.npz" \
    "$WORK/shards/results/digits-4/tiny/embeddings.npz"

# ------------------------------------------------------------------------------------------
step "group jobs: member jobs overlapping in time (plugin issue 469), from the SLURM run's benchmarks"
"$PY" "$HERE/slurmtest.py" group-overlap "$WORK/slurm" --jobcomp "${EMBTREE_SLURM_DIR:-/tmp/embtree-slurm}/log/jobcomp.log"

# ------------------------------------------------------------------------------------------
step "done"
OK=1
