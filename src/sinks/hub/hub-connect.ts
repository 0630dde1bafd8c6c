import { MaskpipeError } from "../../core/errors.js";
import { hubEndpoint, parseHfRepoUrl } from "../../sources/hf/hf-url.js";
import { RETRY_DEFAULTS, type RetryPolicy } from "../../sources/http/retry-policy.js";
import { type HubFetch, hubFetch } from "./hub-fetch.js";
import { HubRepo } from "./hub-repo.js";

/**
 * The sources' backoff, with more patience: a throttled Hub may ask for minutes (Retry-After is
 * honoured up to 15 minutes), and giving up loses the shards held in memory.
 */
export const HUB_RETRY: RetryPolicy = { ...RETRY_DEFAULTS, retries: 8, maxDelayMs: 15 * 60_000 };

/** A repo to write to: the token checked, the repo created if missing, its head known. */
export async function connectHubRepo(options: {
  repo: string;
  token?: string;
  hubUrl?: string;
  xet?: boolean;
  private?: boolean;
  retry?: Partial<RetryPolicy>;
}): Promise<{ hub: HubRepo; transport: HubFetch }> {
  const repo = parseHfRepoUrl(options.repo);
  const accessToken = options.token ?? process.env.HF_TOKEN ?? "";
  if (!accessToken.startsWith("hf_")) {
    throw new MaskpipeError(
      "ERR_HUB_AUTH",
      `${options.repo}: publishing needs a Hub write token starting with hf_; set HF_TOKEN or pass --hf-token`,
      { archive: options.repo },
    );
  }
  const transport = hubFetch({ ...HUB_RETRY, ...options.retry });
  const hub = new HubRepo({
    repo,
    hubUrl: hubEndpoint(options.hubUrl),
    accessToken,
    fetch: transport.fetch,
    useXet: options.xet ?? false,
    spec: options.repo,
  });
  await hub.open({ private: options.private ?? false });
  return { hub, transport };
}
