import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MaskpipeError } from "../../core/errors.js";

/** The first bytes of every 7z archive. */
export const SEVEN_ZIP_SIGNATURE = Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]);
/** The signature header: signature, version, start-header CRC, next-header offset and size. */
const SIGNATURE_HEADER_BYTES = 32;

/** A 7z archive as files on disk: one `.7z`, or the volumes `.7z.001`, `.7z.002`, ... */
export interface VolumeSet {
  /** What 7-Zip is given: the `.7z` or the `.001` volume. */
  first: string;
  volumes: string[];
  /** Bytes of all volumes together, and what the signature header says the archive has. */
  bytes: number;
  archiveBytes: number;
}

const VOLUME = /^(.*\.7z)\.(\d{3,})$/i;

/** True when the path's name says 7z: `.7z`, or a volume `.7z.001`. */
export function isSevenZipName(path: string): boolean {
  return /\.7z$/i.test(path) || VOLUME.test(basename(path));
}

/**
 * The volumes of the 7z archive `spec` names: a `.7z` file, any one volume of a split set, or
 * the folder that holds the volumes (CelebA ships `Img/img_celeba.7z/img_celeba.7z.001` ...).
 * The set is checked against its own signature header before 7-Zip sees it, so a missing or
 * short volume is named: `img_celeba.7z.007 is missing: the set has 14 volumes`.
 */
export async function findVolumes(spec: string): Promise<VolumeSet> {
  const info = await stat(spec);
  let folder: string;
  let base: string;
  if (info.isDirectory()) {
    folder = spec;
    const names = (await readdir(spec)).filter((name) => VOLUME.test(name));
    const bases = [...new Set(names.map((name) => VOLUME.exec(name)![1]!))];
    if (bases.length !== 1) {
      throw new MaskpipeError(
        "ERR_7Z_VOLUME",
        bases.length === 0
          ? `${spec}: holds no 7z volumes (.7z.001, ...)`
          : `${spec}: holds volumes of ${bases.length} 7z archives (${bases.join(", ")}); name the first volume of one`,
        { archive: spec },
      );
    }
    base = bases[0]!;
  } else {
    const volume = VOLUME.exec(basename(spec));
    if (volume === null) return single(spec, info.size);
    folder = dirname(spec);
    base = volume[1]!;
  }
  const numbers = (await readdir(folder))
    .map((name) => VOLUME.exec(name))
    .filter((match) => match !== null && match[1] === base)
    .map((match) => Number(match![2]))
    .sort((a, b) => a - b);
  const width = Math.max(3, ...numbers.map((n) => String(n).length));
  const volumeName = (n: number) => `${base}.${String(n).padStart(width, "0")}`;
  const where = join(folder, volumeName(1));
  if (numbers[0] !== 1) {
    throw new MaskpipeError("ERR_7Z_VOLUME", `${where} is missing: a split set starts with it`, {
      archive: where,
    });
  }
  const volumes = numbers.map((n) => join(folder, volumeName(n)));
  const sizes = await Promise.all(volumes.map(async (path) => (await stat(path)).size));
  const archiveBytes = await declaredSize(volumes[0]!);
  const volumeBytes = sizes[0]!;
  const expected = Math.max(1, Math.ceil(archiveBytes / volumeBytes));
  for (let n = 1; n <= expected; n++) {
    if (!numbers.includes(n)) {
      throw new MaskpipeError(
        "ERR_7Z_VOLUME",
        `${join(folder, volumeName(n))} is missing: the set has ${expected} volumes`,
        { archive: join(folder, volumeName(n)) },
      );
    }
  }
  const bytes = sizes.slice(0, expected).reduce((sum, size) => sum + size, 0);
  if (bytes < archiveBytes) {
    const last = join(folder, volumeName(expected));
    throw new MaskpipeError(
      "ERR_7Z_VOLUME",
      `${last} is truncated: the ${expected} volumes hold ${bytes.toLocaleString("en-US")} of the archive's ${archiveBytes.toLocaleString("en-US")} bytes`,
      { archive: last },
    );
  }
  return { first: volumes[0]!, volumes: volumes.slice(0, expected), bytes, archiveBytes };
}

async function single(path: string, size: number): Promise<VolumeSet> {
  const archiveBytes = await declaredSize(path);
  if (size < archiveBytes) {
    throw new MaskpipeError(
      "ERR_7Z_VOLUME",
      `${path} is truncated: it holds ${size.toLocaleString("en-US")} of the archive's ${archiveBytes.toLocaleString("en-US")} bytes${VOLUME.test(`${path}.001`) ? " (if it is split, name its .001 volume)" : ""}`,
      { archive: path },
    );
  }
  return { first: path, volumes: [path], bytes: size, archiveBytes };
}

/** The archive's size as its signature header declares it: the header, packed data, end header. */
async function declaredSize(path: string): Promise<number> {
  const handle = await open(path, "r");
  const header = Buffer.alloc(SIGNATURE_HEADER_BYTES);
  try {
    await handle.read(header, 0, SIGNATURE_HEADER_BYTES, 0);
  } finally {
    await handle.close();
  }
  if (!header.subarray(0, 6).equals(SEVEN_ZIP_SIGNATURE)) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${path}: is not a 7z archive or its first volume`,
      {
        archive: path,
      },
    );
  }
  const nextHeaderOffset = Number(header.readBigUInt64LE(12));
  const nextHeaderSize = Number(header.readBigUInt64LE(20));
  return SIGNATURE_HEADER_BYTES + nextHeaderOffset + nextHeaderSize;
}
