import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";

/** What the launcher (bin.ts) tells the command it starts: how the user started maskpipe. */
export const INVOKED_AS_VARIABLE = "MASKPIPE_INVOKED_AS";

/** How the process was started: its script, the node running it and the user's PATH. */
export interface ProcessStart {
  /** `process.argv[1]`: the script as started (a `maskpipe` on PATH, a bin.js, a .bin link). */
  script: string | undefined;
  /** `process.execPath`. */
  execPath: string;
  /** The PATH the user's shell searches. */
  path: string | undefined;
}

/**
 * The words that start this same command again from any folder, as the commands maskpipe
 * prints begin: `maskpipe` when the `maskpipe` found on PATH is this very script (an
 * `npm install -g`), else `node /abs/path/to/bin.js` (a clone, `npx maskpipe` in it, a package
 * installed into a project), with node's own path when the `node` on PATH is another one.
 */
export function commandPrefix(start: ProcessStart): string {
  const script = start.script === undefined ? undefined : realPath(start.script);
  if (script === undefined) return "maskpipe";
  if (onPath("maskpipe", start.path) === script) return "maskpipe";
  const node = onPath("node", start.path) === realPath(start.execPath) ? "node" : start.execPath;
  return `${shellWord(node)} ${shellWord(script)}`;
}

/** The prefix for this process: the launcher's word for it, else worked out from argv. */
export function currentCommandPrefix(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env[INVOKED_AS_VARIABLE] ??
    commandPrefix({ script: process.argv[1], execPath: process.execPath, path: env.PATH })
  );
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but plain characters. */
export function shellWord(word: string): string {
  return /^[\w./:@=+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** The real path of the first executable `name` on `path`, or `undefined`. */
function onPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    return realPath(candidate);
  }
  return undefined;
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
