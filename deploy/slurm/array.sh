#!/usr/bin/env bash
# maskpipe on a Slurm cluster: an array of PARTS workers, each making its share of the pairs
# into one output, then the merge once every worker has finished (afterok).
#
#   PARTS=16 OUT=/shared/maskpipe/casia bash deploy/slurm/array.sh       # submits both jobs
#
# Inputs can be local paths every node sees, http(s) URLs or hf://datasets/... files; OUT a
# folder on a shared volume (every node sees the same path) or hf://datasets/{owner}/{repo}
# (HF_TOKEN in the environment: sbatch passes it on with --export=ALL).
# Each array task runs this file with "worker", the merge job with "merge". A task that is
# requeued (preemption, node failure) goes on from its complete shards: workers run with
# --resume, which on a fresh output simply starts.
set -euo pipefail

PIPELINE=${PIPELINE:-casia}
ORIGINALS=${ORIGINALS:-https://example.org/CASIA-WebFace.tar.gz}
MASKS=${MASKS:-https://example.org/CASIA-WebFace_masks.zip}
OUT=${OUT:-/shared/maskpipe/casia}
PARTS=${PARTS:-16}
# Cores a worker uses: maskpipe sizes its thread pool and images in flight from them.
CPUS=${CPUS:-8}
EXTRA=${EXTRA:-}

case "${1:-submit}" in
  submit)
    # This checkout's command (npm ci builds dist/), on a path every node sees. Found here, at
    # submit time: the jobs run a copy of this file that Slurm keeps in its spool folder.
    checkout=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    export MASKPIPE=${MASKPIPE:-node $checkout/dist/cli/bin.js}
    export PIPELINE ORIGINALS MASKS OUT PARTS EXTRA
    script=$checkout/deploy/slurm/array.sh

    array=$(sbatch --parsable --array="0-$((PARTS - 1))" --cpus-per-task="$CPUS" --mem=4G \
      --requeue --job-name="maskpipe-$PIPELINE" --export=ALL "$script" worker)
    sbatch --dependency="afterok:$array" --cpus-per-task=1 --mem=2G \
      --job-name="maskpipe-$PIPELINE-merge" --export=ALL "$script" merge
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
