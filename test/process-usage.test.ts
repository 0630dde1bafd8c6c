import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/cli.js";

const MIB = 2 ** 20;

describe("peak RSS", () => {
  // getrusage's maxrss carries the forking parent's resident memory across exec: the bench's
  // children, started by a parent that had just generated a corpus, all reported 1.8 GB.
  it.runIf(process.platform === "linux")(
    "is the process's own, not that of the parent that started it",
    () => {
      const ballast = Buffer.alloc(600 * MIB, 1);
      const module = pathToFileURL(join(ROOT, "src/core/process-usage.ts")).href;
      const printed = execFileSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "--input-type=module",
          "-e",
          `const { peakRssBytes } = await import(${JSON.stringify(module)});
           console.log(JSON.stringify({ ours: peakRssBytes(), maxRss: process.resourceUsage().maxRSS * 1024 }));`,
        ],
        { cwd: ROOT },
      ).toString();
      const { ours, maxRss } = JSON.parse(printed) as { ours: number; maxRss: number };
      expect(ballast[ballast.length - 1]).toBe(1);
      expect(maxRss).toBeGreaterThan(600 * MIB); // the inherited figure this guards against
      expect(ours).toBeGreaterThan(10 * MIB);
      expect(ours).toBeLessThan(300 * MIB);
    },
  );
});
