import { MaskpipeError } from "../../core/errors.js";

/** A file in a Hugging Face repo, as `hf://datasets/{owner}/{repo}[@{revision}]/{path}` names it. */
export interface HfFile {
  type: "dataset" | "model";
  /** `owner/repo`. */
  name: string;
  revision: string;
  path: string;
}

export function isHfUrl(spec: string): boolean {
  return spec.startsWith("hf://");
}

/** Parses `hf://datasets/owner/repo@rev/path/to/file.zip` (models: `hf://owner/repo/...`). */
export function parseHfUrl(spec: string): HfFile {
  const match = /^hf:\/\/(?:(datasets)\/)?([^/@]+\/[^/@]+)(?:@([^/]+))?\/(.+)$/.exec(spec);
  if (match === null) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected hf://datasets/{owner}/{repo}[@{revision}]/{path} but received "${spec}"`,
    );
  }
  return {
    type: match[1] === "datasets" ? "dataset" : "model",
    name: match[2]!,
    revision: decodeURIComponent(match[3] ?? "main"),
    path: match[4]!,
  };
}

/** A dataset repo as an output: `hf://datasets/{owner}/{repo}[@{revision}]`. */
export interface HfRepo {
  /** `owner/repo`. */
  name: string;
  revision: string;
}

/** Parses the `--out hf://datasets/owner/repo[@branch]` of a Hub run. */
export function parseHfRepoUrl(spec: string): HfRepo {
  const match = /^hf:\/\/datasets\/([^/@]+\/[^/@]+)(?:@([^/]+))?\/?$/.exec(spec);
  if (match === null) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected --out hf://datasets/{owner}/{repo}[@{branch}] but received "${spec}"`,
    );
  }
  return { name: match[1]!, revision: decodeURIComponent(match[2] ?? "main") };
}

/** The Hub to talk to: the one given, else HF_ENDPOINT, else huggingface.co; no trailing slash. */
export function hubEndpoint(given?: string): string {
  return (given ?? process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
}

/** The message with the token blanked out: tokens never reach a log or a report. */
export function redactToken(message: string, token: string | undefined): string {
  return token ? message.replaceAll(token, "hf_***") : message;
}
