/**
 * The one rule for what maskpipe shows of what a user typed. Secrets stay on the machine: a
 * URL's credentials and query (a presigned URL's signature, a `?token=`), `--header` values and
 * Hub tokens never reach a file, a card, a commit, the console or an error message; and local
 * paths never reach anything published (a Hub repo, a dataset card), only their file names.
 */
import { createHash } from "node:crypto";
import { basename, resolve } from "node:path";

/** Words of an Authorization header that are no secret. */
const AUTH_SCHEMES = new Set(["bearer", "basic", "token", "digest"]);

/** What stands where something was left out. */
export const HIDDEN = "…";

/** An http(s) URL, as --originals and --masks take them (not a path, not an hf:// spec). */
export function isUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'`<>]+/gi;

/** Flags whose value is a secret in any form: `--flag VALUE` and `--flag=VALUE`. */
const SECRET_FLAGS = new Set(["--hf-token", "--header"]);

/** Flags whose value is a local path or a URL (and not a number like `--partition 1/3`). */
const PATH_FLAGS = new Set([
  "--originals",
  "--masks",
  "--out",
  "--annotations",
  "--classes",
  "--report",
  "--errors",
  "--hub-spool",
  "--hub-url",
  "--7z",
  "--identities",
  "--partitions",
  "--attributes",
  "--bboxes",
  "--landmarks",
]);

/**
 * A URL as maskpipe shows it: scheme, host and path; credentials dropped, a query shown as `?…`.
 * Anything that is not an http(s) URL comes back as it was.
 *
 * @example
 * redactUrl("https://u:pw@host/photos.zip?X-Amz-Signature=abc") // "https://host/photos.zip?…"
 */
export function redactUrl(spec: string): string {
  if (!isUrl(spec)) return spec;
  try {
    const url = new URL(spec);
    return `${url.origin}${url.pathname}${url.search === "" ? "" : `?${HIDDEN}`}`;
  } catch {
    // Not a URL after all: still nothing after a `?` or before an `@`.
    return spec.replace(/\/\/[^/]*@/, "//").replace(/\?.*$/s, `?${HIDDEN}`);
  }
}

/** A digest of a URL's query, so the run identity can tell two queries apart without keeping either. */
export function queryDigest(spec: string): string | undefined {
  if (!isUrl(spec)) return undefined;
  const search = URL.canParse(spec) ? new URL(spec).search : "";
  if (search === "") return undefined;
  return createHash("sha256").update(search).digest("hex").slice(0, 16);
}

/**
 * Every http(s) URL in `text` shown by redactUrl. Punctuation that ends it belongs to the text
 * (`https://host/p.zip?…: answered 503`): taken into the query, the colon would be lost.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => {
    const tail = /[.,:;!)\]]+$/.exec(url)?.[0] ?? "";
    return redactUrl(url.slice(0, url.length - tail.length)) + tail;
  });
}

/** A local path as a published file shows it: its file name. URLs and hf:// specs as redactUrl. */
export function publicName(spec: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) return redactUrl(spec);
  return basename(spec.replace(/[/\\]+$/, "")) || spec;
}

/**
 * `text` as a published file may hold it: each of `localPaths` (as given, and absolute) reduced
 * to its file name.
 */
export function publishedText(text: string, localPaths: readonly (string | undefined)[]): string {
  let result = text;
  for (const path of localPaths) {
    if (path === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) continue;
    // The absolute form first: the given one may be a part of it.
    for (const form of new Set([resolve(path), path])) {
      if (form.includes("/") || form.includes("\\"))
        result = result.replaceAll(form, publicName(form));
    }
  }
  return result;
}

/**
 * A command line as maskpipe writes or prints it: shell-quoted where needed, secret flags'
 * values as `…`, URLs redacted; with `published`, local paths reduced to their file names.
 */
export function redactArgs(argv: readonly string[], published = false): string {
  return argv
    .map((arg, index) => {
      const previous = argv[index - 1] ?? "";
      const [flag, ...rest] = arg.split("=");
      const inline = arg.startsWith("--") && rest.length > 0;
      if (SECRET_FLAGS.has(previous)) return HIDDEN;
      if (inline && SECRET_FLAGS.has(flag!)) return `${flag}=${HIDDEN}`;
      const value = inline ? rest.join("=") : arg;
      // The pipeline file is the first argument.
      const pathValue = inline ? PATH_FLAGS.has(flag!) : index === 0 || PATH_FLAGS.has(previous);
      const shown = published && pathValue ? publicName(value) : redactUrl(value);
      return inline ? `${flag}=${shown}` : shown;
    })
    .map((arg) => (/^[\w./:@=…-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`))
    .join(" ");
}

/**
 * The secrets a command line carries (`--header` and `--hf-token` values in either form, URLs'
 * credentials and queries) and those of the environment (HF_TOKEN), for a {@link Redactor}.
 */
export function commandSecrets(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): SecretSources {
  const values: string[] = [];
  const specs: string[] = [];
  argv.forEach((arg, index) => {
    const previous = argv[index - 1] ?? "";
    const [flag, ...rest] = arg.split("=");
    const inline = arg.startsWith("--") && rest.length > 0;
    if (SECRET_FLAGS.has(previous)) values.push(arg);
    else if (inline && SECRET_FLAGS.has(flag!)) values.push(rest.join("="));
    specs.push(inline ? rest.join("=") : arg);
  });
  // A header's value is what follows its name: `Authorization: Bearer abc`.
  const headers = Object.fromEntries(
    values.map((value, index) => [`given${index}`, value.replace(/^[^:\s]*:\s*/, "")]),
  );
  return { headers, tokens: [env.HF_TOKEN, ...values], specs };
}

/** What a run must never show, gathered from its options (see {@link Redactor}). */
export interface SecretSources {
  /** Request headers given for remote inputs: their values are secret. */
  headers?: Record<string, string> | undefined;
  /** Hub tokens in use (`--hf-token`, HF_TOKEN). */
  tokens?: readonly (string | undefined)[];
  /** Inputs as given: a URL's credentials and query are secret. */
  specs?: readonly (string | undefined)[];
}

/**
 * Takes the secrets of one run out of any text before it is written or printed: URLs redacted,
 * and every known secret string (a header value, a token, a URL's password or query, raw or
 * percent-decoded) replaced by `…`, wherever in the text a library's message put it.
 */
export class Redactor {
  private readonly secrets: string[];

  constructor(sources: SecretSources = {}) {
    const found = new Set<string>();
    for (const value of Object.values(sources.headers ?? {})) {
      found.add(value);
      // `Bearer abc`: the credential alone too, as a server's message may quote it.
      for (const word of value.split(/\s+/))
        if (!AUTH_SCHEMES.has(word.toLowerCase())) found.add(word);
    }
    for (const token of sources.tokens ?? []) if (token !== undefined) found.add(token);
    for (const spec of sources.specs ?? []) {
      if (spec === undefined || !isUrl(spec) || !URL.canParse(spec)) continue;
      const url = new URL(spec);
      for (const part of [url.username, url.password, url.search.slice(1)]) {
        found.add(part);
        found.add(safeDecode(part));
      }
      for (const value of url.searchParams.values()) found.add(value);
    }
    // Longest first, so a secret that contains another is taken out whole; short values (a
    // `1`, a `true`) would blank innocent text and are no secret worth the name.
    this.secrets = [...found]
      .filter((secret) => secret.length >= 6)
      .sort((a, b) => b.length - a.length);
  }

  /** `text` with URLs redacted and every secret of the run replaced. */
  text(text: string): string {
    let result = redactUrls(text);
    for (const secret of this.secrets) result = result.replaceAll(secret, HIDDEN);
    return result;
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
