#!/usr/bin/env bash
# `repro run --executor slurm` against a real one-node Slurm (Debian's packages, started here and
# stopped at the end whatever happens):
#   executor.sh REPRO LOCAL_WORKSPACE
# LOCAL_WORKSPACE holds the quick profile trained locally; the same profile through Slurm must store
# the same bits. Then: a second run submits nothing, a job cancelled midway resumes to the numbers of
# a run never stopped, a study that fails cancels the studies that start from it and is named, and
# bad input or a broken cluster gets one line, with nothing stored lost.
set -eu -o pipefail
repro=$(realpath "$1"); local_workspace=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d); cluster=$root/cluster
# munged's socket path must stay under 108 bytes: a deep checkout's temporary folder may not.
[ ${#cluster} -lt 80 ] || { rm -rf "$root"; root=$(mktemp -d /tmp/repro-slurm.XXXXXX); cluster=$root/cluster; }
trap '"$here/cluster.sh" stop "$cluster" > /dev/null; rm -rf "$root"' EXIT
status=0; "$here/cluster.sh" start "$cluster" || status=$?
if [ $status = 77 ]; then echo "Slurm tests skipped: Slurm could not be installed (see the line above)"; exit 0; fi
[ $status = 0 ] || exit $status
. "$cluster/env"
workspace=$root/workspace
fail() { echo "FAIL: $*" >&2; exit 1; }
# A non-zero exit and one line on standard error with the given text in it (a usage error's
# pointer to --help aside).
expect_error() {  # TEXT COMMAND...
  local text=$1 out; shift
  if out=$("$@" 2>&1 >/dev/null); then fail "expected an error containing '$text': $*"; fi
  out=$(grep -v -e "^Usage: " -e "^  See 'repro " <<<"$out")
  [ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] || fail "expected one line, got: $out"
  grep -qF -- "$text" <<<"$out" || fail "expected '$text', got: $out"
}

# The quick profile through Slurm: the same bits as the local run, study by study (show --json:
# every metric, the curve, the sha256 of every checkpoint and file).
start=$(date +%s.%N)
"$repro" run --profile quick --workspace "$workspace" --executor slurm > "$root/slurm-run.log" 2>&1
echo "the quick profile through Slurm: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f s", b - a }')"
grep -q "exp01-medium-default: submitted as job [0-9]* (after job" "$root/slurm-run.log" || fail "no job waited for its inputs"
studies=$("$repro" list --profile quick | awk '{ print $1 }')
for study in $studies; do
  "$repro" show "$study" --profile quick --workspace "$local_workspace" --json > "$root/local.json"
  "$repro" show "$study" --profile quick --workspace "$workspace" --json > "$root/slurm.json"
  grep -q '"state" : "fresh"' "$root/slurm.json" || fail "$study is not fresh after the Slurm run"
  cmp -s "$root/local.json" "$root/slurm.json" || fail "$study: the Slurm run stored other bits than the local run"
done
echo "$(wc -w <<<"$studies") studies: the same bits through Slurm as locally"

# A second run submits nothing.
"$repro" run --profile quick --workspace "$workspace" --executor slurm > "$root/second.log" 2>&1
grep -q "Nothing to train" "$root/second.log" || fail "a second run submitted jobs"

# Studies of their own: a language model long enough to cancel midway, and one that diverges with
# a study that starts from it.
studies_dir=$root/studies; mkdir -p "$studies_dir"
cat > "$studies_dir/long.toml" <<'EOF'
kind = "language"
[model.vision_config]
hidden_size = 16
intermediate_size = 16
num_hidden_layers = 1
num_attention_heads = 1
patch_size = 16
[model.qformer_config]
hidden_size = 16
intermediate_size = 16
num_hidden_layers = 1
num_attention_heads = 1
[model.text_config]
hidden_size = 32
intermediate_size = 64
num_hidden_layers = 2
num_attention_heads = 2
[model]
num_query_tokens = 2
[train]
threads = 1
epochs = 50
max_steps = 600
micro_batch = 4
accumulation = 1
learning_rate = 1e-3
checkpoint_every = 100
eval_samples = 4
[data]
pretraining_scenes = 60
finetune_samples = 20
benchmark_images_per_subtask = 1
vocabulary_size = 300
EOF
sed -e 's/max_steps = 600/max_steps = 20/' -e 's/learning_rate = 1e-3/learning_rate = 1e30/' "$studies_dir/long.toml" > "$studies_dir/diverges.toml"
sed -e 's/max_steps = 600/max_steps = 20/' "$studies_dir/long.toml" > "$studies_dir/after.toml"
sed -i '1i init = "diverges"' "$studies_dir/after.toml"
sed -e 's/threads = 1/threads = 3/' "$studies_dir/long.toml" > "$root/wide.toml"

# A job cancelled midway resumes from its last saved state to the numbers of a run never stopped.
own=$root/own-workspace
"$repro" run long --studies "$studies_dir" --workspace "$own" --executor slurm --detach > "$root/detach.log" 2>&1
grep -q "1 job on Slurm" "$root/detach.log" || fail "--detach did not say what it submitted"
folder=$(echo "$own"/runs/long-*)
run_file=$folder/run.json job=$(cat "$folder/slurm-job")
for _ in $(seq 600); do
  steps=$(grep -o '"step":[0-9]*' "$run_file" 2>/dev/null | wc -l || true)
  [ "$steps" -ge 100 ] && break; sleep 0.1
done
[ "$steps" -ge 100 ] || fail "the job never reached 100 steps"
"$repro" status --studies "$studies_dir" --workspace "$own" > "$root/status.log"
grep -q "long .*Slurm job $job: running" "$root/status.log" || fail "status does not show the running job: $(cat "$root/status.log")"
scancel "$job"
for _ in $(seq 100); do [ -z "$(squeue -h -j "$job" -t PENDING,RUNNING,COMPLETING 2>/dev/null)" ] && break; sleep 0.1; done
"$repro" status --studies "$studies_dir" --workspace "$own" > "$root/status.log"
grep -q "long .*interrupted" "$root/status.log" || fail "a cancelled job's study is not interrupted: $(cat "$root/status.log")"
"$repro" run long --studies "$studies_dir" --workspace "$own" --executor slurm > "$root/resume.log" 2>&1
grep -q "resuming the interrupted run" "$root/resume.log" || fail "the resubmitted job did not resume"
"$repro" run long --studies "$studies_dir" --workspace "$root/whole" > /dev/null 2>&1
"$repro" show long --studies "$studies_dir" --workspace "$own" --json > "$root/resumed.json"
"$repro" show long --studies "$studies_dir" --workspace "$root/whole" --json > "$root/whole.json"
cmp -s "$root/resumed.json" "$root/whole.json" || fail "the resumed job stored other bits than a run never stopped"
echo "a job cancelled after $steps steps resumed to the bits of a run never stopped"

# A study that fails cancels the studies that start from it, and repro run names both.
if "$repro" run after --studies "$studies_dir" --workspace "$own" --executor slurm > "$root/fail.log" 2>&1; then
  fail "a failing study's run exited 0"
fi
grep -q "error: diverges: job [0-9]* ended without a finished run (Slurm: failed.*the training loss became" "$root/fail.log" || fail "the failure is not named: $(tail -3 "$root/fail.log")"
grep -q "cancelled, as they start from it: after" "$root/fail.log" || fail "the dependent study was not cancelled"
grep -q "2 of 2 studies failed: diverges, after" "$root/fail.log" || fail "repro run does not end naming them: $(tail -1 "$root/fail.log")"

# Bad input and broken clusters: one line each, naming what is wrong (on a study with no inputs,
# forced, so that nothing else is logged).
force=(run long --force --studies "$studies_dir" --workspace "$own" --executor slurm)
expect_error "squeue is not on the PATH" env PATH=/nonexistent "$repro" "${force[@]}"
expect_error "no partition nope on this cluster (partitions: debug)" "$repro" "${force[@]}" --partition nope
expect_error "Invalid --time specification" "$repro" "${force[@]}" --time bogus
sed -e 's/^SlurmctldPort=.*/SlurmctldPort=1/' "$SLURM_CONF" > "$root/down.conf"; echo "MessageTimeout=1" >> "$root/down.conf"
expect_error "Unable to contact slurm controller" env SLURM_CONF="$root/down.conf" "$repro" "${force[@]}"
cp "$root/wide.toml" "$studies_dir/"
expect_error "wide trains with 3 threads (train.threads), but the nodes of partition debug have at most 2 CPUs" \
  "$repro" run wide --studies "$studies_dir" --workspace "$own" --executor slurm
rm "$studies_dir/wide.toml"
expect_error "does not exist on $(hostname), though repro run made it before submitting the job" \
  "$repro" worker long --studies "$studies_dir" --workspace "$root/nowhere" --submitted
expect_error "--partition, --time, --sbatch-args and --detach go with --executor slurm" "$repro" "${force[@]:0:7}" --detach
# Nothing stored was lost, and none of them submitted a job.
"$repro" run long --studies "$studies_dir" --workspace "$own" --executor slurm > "$root/after-errors.log" 2>&1
grep -q "Nothing to train" "$root/after-errors.log" || fail "an error case lost a stored result"
echo "Slurm: bad input and a broken cluster each gave one line; nothing stored was lost"
