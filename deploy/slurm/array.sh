#!/usr/bin/env bash
# maskpipe on a Slurm cluster: an array of PARTS workers, each making its share of the pairs
# into one output, then the merge once every worker has finished (afterok).
#
#   PARTS=16 OUT=/shared/maskpipe/casia bash deploy/slurm/array.sh       # submits both jobs
#
# Inputs can be local paths every node sees, http(s) URLs or hf://datasets/... files; OUT a
# folder on a shared volume (every node sees the same path) or hf://datasets/{owner}/{repo}
# (HF_TOKEN in the environment: sbatch passes it on with --export=ALL).
#
# The photos as CASIA-WebFace ships them, a tar.gz, are read in order: every task downloads all
# of it and keeps its own share (16 tasks on a 4 GB tar.gz download 64 GB). A zip of the same
# photos is read by Range requests, each task only its own members: re-pack it once (see
# docs/scale.md), or put the tar.gz on the shared volume. The masks ship as a zip, whose listing
# also gives the class list when the photos are a remote tar.
#
# Each array task runs this file with "worker", the merge job with "merge". A task that is
# requeued (preemption, node failure, scontrol requeue) goes on from its complete shards:
# workers run with --resume, which on a fresh output simply starts.
#
# Logs: each task's in $LOGS/maskpipe-$PIPELINE-{array}_{task}.out (a requeued task appends
# to its own; the submit folder unless LOGS says), the merge's beside them. The command prints
# the job ids and how to watch them: squeue -j ARRAY,MERGE; sacct -j ARRAY (where accounting
# is on); a finished partition's report is $OUT/partitions/{I}of{PARTS}/report.json, and each
# log ends with that task's summary. If a task fails, Slurm cancels the merge (it could never
# run): requeue the task (scontrol requeue ARRAY_I), then run "bash deploy/slurm/array.sh merge"
# with the same OUT once it is done.
set -euo pipefail

PIPELINE=${PIPELINE:-casia}
ORIGINALS=${ORIGINALS:-https://example.org/CASIA-WebFace.tar.gz}
MASKS=${MASKS:-https://example.org/CASIA-WebFace_masks.zip}
OUT=${OUT:-/shared/maskpipe/casia}
PARTS=${PARTS:-16}
# Cores and memory a worker asks for: maskpipe sizes its thread pool and images in flight from
# the cores; a CASIA worker stays under 1 GB, a CelebA one under 2 GB.
CPUS=${CPUS:-8}
MEM=${MEM:-4G}
LOGS=${LOGS:-$PWD}
EXTRA=${EXTRA:-}

# The maskpipe command, on a path every node sees: this checkout's (npm ci builds dist/), else
# an `npm install -g` maskpipe on PATH. Found from where this file is, so only when it is run
# from its own place (submit, or merge by hand): the jobs run a copy that Slurm keeps in its
# spool folder and take MASKPIPE from the submit step.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${MASKPIPE:-}" ] && [ -f "$here/../../dist/cli/bin.js" ]; then
  MASKPIPE="node $(cd "$here/../.." && pwd)/dist/cli/bin.js"
elif [ -z "${MASKPIPE:-}" ] && command -v maskpipe >/dev/null; then
  MASKPIPE=maskpipe
fi

case "${1:-submit}" in
  submit)
    : "${MASKPIPE:?no maskpipe found: npm ci in this checkout, npm install -g maskpipe, or MASKPIPE=\"node /path/to/dist/cli/bin.js\"}"
    export MASKPIPE PIPELINE ORIGINALS MASKS OUT PARTS EXTRA
    script=$here/array.sh
    mkdir -p "$LOGS"
    name="maskpipe-$PIPELINE"
    array=$(sbatch --parsable --array="0-$((PARTS - 1))" --cpus-per-task="$CPUS" --mem="$MEM" \
      --requeue --open-mode=append --output="$LOGS/%x-%A_%a.out" --job-name="$name" \
      --export=ALL "$script" worker)
    # afterok: only when every task exits 0; a failed task cancels the merge instead of leaving
    # it pending for ever (DependencyNeverSatisfied).
    merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
      --cpus-per-task=1 --mem=2G --output="$LOGS/%x-%j.out" --job-name="$name-merge" \
      --export=ALL "$script" merge)
    echo "submitted: array $array ($PARTS tasks), merge $merge (runs when every task is done)"
    echo "logs:      $LOGS/$name-${array}_{0..$((PARTS - 1))}.out, $LOGS/$name-merge-$merge.out"
    echo "watch:     squeue -j $array,$merge    (finished tasks: sacct -j $array)"
    echo "reports:   $OUT/partitions/{I}of$PARTS/report.json as partitions finish, then $OUT/report.json"
    ;;
  worker)
    : "${MASKPIPE:?set by the submit step (or give MASKPIPE=\"node /path/to/dist/cli/bin.js\")}"
    # --partition N takes this task's index from SLURM_ARRAY_TASK_ID (counted from
    # SLURM_ARRAY_TASK_MIN). $EXTRA is word-split on purpose: more flags, e.g. "--holdout 5%".
    # shellcheck disable=SC2086
    exec $MASKPIPE run "$PIPELINE" --originals "$ORIGINALS" --masks "$MASKS" --out "$OUT" \
      --partition "$PARTS" --resume --quiet $EXTRA
    ;;
  merge)
    : "${MASKPIPE:?set by the submit step}"
    # shellcheck disable=SC2086
    exec $MASKPIPE merge "$OUT"
    ;;
  *)
    echo "usage: $0 [submit|worker|merge]" >&2
    exit 2
    ;;
esac
