import { publicName } from "../core/redact.js";
import { FILE_EXTENSION, type OutputFormat } from "../transforms/encode.js";
import { hasLabels, mixes, type RunReport } from "./report.js";
import { CARD_MARKER } from "./run-files.js";

/** What the card says beyond the report's counts. */
export interface CardContext {
  /** What `load_dataset` is given: `owner/repo`, or the output folder. */
  repo: string;
  /** A split's shard folder relative to the card, with a trailing slash (`data/train/`), or "". */
  dataFolder: (split: string) => string;
  /** The contact sheet beside the card, when there is one. */
  preview?: string;
  /** The options the run was made with, as `--flag value` text. */
  command: string;
  /** The merge's options, when partitions were merged (`maskpipe merge ...`). */
  merge?: string;
  /** maskpipe's version. */
  version: string;
}

const SIZE_CATEGORIES: [number, string][] = [
  [1e3, "n<1K"],
  [1e4, "1K<n<10K"],
  [1e5, "10K<n<100K"],
  [1e6, "100K<n<1M"],
  [1e7, "1M<n<10M"],
  [1e8, "10M<n<100M"],
];

/** The Hub's size bucket for `count` samples. */
export function sizeCategory(count: number): string {
  for (const [below, label] of SIZE_CATEGORIES) if (count < below) return label;
  return "n>1T";
}

/**
 * The dataset card (README.md): YAML the Hub and `datasets` read (licence, tags, size, and
 * `configs` so the loader takes the shards as WebDataset and nothing else), then what the data
 * is, how it was made, the counts, how to load it and the paper to cite.
 */
export function datasetCard(report: RunReport, context: CardContext): string {
  const source = sourceOf(report.name);
  const title =
    source === undefined ? `${report.name} with masks` : `${source}+masks (masks applied)`;
  const splits = Object.keys(report.splits ?? { train: null });
  return `${yamlHeader(report, context, title, splits)}
${CARD_MARKER}

# ${title}

Face photos with a synthetic surgical mask blended onto each one: the masks of the
${source === undefined ? "CelebA+masks / CASIA-WebFace+masks data sets" : `${source}+masks data set`} (Mare et al., NeurIPS 2021) put on the original
${source ?? "CelebA or CASIA-WebFace"} photos, one JPEG per photo, for training masked-face recognition models.
${context.preview === undefined ? "" : `\n![Samples picked across the shards, each named with its key and identity](${context.preview})\n`}
## How it was made

With [maskpipe](https://www.npmjs.com/package/maskpipe) ${context.version}: each mask PNG is
alpha-blended onto its photo at (0, 0) exactly as the data sets' reference scripts do
(\`out = A/255 * mask + (1 - A/255) * photo\`, per channel, truncated to 8 bits) and written
as a JPEG. Photos without a mask and masks without a photo are left out.

    maskpipe run ${context.command}${context.merge === undefined ? "" : `\n    maskpipe merge ${context.merge}`}

- Originals: \`${publicName(report.originals)}\`
- Masks: \`${publicName(report.masks)}\`

## Contents

${contentsTable(report, context, splits)}

${columns(report)}

\`index.json\` lists the shards in the wids format${splits.length > 1 ? " (one beside each split's shards)" : ""};
\`report.json\` is the full run report${report.failed > 0 ? "; `errors.jsonl` names every pair left out and why" : ""}.

## Loading

\`\`\`python
from datasets import load_dataset
ds = load_dataset("${context.repo}", streaming=True)${splits.length > 1 ? `  # a DatasetDict: ${splits.join(", ")}` : ""}
\`\`\`

or any WebDataset reader over \`${context.dataFolder(splits[0]!)}${report.name}-*.tar\`.
${daliLoading(report, context, splits)}
## Licence and citation

The masks are licensed CC BY-NC-SA 4.0 (non-commercial, share-alike); the original photos keep
their own terms. If you use this data, cite the masks paper${source === undefined ? "" : ` and ${source}`}:

\`\`\`bibtex
@inproceedings{mare2021realistic,
  title     = {A realistic approach to generate masked faces applied on two novel masked face recognition data sets},
  author    = {Mare, Tudor and Duta, Georgian and Georgescu, Mariana-Iuliana and Sandru, Adrian and Alexe, Bogdan and Popescu, Marius and Ionescu, Radu Tudor},
  booktitle = {Proceedings of the Neural Information Processing Systems Track on Datasets and Benchmarks},
  year      = {2021}
}
${source === undefined ? "" : SOURCE_CITATIONS[source]}\`\`\`
`;
}

/**
 * With \`--dali-index\`: each shard's DALI index, and how NVIDIA DALI reads the shards with them
 * (without, its reader scans every tar before the first batch).
 */
function daliLoading(report: RunReport, context: CardContext, splits: readonly string[]): string {
  if (report.identity?.daliIndex !== true) return "";
  const folder = context.dataFolder(splits[0]!);
  const image = FILE_EXTENSION[(report.identity?.format ?? "jpeg") as OutputFormat];
  const extensions = [image, ...(hasLabels(report) ? ["cls"] : [])];
  const outputs = [`fn.decoders.image(${image}, device="mixed")`, ...extensions.slice(1)];
  return `
Each shard \`X.tar\` has \`X.idx\` beside it: the index NVIDIA DALI's \`wds2idx\` writes for it, so
DALI's reader opens the shards without scanning them first:

\`\`\`python
import glob
from nvidia.dali import fn, pipeline_def

@pipeline_def(batch_size=64, num_threads=4, device_id=0)
def faces():
    tars = sorted(glob.glob("${folder}${report.name}-*.tar"))
    ${extensions.join(", ")} = fn.readers.webdataset(
        paths=tars, index_paths=[t[:-4] + ".idx" for t in tars],
        ext=[${extensions.map((extension) => `"${extension}"`).join(", ")}])
    return ${outputs.join(", ")}
\`\`\`
`;
}

/** The photos' data set, as its name says: CelebA, CASIA-WebFace, or neither. */
function sourceOf(name: string): "CASIA-WebFace" | "CelebA" | undefined {
  if (/casia/i.test(name)) return "CASIA-WebFace";
  return /celeb/i.test(name) ? "CelebA" : undefined;
}

const n = (value: number) => value.toLocaleString("en-US");

/** The YAML the Hub and `datasets` read: licence, tags, size, and the shards of each split. */
function yamlHeader(
  report: RunReport,
  context: CardContext,
  title: string,
  splits: readonly string[],
): string {
  // A resumed run writes only what the shards it kept do not hold.
  const samples = report.written + report.resumed;
  const dataFiles = splits
    .map(
      (split) => `  - split: ${split}\n    path: ${context.dataFolder(split)}${report.name}-*.tar`,
    )
    .join("\n");
  return `---
license: cc-by-nc-sa-4.0
pretty_name: ${JSON.stringify(title)}
tags:
- masked-faces
- face-recognition
- webdataset
task_categories:
- image-classification
size_categories:
- ${sizeCategory(samples)}
configs:
- config_name: default
  data_files:
${dataFiles}
---`;
}

/** The counts: samples, shards, splits, classes, and what was left out and why. */
function contentsTable(report: RunReport, context: CardContext, splits: readonly string[]): string {
  const bytes = report.shards.reduce((sum, shard) => sum + shard.bytes, 0);
  const samples = report.written + report.resumed;
  const failures = Object.entries(report.failedByReason)
    .map(([reason, count]) => `${reason}: ${n(count)}`)
    .join(", ");
  const folders = [...new Set(splits.map((split) => context.dataFolder(split)))].filter(
    (f) => f !== "",
  );
  const labels = hasLabels(report) ? report.labels : undefined;
  const splitRows = Object.entries(report.splits ?? {})
    .map(
      ([split, counts]) =>
        `| ${split} | ${n(counts.samples)} samples in ${n(counts.shards)} shards |`,
    )
    .join("\n");
  return `| | |
|---|---|
| samples | ${n(samples)} |
| shards | ${n(report.shards.length)} WebDataset tar files${folders.length === 0 ? "" : ` in ${folders.map((f) => `\`${f}\``).join(", ")}`}, ${(bytes / 1e9).toFixed(2)} GB |
${splitRows}${splitRows === "" ? "" : "\n"}${labels === undefined ? "" : `| classes | ${n(labels.classes)} identities (${labels.source}), listed in \`classes.txt\` |\n`}
| photos without a mask (${report.identity?.keepUnmasked ? "kept, unmasked" : "left out"}) | ${n(report.photosWithoutMask)} |${kindsRow(report)}
| masks without a photo (left out) | ${n(report.masksWithoutPhoto)} |
| mask size differs from photo (clipped, kept) | ${n(report.sizeMismatches)} |
| unreadable pairs (left out) | ${n(report.failed)}${failures === "" ? "" : ` (${failures})`} |`;
}

/** A run that mixes: its samples of each kind, as a row of the contents table. */
function kindsRow(report: RunReport): string {
  const kinds = report.kinds;
  if (kinds === undefined) return "";
  return `\n| samples by kind | ${n(kinds.masked)} masked, ${n(kinds.unmasked)} unmasked, ${n(kinds.unmaskedWithoutMask)} unmasked without a mask |`;
}

/** The columns `--with`, `--masked` and `--keep-unmasked` add (issue 25). */
function mixColumns(report: RunReport): string[] {
  const parts = report.identity?.with ?? [];
  return [
    ...(parts.includes("original")
      ? ["| `orig.jpg` | the unmasked photo, byte for byte the archive's member |"]
      : []),
    ...(parts.includes("mask")
      ? [
          "| `mask.png` | where the mask is: its alpha as a one-channel PNG at the mask's size (0 transparent, 255 opaque; all 0 for a photo without a mask) |",
        ]
      : []),
  ];
}

/** The columns of a sample, as the card documents them. */
function columns(report: RunReport): string {
  const labels = hasLabels(report) ? report.labels : undefined;
  const mixed = mixes(report.identity);
  const rows = [
    "| column | what |",
    "|---|---|",
    mixed
      ? "| `jpg` | the photo, masked or not as `masked` in the json says (JPEG) |"
      : "| `jpg` | the masked photo (JPEG) |",
    ...mixColumns(report),
    ...(labels === undefined
      ? []
      : [
          `| \`cls\` | the class index: the identity's line in \`classes.txt\`, from 0 (-1: identity unknown) |`,
        ]),
    "| `json` | `key`; `photo`, `mask`: the members it came from; `width`, `height`" +
      (mixed
        ? "; `masked`: true when `jpg` is the masked photo (`mask` null: the photo has none)"
        : "") +
      (labels === undefined ? "" : "; `identity`") +
      (report.splits === undefined ? "" : "; `split`") +
      (labels?.annotations.includes("attributes")
        ? "; `attributes`: CelebA's 40, by name, true/false"
        : "") +
      (labels?.annotations.includes("bboxes")
        ? "; `bbox`: `x`, `y`, `width`, `height` in the photo's pixels"
        : "") +
      (labels?.annotations.includes("landmarks")
        ? "; `landmarks`: CelebA's five points in the photo's pixels"
        : "") +
      " |",
  ];
  return rows.join("\n");
}

const SOURCE_CITATIONS: Record<string, string> = {
  CelebA: `@inproceedings{liu2015faceattributes,
  title     = {Deep Learning Face Attributes in the Wild},
  author    = {Liu, Ziwei and Luo, Ping and Wang, Xiaogang and Tang, Xiaoou},
  booktitle = {Proceedings of International Conference on Computer Vision (ICCV)},
  year      = {2015}
}
`,
  "CASIA-WebFace": `@article{yi2014learning,
  title   = {Learning Face Representation from Scratch},
  author  = {Yi, Dong and Lei, Zhen and Liao, Shengcai and Li, Stan Z.},
  journal = {arXiv preprint arXiv:1411.7923},
  year    = {2014}
}
`,
};
