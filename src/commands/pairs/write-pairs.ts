import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { MaskpipeError } from "../../core/errors.js";
import { type CardPairs, cardWithPairs } from "../../dataset/pairs-card.js";
import { isMaskpipePairs } from "../../dataset/pairs-files.js";
import { RUN_FILES } from "../../dataset/run-files.js";
import { checkOutputFolder, checkTarget, writeOutputFile } from "../../sinks/output-file.js";
import { isHfUrl } from "../../sources/hf/hf-url.js";
import { evaluationPairs, type PairList, type PairsOptions } from "./pairs-list.js";

/** A list written into its output. */
export interface WrittenPairs extends PairList {
  /** The dataset card now names the list (false: a README.md maskpipe did not write, or none). */
  card: boolean;
}

/**
 * Chooses a verification list (`evaluationPairs`) and writes it into the output beside the
 * data, `pairs/{split}.csv` (or `.txt`), adding it to the dataset card; on the Hub in one commit.
 * A file at that path that maskpipe did not write is refused, never replaced.
 *
 * @example
 * const written = await writePairs("shards/celeba", { split: "test", count: 600 });
 * console.log(written.path); // pairs/test.csv
 */
export async function writePairs(spec: string, options: PairsOptions): Promise<WrittenPairs> {
  const list = await evaluationPairs(spec, options);
  const entry: CardPairs = {
    path: list.path,
    split: list.split,
    count: list.pairs.length,
    sides: list.sides,
    options: list.options,
  };
  const card = isHfUrl(spec)
    ? await commitToHub(spec, options, list, entry)
    : await writeToFolder(spec, list, entry);
  return { ...list, card };
}

async function writeToFolder(dir: string, list: PairList, entry: CardPairs): Promise<boolean> {
  const path = join(dir, list.path);
  // Nothing is read or written through a link in the output.
  await checkOutputFolder(dir, dirname(path));
  if ((await checkTarget(path)) !== undefined) refuseUnlessOurs(path, await readFile(path, "utf8"));
  await writeOutputFile(dir, path, list.text);
  const cardPath = join(dir, RUN_FILES.card);
  const card = (await checkTarget(cardPath)) && (await readFile(cardPath, "utf8"));
  const updated = typeof card === "string" ? cardWithPairs(card, entry) : undefined;
  if (updated !== undefined) await writeOutputFile(dir, cardPath, updated);
  return updated !== undefined;
}

async function commitToHub(
  repo: string,
  options: PairsOptions,
  list: PairList,
  entry: CardPairs,
): Promise<boolean> {
  // The Hub client is loaded only when a list goes to the Hub, as for the other commands.
  const { connectHubRepo } = await import("../../sinks/hub/hub-connect.js");
  const { hub } = await connectHubRepo({
    repo,
    ...(options.token !== undefined && { token: options.token }),
    ...(options.hubUrl !== undefined && { hubUrl: options.hubUrl }),
  });
  const there = await hub.readText(list.path);
  if (there !== undefined) refuseUnlessOurs(`${repo}: ${list.path}`, there);
  const card = await hub.readText(RUN_FILES.card);
  const updated = card === undefined ? undefined : cardWithPairs(card, entry);
  await hub.commit(
    `Evaluation pairs ${list.path} of ${list.run}`,
    [
      { path: list.path, content: new Blob([list.text]) },
      ...(updated === undefined ? [] : [{ path: RUN_FILES.card, content: new Blob([updated]) }]),
    ],
    [],
  );
  return updated !== undefined;
}

function refuseUnlessOurs(where: string, text: string): void {
  if (isMaskpipePairs(text)) return;
  throw new MaskpipeError(
    "ERR_OUTPUT_NOT_OURS",
    `${where}: holds a file maskpipe did not write (not a pair list of maskpipe pairs); it is never written over; choose another --name, or move the file away`,
    { archive: where },
  );
}
