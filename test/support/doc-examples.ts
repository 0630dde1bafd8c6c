import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./cli.js";

/** A library example of the docs: its code as written and what it prints. */
export interface DocExample {
  name: string;
  /** The document it is in, from the repository root. */
  doc: string;
  code: string;
  stdout: string;
}

/** What each example prints, by its marker (`<!-- example: NAME -->`) and document. */
const EXPECTED: readonly (readonly [string, string, string])[] = [
  ["README.md", "library", "33 written; 3 photos without mask\nsample-000000.tar\n"],
  ["docs/library.md", "library-resize", "33 samples of 112x112\n"],
  ["docs/library.md", "library-sink", "0000107: 8, 0000102: 9, 0000099: 8, 0000045: 8\n"],
  ["docs/library.md", "library-iterate", "stopped after 10 samples\n"],
  ["docs/library.md", "library-paired", "{ masked: 17, unmasked: 16, withoutMask: 3 }\n"],
];

/** Every library example the README and docs/library.md show, read from them. */
export async function docExamples(): Promise<DocExample[]> {
  return Promise.all(
    EXPECTED.map(async ([doc, name, stdout]) => {
      const text = await readFile(join(ROOT, doc), "utf8");
      const match = new RegExp(
        `<!-- example: ${name}[ >][^>]*-->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``,
      ).exec(text);
      if (match === null) throw new Error(`${doc}: no example marked ${name}`);
      return { name, doc, code: match[1]!, stdout };
    }),
  );
}
