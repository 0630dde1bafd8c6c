import { crc32 } from "node:zlib";
import { MaskpipeError, where } from "../../core/errors.js";
import { ByteCutter } from "../byte-cutter.js";
import type { EntriesOptions, SequentialSource, SourceEntry } from "../source.js";
import { wantFiles } from "../source.js";
import { listingLines, type SevenZipMember, SltParser } from "./listing.js";
import { findSevenZip, type SevenZipBinary } from "./seven-zip-binary.js";
import { type SevenZipRun, sevenZipFailure, startSevenZip } from "./seven-zip-process.js";
import { findVolumes, type VolumeSet } from "./volumes.js";

export interface SevenZipSourceOptions {
  /** The 7-Zip to run (`--7z`); default MASKPIPE_7Z, else the bundled official build. */
  sevenZip?: string;
  /** Largest member read into memory, in bytes. Default 256 MiB. */
  maxMemberBytes?: number;
}

export const SEVEN_ZIP_DEFAULTS = { maxMemberBytes: 256 * 2 ** 20 } as const;

/**
 * Given to 7-Zip as the password: an archive that needs one then fails at once ("Wrong
 * password") instead of asking on a terminal.
 */
const NO_PASSWORD = "-pmaskpipe-reads-no-encrypted-archives";

/**
 * Switches of every 7-Zip run that names an archive: no progress lines, no password prompt,
 * and `-spd`: the name is a file name, not a wildcard (`a*.7z` would also open `ab.7z`).
 */
const ARCHIVE_SWITCHES = ["-bd", NO_PASSWORD, "-spd"] as const;

/** A 7z archive, read front to back through one 7-Zip process; see `sevenZipSource`. */
export interface SevenZipSource extends SequentialSource {
  readonly kind: "7z";
  readonly binary: SevenZipBinary;
  readonly volumes: VolumeSet;
  /** Every member in archive order, from the archive's end header: nothing is decompressed. */
  catalog(signal?: AbortSignal): Promise<readonly SevenZipMember[]>;
  /** Uncompressed bytes 7-Zip has handed over so far, of `total`. */
  readonly unpacked: { done: number; total: number };
}

/**
 * A local 7z archive, single or split into volumes (`img_celeba.7z.001` ... as CelebA ships its
 * in-the-wild photos), read in place: 7-Zip lists it once (`l -slt`: paths, sizes and CRC-32s
 * in archive order, from the end header), then writes every member's bytes to one pipe (`x
 * -so`), which is cut by the listed sizes. Nothing is written to disk; memory is the listing
 * and the member being cut. Each member's CRC-32 is checked against the archive's record; a
 * mismatch fails that member only. The process ends with the iteration, on abort and on error.
 *
 * @example
 * const photos = await sevenZipSource("CelebA/Img/img_celeba.7z/img_celeba.7z.001");
 * for await (const { member, data } of photos.entries()) console.log(member.path, data?.length);
 */
export async function sevenZipSource(
  spec: string,
  options: SevenZipSourceOptions = {},
): Promise<SevenZipSource> {
  const maxMemberBytes = options.maxMemberBytes ?? SEVEN_ZIP_DEFAULTS.maxMemberBytes;
  const volumes = await findVolumes(spec);
  const binary = await findSevenZip(options.sevenZip);
  const unpacked = { done: 0, total: 0 };
  let listing: Promise<SevenZipMember[]> | undefined;
  const catalog = (signal?: AbortSignal) => {
    listing ??= list(spec, binary, volumes.first, signal).then((members) => {
      unpacked.total = members.reduce((sum, member) => sum + member.size, 0);
      return members;
    });
    listing.catch(() => {
      listing = undefined;
    });
    return listing;
  };

  async function* entries(entriesOptions: EntriesOptions = {}): AsyncGenerator<SourceEntry> {
    const { signal } = entriesOptions;
    const want = entriesOptions.want ?? wantFiles;
    const members = await catalog(signal);
    const needsBytes = (member: SevenZipMember) => member.kind === "file" && member.size > 0;
    if (!members.some((member) => needsBytes(member) && want(member))) {
      for (const member of members) yield { member };
      return;
    }
    const run = startSevenZip(
      binary,
      ["x", "-so", "-y", ...ARCHIVE_SWITCHES, "--", volumes.first],
      signal,
    );
    const cutter = new ByteCutter(run.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
    const crcFailures = new Set<string>();
    const stopped = async (member: SevenZipMember, got: number): Promise<never> => {
      await run.exited;
      signal?.throwIfAborted();
      const volume = volumeNear(volumes, cutter.position, unpacked.total);
      throw sevenZipFailure(
        spec,
        `the data ends inside ${member.path} (${got.toLocaleString("en-US")} of ${member.size.toLocaleString("en-US")} bytes), ${cutter.position.toLocaleString("en-US")} bytes into the archive's ${unpacked.total.toLocaleString("en-US")}: ${volume} is damaged; the shards written so far are kept, and --resume goes on once it is whole`,
        run.errors(),
        run.errorCount(),
      );
    };
    try {
      for (const member of members) {
        if (!needsBytes(member)) {
          yield member.kind === "file" && want(member)
            ? { member, data: Buffer.alloc(0) }
            : { member };
          continue;
        }
        if (!want(member) || member.size > maxMemberBytes) {
          const skipped = await cutter.skip(member.size);
          if (skipped < member.size) await stopped(member, skipped);
          unpacked.done = cutter.position;
          yield want(member)
            ? { member, error: tooLarge(spec, member, maxMemberBytes) }
            : { member };
          continue;
        }
        const data = await cutter.take(member.size);
        if (data.length < member.size) await stopped(member, data.length);
        unpacked.done = cutter.position;
        if (member.crc !== undefined && crc32(data) >>> 0 !== member.crc) {
          crcFailures.add(member.path);
          yield { member, error: crcMismatch(spec, member, crc32(data) >>> 0) };
          continue;
        }
        yield { member, data };
      }
      if (!(await cutter.atEnd())) {
        throw sevenZipFailure(
          spec,
          "7-Zip wrote more bytes than the archive lists",
          run.errors(),
          run.errorCount(),
        );
      }
      await checkExit(spec, run, crcFailures);
    } finally {
      await run.stop();
    }
  }

  return {
    name: spec,
    kind: "7z",
    randomAccess: false,
    binary,
    volumes,
    catalog,
    unpacked,
    entries,
    close: async () => {},
  };
}

async function list(
  spec: string,
  binary: SevenZipBinary,
  first: string,
  signal?: AbortSignal,
): Promise<SevenZipMember[]> {
  const run = startSevenZip(binary, ["l", "-slt", ...ARCHIVE_SWITCHES, "--", first], signal);
  const parser = new SltParser(spec);
  try {
    for await (const line of listingLines(run.stdout)) parser.line(line);
    const { code } = await run.exited;
    signal?.throwIfAborted();
    const errors = run.errors();
    if (errors.some((line) => /wrong password|encrypted/i.test(line))) throw encrypted(spec);
    if (code !== 0) throw sevenZipFailure(spec, "7-Zip cannot list the archive", errors);
    const members = parser.end();
    if (members.some((member) => member.encrypted)) throw encrypted(spec);
    return members;
  } finally {
    await run.stop();
  }
}

/**
 * 7-Zip's exit, once every member was cut: 1 is a warning; 2 is an error, which is fine only
 * when it was the CRC failures already reported as those members' failures.
 */
async function checkExit(spec: string, run: SevenZipRun, crcFailures: ReadonlySet<string>) {
  const { code, signal } = await run.exited;
  if (code === 0 || code === 1) return;
  const errors = run.errors().filter((line) => /error/i.test(line));
  const allKept = run.errorCount() === run.errors().length;
  const explained =
    allKept &&
    errors.every((line) => {
      const failed = /CRC Failed.*? : (.+)$/.exec(line)?.[1];
      return failed !== undefined && crcFailures.has(failed.normalize("NFC"));
    });
  if (code === 2 && errors.length > 0 && explained) return;
  throw sevenZipFailure(
    spec,
    `7-Zip ended with ${signal ?? `exit code ${code}`} after the last member`,
    run.errors(),
  );
}

/**
 * The volume that likely holds the damage found `unpackedOffset` bytes into the contents:
 * photos barely compress, so packed and unpacked offsets go nearly alike.
 */
function volumeNear(volumes: VolumeSet, unpackedOffset: number, unpackedTotal: number): string {
  if (volumes.volumes.length === 1) return volumes.first;
  const packed = (unpackedOffset / Math.max(1, unpackedTotal)) * volumes.archiveBytes;
  const perVolume = volumes.bytes / volumes.volumes.length;
  const index = Math.min(volumes.volumes.length - 1, Math.floor(packed / perVolume));
  return `${volumes.volumes[index]} (or a volume next to it)`;
}

function encrypted(spec: string): MaskpipeError {
  return new MaskpipeError(
    "ERR_7Z_UNSUPPORTED",
    `${spec}: is encrypted (it needs a password); maskpipe reads only unencrypted 7z archives: extract it with 7-Zip and its password first`,
    { archive: spec },
  );
}

function crcMismatch(spec: string, member: SevenZipMember, got: number): MaskpipeError {
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, "0");
  return new MaskpipeError(
    "ERR_MEMBER_CRC",
    `${where(spec, member.path)}: CRC-32 ${hex(got)} does not match the archive's ${hex(member.crc!)}: the member is damaged`,
    { archive: spec, member: member.path },
  );
}

function tooLarge(spec: string, member: SevenZipMember, limit: number): MaskpipeError {
  return new MaskpipeError(
    "ERR_MEMBER_TOO_LARGE",
    `${where(spec, member.path)}: is ${member.size} bytes, more than the ${limit}-byte limit for one member (maxMemberBytes)`,
    { archive: spec, member: member.path },
  );
}
