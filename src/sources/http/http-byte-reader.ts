import type { ByteReader } from "../byte-reader.js";
import type { HttpClient } from "./http-client.js";
import type { PinnedVersion } from "./remote-version.js";

/**
 * Positional reads of a remote file with Range requests, each checked to be the range asked
 * for, of the version first seen. The zip reader asks for large spans (readMany), so this layer
 * needs no batching of its own.
 */
export function httpByteReader(client: HttpClient, url: string, pinned: PinnedVersion): ByteReader {
  const { size } = pinned;
  return {
    size,
    async read(offset, length, signal) {
      const wanted = Math.max(0, Math.min(length, size - offset));
      if (wanted === 0) return Buffer.alloc(0);
      return client.range(url, offset, wanted, pinned, signal);
    },
    close: async () => {},
  };
}
