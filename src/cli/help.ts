export const MAIN_HELP = `maskpipe: put the CelebA+masks / CASIA-WebFace+masks mask PNGs on their photos
and write the result as WebDataset shards (or the reference scripts' folder tree).

Usage:
  maskpipe run <pipeline.json> [options]   run a pipeline (see maskpipe run --help)
  maskpipe --version                       print the version
  maskpipe --help                          this text

Pipelines shipped: pipelines/celeba.json, pipelines/casia.json, pipelines/sample.json.
`;

export const RUN_HELP = `Usage: maskpipe run <pipeline.json> [options]

Flags override the pipeline file's fields.

Inputs and output:
  --originals SRC        photos: folder, .zip, .tar, .tar.gz/.tgz, local or an http(s) URL
  --masks SRC            mask PNGs: folder, .zip, .tar, .tar.gz/.tgz
  --out DST              output folder (shards, index.json, report.json), or a Hub dataset
                         repo hf://datasets/{owner}/{repo}[@{branch}] (created if missing)
  --layout L             webdataset (default) | folder (reference scripts' tree)

Images:
  --format F             jpeg (default) | png | webp
  --quality Q            1-100, default 95 (jpeg output equals OpenCV's byte for byte)
  --optimize-coding      optimised JPEG Huffman tables: 6-9% smaller, slower, not reference-identical
  --concurrency N        images in flight, default: twice the number of cores
  --max-pixels N         largest image decoded, default 100000000
  --on-error E           skip (default: record in errors.jsonl, go on) | fail (stop the run)

Shards and join:
  --shard-max-count N    samples per shard, default 10000
  --shard-max-bytes B    bytes per shard, default 1GB (units: B, KB, MB, GB, KiB, MiB, GiB)
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
  --hub-buffer N         complete shards held in memory for upload, 1-50, default 2 (memory is
                         about (N + 1) x shard size); shards default to 500MB on the Hub
  --xet                  upload through Xet instead of plain LFS (more CPU)
  A rerun of the same command uploads only the shards the repo does not already have; with
  --resume it also downloads the repo's shards and skips their samples.

Reporting:
  --report FILE          report JSON, default <out>/report.json (Hub: report.json in the repo)
  --errors FILE          failures, one JSON a line, default <out>/errors.jsonl (Hub: in the repo)
  --resume               go on from an interrupted run in --out: keep complete shards, skip
                         their samples, end with the same bytes as an uninterrupted run
  -q, --quiet            no progress lines (the summary is still printed)
  -h, --help             this text

Exit codes: 0 done, 1 the run failed, 2 bad options, 130 interrupted.
`;
