import { MaskpipeError } from "../../core/errors.js";
import { pathComponents } from "../../core/keys.js";
import type { MemberKind, SourceMember } from "../source.js";

/** One item of a 7z archive, as `7z l -slt` lists it. */
export interface SevenZipMember extends SourceMember {
  /** CRC-32 of the contents as the archive records it; absent for folders and empty files. */
  readonly crc: number | undefined;
  readonly encrypted: boolean;
}

/**
 * The item properties a record is built from. Every other line of a record is ignored, so a
 * line that only looks like `Key = value` (a piece of a name 7-Zip printed raw) cannot add or
 * replace a field.
 */
const ITEM_KEYS = new Set(["Path", "Folder", "Size", "Attributes", "CRC", "Encrypted"]);

/**
 * The lines of a `7z l -slt` listing. Only `\n` ends a line: a name may hold a lone `\r`, which
 * 7-Zip prints as it is (a line splitter that also breaks on `\r`, as readline does, cuts the
 * name in two and shifts every later record). A `\r` before `\n` is dropped only when 7-Zip
 * ends its lines with `\r\n` (Windows), as its first line shows. Lines are decoded whole, so a
 * multi-byte character split between two chunks stays intact.
 */
export async function* listingLines(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): AsyncGenerator<string> {
  let rest = Buffer.alloc(0);
  let crlf: boolean | undefined;
  const text = (line: Buffer) => {
    crlf ??= line.at(-1) === 0x0d;
    return (crlf && line.at(-1) === 0x0d ? line.subarray(0, -1) : line).toString("utf8");
  };
  for await (const chunk of chunks) {
    let data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    for (let end = data.indexOf(0x0a); end !== -1; end = data.indexOf(0x0a)) {
      yield text(data.subarray(0, end));
      data = data.subarray(end + 1);
    }
    rest = Buffer.from(data);
  }
  if (rest.length > 0) yield text(rest);
}

/**
 * Reads `7z l -slt` output line by line: the archive's own properties come first, then, after
 * a line of ten dashes, one block of `Key = value` lines per item, in archive order (the order
 * `7z x -so` writes their contents in). Paths use `/` and are NFC-normalised, as every source's.
 */
export class SltParser {
  readonly members: SevenZipMember[] = [];
  private inItems = false;
  private fields = new Map<string, string>();

  constructor(private readonly archive: string) {}

  line(text: string): void {
    if (!this.inItems) {
      if (text === "----------") this.inItems = true;
      return;
    }
    if (text === "") {
      this.flush();
      return;
    }
    // The first ` = ` ends the key: a value (a name) may hold ` = ` too.
    const eq = text.indexOf(" = ");
    const key = eq > 0 ? text.slice(0, eq) : text.endsWith(" =") ? text.slice(0, -2) : "";
    if (!ITEM_KEYS.has(key) || this.fields.has(key)) return;
    this.fields.set(key, eq > 0 ? text.slice(eq + 3) : "");
  }

  /** After the last line: the members, in archive order. */
  end(): SevenZipMember[] {
    this.flush();
    if (!this.inItems) {
      throw new MaskpipeError(
        "ERR_7Z_CORRUPT",
        `${this.archive}: 7-Zip listed no items (no "----------" line in its listing)`,
        { archive: this.archive },
      );
    }
    return this.members;
  }

  private flush(): void {
    if (this.fields.size === 0) return;
    const fields = this.fields;
    this.fields = new Map();
    const path = fields.get("Path");
    if (path === undefined) return;
    const attributes = fields.get("Attributes") ?? "";
    const kind: MemberKind =
      fields.get("Folder") === "+" || attributes.startsWith("D")
        ? "directory"
        : /^[A-Z]*\s+l/.test(attributes)
          ? "other" // a symbolic link (`A lrwxrwxrwx`)
          : "file";
    const crc = fields.get("CRC") ?? "";
    this.members.push({
      path: pathComponents(path).join("/").normalize("NFC"),
      size: Number(fields.get("Size") ?? 0),
      kind,
      crc: /^[0-9A-F]{8}$/i.test(crc) ? Number.parseInt(crc, 16) : undefined,
      encrypted: fields.get("Encrypted") === "+",
    });
  }
}
