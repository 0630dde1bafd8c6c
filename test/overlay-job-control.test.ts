import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { casiaRun, finished, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { childrenOf, processState } from "./support/process-tree.js";
import { tempDir } from "./support/temp.js";

/** Bytes the overlay workers have read and written so far: they stay put while stopped. */
const io = async (pids: number[]) =>
  (await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/io`, "utf8")))).join();

describe("job control with overlay worker processes", () => {
  it.runIf(process.platform === "linux")(
    "Ctrl-Z (SIGTSTP) stops the run's overlay workers with it; SIGCONT goes on to a full run",
    async () => {
      const dir = await tempDir();
      const keys = casiaKeys(200, 100, 10);
      const { photos, masks } = await corpusFiles({ keys, size: 160 });
      const photoPath = await writeArchive(dir, "p", "zip", photos);
      const maskPath = await writeArchive(dir, "m", "tar", masks);
      const out = join(dir, "out");
      const args = casiaRun(photoPath, maskPath, out, "10");
      const child = startCli([...args, "--overlay-workers", "2", "--concurrency", "2"]);
      const result = finished(child);
      while (!existsSync(join(out, "casia-000001.tar"))) await sleep(10);
      const [run] = await childrenOf(child.pid!);
      const workers = await childrenOf(run!);
      expect(workers.length).toBe(2);

      child.kill("SIGTSTP");
      await sleep(300);
      const states = await Promise.all([child.pid!, run!, ...workers].map(processState));
      expect(states).toEqual(["T", "T", "T", "T"]);
      const before = await io(workers);
      await sleep(300);
      expect(await io(workers)).toBe(before);

      child.kill("SIGCONT");
      const { code } = await result;
      expect(code).toBe(0);
      const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
      expect(report.written).toBe(200);
      expect(report.overlayWorkers.count).toBe(2);
      expect((await readdir(out)).filter((f) => f.endsWith(".tar")).length).toBe(20);
    },
  );
});
