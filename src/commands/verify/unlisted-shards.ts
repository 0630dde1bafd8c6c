import type { OutputFiles } from "../../dataset/output-files.js";
import type { RunReport } from "../../dataset/report.js";
import type { ListedShard } from "./output-shards.js";
import type { VerifyProblem } from "./verify-report.js";

/** `casia` of `casia-000000.tar` or `casia-00of02-000000.tar`. */
const SHARD_NAME = /^(.+?)(?:-\d+of\d+)?-\d{6}\.tar$/;

const orphanIndex =
  "a DALI index whose shard the index does not list; remove it, or make the output again with --overwrite";

/**
 * Shards in the output's shard folders that no index lists (and DALI indexes of such shards):
 * another run's left beside this one, or this run's that an index does not vouch for. A reader
 * globbing `*.tar` would take them in. Nothing for an output that cannot be listed (a Hub repo).
 */
export async function unlistedShards(
  files: OutputFiles,
  report: RunReport,
  listed: readonly ListedShard[],
): Promise<VerifyProblem[]> {
  const known = new Set(listed.map((shard) => shard.path));
  const splits = report.splits === undefined ? [undefined] : Object.keys(report.splits);
  const problems: VerifyProblem[] = [];
  for (const split of splits) {
    const folder = split === undefined ? "" : files.shardFolder(split);
    const listing = await files.list(folder);
    for (const file of listing?.files ?? []) {
      const path = `${folder}${file}`;
      if (file.endsWith(".idx") && !known.has(path.replace(/\.idx$/, ".tar"))) {
        // DALI is given index files by name: one without its shard lines up with the wrong tar.
        problems.push({ shard: path, message: orphanIndex });
        continue;
      }
      if (!file.endsWith(".tar") || known.has(path)) continue;
      const run = SHARD_NAME.exec(file)?.[1];
      const whose =
        run === undefined || run === report.name
          ? `a shard the index does not list; remove it, or make the output again with --overwrite`
          : `a shard of another run, ${run}, that the index does not list: this output holds ${report.name}; remove it, or run ${report.name} again with --overwrite, which removes the other run's files`;
      problems.push({ shard: path, message: whose });
    }
  }
  return problems;
}
