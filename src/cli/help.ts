export const MAIN_HELP = `maskpipe: put the CelebA+masks / CASIA-WebFace+masks mask PNGs on their photos
and write the result as WebDataset shards (or the reference scripts' folder tree).

Usage:
  maskpipe run <pipeline> [options]   run a pipeline (see maskpipe run --help)
  maskpipe verify <output> [--decode] check an output against its index and report
                  [--inputs]         ... and samples made again from the run's inputs
  maskpipe preview <output> [--out F] a contact sheet of an output's samples
  maskpipe merge <output>             join the partitions of a run (--partition I/N) into one
  maskpipe pairs <output> --split S   face verification pairs of a split (pairs --help)
  maskpipe --version                  print the version
  maskpipe --help                     this text

<pipeline> is a shipped one by name (celeba, casia, sample) or the path of a pipeline file.

Exit codes: 0 done (output complete), 1 the run failed, 2 bad options, 3 finished but the
output is incomplete (nothing written, failed pairs over --max-failed, masks not matching the
photos), 130 interrupted.
`;

export const RUN_HELP = `Usage: maskpipe run <pipeline> [options]

<pipeline>: celeba, casia or sample (shipped with maskpipe), or the path of a pipeline file.
Flags override the pipeline's fields.

Inputs and output:
  --originals SRC        photos: folder, .zip, .tar, .tar.gz/.tgz, .7z (a .7z, a volume .7z.001
                         or the folder of the volumes; local only), or an http(s)/hf:// URL
  --masks SRC            mask PNGs: the same kinds
  --7z PATH              the 7-Zip that reads 7z inputs (default MASKPIPE_7Z, else the official
                         7-Zip 26 build bundled with maskpipe)
  --out DST              output folder (shards, index.json, report.json), or a Hub dataset
                         repo hf://datasets/{owner}/{repo}[@{branch}] (created if missing)
  --layout L             webdataset (default) | folder (reference scripts' tree)

Images:
  --format F             jpeg (default) | png | webp
  --quality Q            1-100, default 95 (jpeg output equals OpenCV's byte for byte)
  --optimize-coding      optimised JPEG Huffman tables: 6-9% smaller, slower, not reference-identical
  --concurrency N        images in flight, default: twice the number of cores
  --overlay-workers N    processes that decode, blend and encode, default: the cores this
                         process may use (1: in this process, the default under 500 pairs);
                         the same bytes whatever N
  --max-pixels N         largest image decoded, default 100000000
  --on-error E           skip (default: record in errors.jsonl, go on) | fail (stop the run)

Shards and join:
  --shard-max-count N    samples per shard, default 10000
  --shard-max-bytes B    bytes per shard, default 1GB (units: B, KB, MB, GB, KiB, MiB, GiB)
  --dali-index           write X.idx beside each shard X.tar: NVIDIA DALI's wds2idx index
  --join-memory B        memory for out-of-order members when both inputs are tar, default 512MB

Remote inputs (http:// and https:// URLs):
  --header 'Name: value' extra request header, repeatable (e.g. Authorization); never logged
  --http-retries N       tries after the first on connection errors, timeouts, 429 and 5xx (default 5)
  --http-timeout S       seconds to wait for headers or the next body chunk (default 60)
  --hf-token TOKEN       for hf://datasets/{owner}/{repo}[@{rev}]/{path} inputs (default: HF_TOKEN);
                         HF_ENDPOINT points at a mirror or a local server

Publishing to the Hub (--out hf://datasets/...; token: --hf-token or HF_TOKEN, write access):
  --hub-url URL          the Hub or a mirror (default HF_ENDPOINT or https://huggingface.co)
  --private              create the repo private
  --hub-buffer N         complete shards waiting for upload, 1-50, default 2; they wait as
                         temporary files (disk: about (N + 1) x shard size, 500MB by default on
                         the Hub), so memory does not follow the shard size
  --hub-spool DIR        where they wait (default: the OS's temporary folder)
  --xet                  upload through Xet instead of plain LFS (more CPU)
  A repo holding shards of this name needs --overwrite (replace them; unchanged shards are not
  sent again) or --resume (download them and skip their samples).

Output folder (an output never mixes two runs):
  --overwrite            the output holds an earlier run of this name: remove exactly its files
                         (shards, .partial, index.json, report.json, errors.jsonl, README.md,
                         run.json; with --layout folder its images) and start again
  --resume               go on from an interrupted run in --out: keep complete shards, skip
                         their samples, end with the same bytes as an uninterrupted run; refused
                         when the inputs or options differ from that run's (run.json)
  Without either, an output that holds such files stops the run before any work.

Labels and splits ({key}.cls, classes.txt, identity in the json; see docs/cli.md):
  --labels L             folder (identity = the photo's folder: casia) | annotations (CelebA's
                         files: celeba) | none; default from the pipeline
  --annotations SRC      a CelebA folder holding Anno/ and Eval/ (or a zip, tar or 7z of them):
                         identities, official splits, attributes, boxes and landmarks
  --identities F, --partitions F, --attributes F, --bboxes F, --landmarks F
                         one CelebA annotation file each (path or URL), over --annotations'
  --classes FILE         the class list to use: one identity a line, line n is class n
  --holdout P%|F         hold out that share of identities as a test split (CASIA has none):
                         a percent (5%) or a fraction below 1 (0.05, the same); a bare 5 is
                         refused, not read as 5%
  --strict-labels        a photo missing from an annotation file fails instead of going on
                         with cls -1

Paired samples and mixes (see docs/cli.md):
  --with original,mask   each sample also carries {key}.orig.jpg (the photo's bytes as in the
                         archive) and/or {key}.mask.png (the mask's alpha, one channel)
  --masked P%            the masked photo for P% of samples (0%-100%, by a hash of the key: the
                         same keys on every run and partition), the unmasked photo for the rest;
                         each json says masked: true|false
  --keep-unmasked        also write the photos that have no mask, unmasked (masked: false)

Many workers (a Kubernetes Indexed Job, a Slurm array, or processes on one machine):
  --partition I/N        this worker's share of the pairs: partition I (from 0) of N, by a hash
                         of each key, so the same on every rerun and machine. Workers write into
                         the same --out at once (shards {name}-{I}ofN-*.tar, their own report in
                         partitions/{I}ofN/); then maskpipe merge <out> writes the one index,
                         report and card. --overwrite and --resume act on this partition only
  --partition N          the same, I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID
  --workers K|auto       run as K such partitions in K processes on this machine, then merge
                         them (auto: a process per core; the shards are named by partition,
                         so their files depend on K; each worker overlays in itself)

Trial runs and checks:
  --dry-run              list and pair both inputs, print the counts; decode and write nothing
  --limit N              stop after N pairs (a trial run, reported as such)
  --max-failed N|P%      failed pairs allowed before the run exits 3, default 0 (a real CelebA
                         or CASIA-WebFace run has none); e.g. 10 or 0.1%

Reporting:
  --report FILE          report JSON, default <out>/report.json (Hub: report.json in the repo)
  --errors FILE          failures, one JSON a line, default <out>/errors.jsonl (Hub: in the repo)
  -q, --quiet            no progress lines (the summary is still printed)
  -h, --help             this text

Exit codes: 0 done (output complete), 1 the run failed, 2 bad options, 3 finished but the
output is incomplete (see the summary's problems), 130 interrupted (--resume goes on).
`;
