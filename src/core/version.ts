import { existsSync, readFileSync } from "node:fs";

/** The package.json of maskpipe: beside src/ or dist/, or one more level up for dist-bench/. */
function packageJson(): URL {
  for (const candidate of ["../../package.json", "../../../package.json"]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error("maskpipe: package.json not found beside the installed code");
}

/** This package's version, read once from its package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(packageJson(), "utf8")) as { version: string }
).version;
