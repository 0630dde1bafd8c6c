import { previewOutput, writeSheet } from "../commands/preview/preview-output.js";
import { MaskpipeError } from "../core/errors.js";
import { integerBetween } from "../core/validate.js";
import { CONTACT_SHEET_DEFAULTS } from "../dataset/contact-sheet.js";
import { outputCommandArgs } from "./args.js";

export const PREVIEW_HELP = `Usage: maskpipe preview <output> [options]

A contact sheet of an output (a folder, one shard .tar, or hf://datasets/{owner}/{repo}): a grid
of samples picked by a seed across the shards, each tile named with its key and identity. On the
Hub it reads only the start of the shards it picks from, with Range requests.

  --out FILE             the sheet, .jpg or .png (default preview.jpg)
  --grid CxR             columns x rows, default 8x8
  --seed N               which samples: the same seed gives the same sheet (default 0)
  --hf-token TOKEN       for a private Hub repo (default: HF_TOKEN)
  --hub-url URL          the Hub or a mirror
  -h, --help             this text
`;

const FLAGS = {
  out: { type: "string" },
  grid: { type: "string" },
  seed: { type: "string" },
  "hf-token": { type: "string" },
  "hub-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `maskpipe preview`: returns the exit code. */
export async function previewCommand(argv: string[]): Promise<number> {
  const args = outputCommandArgs(argv, FLAGS, {
    name: "preview",
    help: PREVIEW_HELP,
    expected: "one output to preview: maskpipe preview shards/casia",
  });
  if (args === undefined) return 0;
  const { values, output } = args;
  const text = (value: string | boolean | undefined) =>
    typeof value === "string" ? value : undefined;
  const grid = /^(\d+)x(\d+)$/.exec(
    text(values.grid) ?? `${CONTACT_SHEET_DEFAULTS.columns}x${CONTACT_SHEET_DEFAULTS.rows}`,
  );
  if (grid === null) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected --grid as COLUMNSxROWS, e.g. 8x8, but received "${values.grid}"`,
    );
  }
  const columns = integerBetween("grid columns", Number(grid[1]), 1, 64);
  const rows = integerBetween("grid rows", Number(grid[2]), 1, 64);
  const seed = integerBetween("seed", Number(text(values.seed) ?? 0), 0, 2 ** 32 - 1);
  const out = text(values.out) ?? "preview.jpg";
  const sheet = await previewOutput(output, {
    columns,
    rows,
    seed,
    ...(typeof values["hf-token"] === "string" && { token: values["hf-token"] }),
    ...(typeof values["hub-url"] === "string" && { hubUrl: values["hub-url"] }),
  });
  await writeSheet(sheet, out);
  process.stderr.write(
    `maskpipe preview: ${out}: ${sheet.tiles.length} samples from ${new Set(sheet.tiles.map((t) => t.shard)).size} shards, ${sheet.width}x${sheet.height}\n`,
  );
  return 0;
}
