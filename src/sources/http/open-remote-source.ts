import { fileDownloadInfo } from "@huggingface/hub";
import { MaskpipeError } from "../../core/errors.js";
import { redactUrl } from "../../core/redact.js";
import { kindFromName } from "../archive-kind.js";
import { hubEndpoint, parseHfUrl, redactToken } from "../hf/hf-url.js";
import type { OpenedSource, OpenSourceOptions } from "../opened-source.js";
import { tarSource } from "../tar/tar-source.js";
import { zipSource } from "../zip/zip-source.js";
import { httpByteReader } from "./http-byte-reader.js";
import { HttpClient } from "./http-client.js";

/**
 * A file in a Hugging Face repo: resolved with @huggingface/hub (its size, ETag and download
 * URL), then read like any URL. The token goes to the Hub's own origin only.
 */
export async function openHubSource(
  spec: string,
  options: OpenSourceOptions = {},
): Promise<OpenedSource> {
  const file = parseHfUrl(spec);
  const hubUrl = hubEndpoint(options.hub?.endpoint);
  const accessToken = options.hub?.token ?? process.env.HF_TOKEN;
  let info: Awaited<ReturnType<typeof fileDownloadInfo>>;
  try {
    info = await fileDownloadInfo({
      repo: { type: file.type, name: file.name },
      path: file.path,
      revision: file.revision,
      hubUrl,
      ...(accessToken !== undefined && accessToken !== "" && { accessToken }),
    });
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_HTTP",
      `${spec}: the Hub could not resolve it: ${redactToken((cause as Error).message, accessToken)}`,
      {
        archive: spec,
        cause,
      },
    );
  }
  if (info === null) {
    throw new MaskpipeError(
      "ERR_SOURCE_NOT_FOUND",
      `${spec}: no such file in ${file.name}@${file.revision}`,
      {
        archive: spec,
      },
    );
  }
  const sameOrigin = new URL(info.url).origin === new URL(hubUrl).origin;
  const headers = {
    ...options.http?.headers,
    ...(sameOrigin && accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
  };
  const source = await openHttpSource(
    info.url,
    { ...options, http: { ...options.http, headers } },
    spec,
  );
  // The Hub's ETag is the file's hash, steadier than what the storage behind the redirect says.
  return { ...source, remote: { size: info.size, etag: info.etag } };
}

/**
 * A remote archive read in place: a zip through Range requests (its directory, then members in
 * coalesced spans), a tar or tar.gz through one streaming GET. The kind comes from the URL path.
 */
export async function openHttpSource(
  url: string,
  options: OpenSourceOptions = {},
  /** The name the user gave (an hf:// spec), for messages and the archive kind. */
  displayName?: string,
): Promise<OpenedSource> {
  const kind = kindFromName(displayName ?? new URL(url).pathname);
  if (kind === undefined) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${redactUrl(url)}: the URL path does not end in .zip, .tar, .tar.gz, .tgz or .7z, so the archive kind is unknown`,
      { archive: redactUrl(url) },
    );
  }
  if (kind === "7z") {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${displayName ?? redactUrl(url)}: a 7z archive is read from local files only (7-Zip needs its end header, at the end of the last volume, before the first member); download the volumes first and pass the first one or their folder`,
      { archive: displayName ?? redactUrl(url) },
    );
  }
  const client = new HttpClient(options.http);
  const name = displayName ?? redactUrl(url);
  // One 1-byte request: the size and validator the run identity records (and a zip needs).
  const { size, validator, ranges } = await client
    .probe(url, options.signal)
    .catch(async (error: unknown) => {
      await client.close();
      throw error;
    });
  const remote = { size, ...validator };
  if (kind === "zip") {
    if (!ranges) {
      await client.close();
      throw new MaskpipeError(
        "ERR_HTTP_RANGE",
        `${name}: the server does not answer Range requests, which reading a zip in place needs; download the zip first or serve it from a server that supports Range`,
        { archive: name },
      );
    }
    const source = zipSource(name, httpByteReader(client, url, remote), options);
    return { ...source, http: client.stats, remote, close: () => client.close() };
  }
  const source = tarSource(name, (signal) => client.stream(url, signal, remote), {
    gzip: kind === "tar.gz",
    ...options,
  });
  return { ...source, http: client.stats, remote, close: () => client.close() };
}
