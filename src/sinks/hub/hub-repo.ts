import { type CommitOperation, commit, createRepo, datasetInfo, listFiles } from "@huggingface/hub";
import { errorMessage, MaskpipeError } from "../../core/errors.js";
import { type HfRepo, redactToken } from "../../sources/hf/hf-url.js";

/** Everything needed to talk to one dataset repo. */
export interface HubConnection {
  repo: HfRepo;
  /** Without a trailing slash. */
  hubUrl: string;
  accessToken: string;
  fetch: typeof fetch;
  /** Upload through Xet instead of plain LFS. */
  useXet: boolean;
  /** `hf://datasets/...` as the user wrote it, for messages. */
  spec: string;
}

/** A file already in the repo: its size and, for LFS files, the sha256 of its bytes. */
export interface RemoteFile {
  size: number;
  sha256: string | undefined;
}

/** A file to add; `sha256` when known, so a retried commit can drop what already landed. */
export interface HubUpload {
  path: string;
  content: Blob;
  sha256?: string;
}

/**
 * Commits redone after the branch moved. Partitions publishing to one repo at once move it under
 * each other: with N writers a commit loses the race about N-1 times in N, so allow many tries,
 * each after a random wait that grows, so the writers fall out of step.
 */
const CONFLICT_RETRIES = 30;
const CONFLICT_WAIT_MS = { first: 50, most: 5000 } as const;

/**
 * One dataset repo through @huggingface/hub: create it if missing, list files, commit. Commits
 * name the parent they were made on; when the branch moved meanwhile (409/412), the commit is
 * made again on the new head. Errors become MaskpipeErrors naming the repo.
 */
export class HubRepo {
  /** The commit the next commit is made on. */
  private head: string | undefined;
  /** Commits this object made. */
  commits = 0;

  constructor(private readonly connection: HubConnection) {}

  get spec(): string {
    return this.connection.spec;
  }

  /** `owner/repo`. */
  get name(): string {
    return this.connection.repo.name;
  }

  private get client() {
    const { repo, hubUrl, accessToken, fetch } = this.connection;
    return { repo: { type: "dataset" as const, name: repo.name }, hubUrl, accessToken, fetch };
  }

  /** Makes sure the repo exists (creating it, private if asked) and learns its head commit. */
  async open(options: { private: boolean }): Promise<void> {
    try {
      this.head = await this.headCommit();
    } catch (error) {
      if (statusOf(error) !== 404) throw this.failure("cannot read the repo", error);
      try {
        await createRepo({ ...this.client, ...(options.private && { private: true }) });
      } catch (cause) {
        // Created meanwhile by someone else: fine, it exists now.
        if (statusOf(cause) !== 409) throw this.failure("cannot create the repo", cause);
      }
      this.head = await this.headCommit().catch((cause: unknown) => {
        throw this.failure("cannot read the repo it just created", cause);
      });
    }
  }

  /** Files under `folder` (recursively), by path. */
  async list(folder: string): Promise<Map<string, RemoteFile>> {
    const files = new Map<string, RemoteFile>();
    try {
      for await (const entry of listFiles({
        ...this.client,
        revision: this.connection.repo.revision,
        path: folder,
        recursive: true,
      })) {
        if (entry.type === "file")
          files.set(entry.path, { size: entry.size, sha256: entry.lfs?.oid });
      }
    } catch (error) {
      if (statusOf(error) === 404) return files; // the folder does not exist yet
      throw this.failure(`cannot list ${folder}`, error);
    }
    return files;
  }

  /** One commit adding `uploads` and deleting `deletions`; redone on the new head after a conflict. */
  async commit(
    title: string,
    uploads: readonly HubUpload[],
    deletions: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    let pending = [...uploads];
    for (let attempt = 1; ; attempt++) {
      const operations: CommitOperation[] = [
        ...pending.map(({ path, content }) => ({
          operation: "addOrUpdate" as const,
          path,
          content,
        })),
        ...deletions.map((path) => ({ operation: "delete" as const, path })),
      ];
      try {
        const output = await commit({
          ...this.client,
          title,
          operations,
          branch: this.connection.repo.revision,
          useXet: this.connection.useXet,
          ...(this.head !== undefined && { parentCommit: this.head }),
          ...(signal !== undefined && { abortSignal: signal }),
        });
        this.head = output?.commit.oid;
        this.commits++;
        return;
      } catch (error) {
        const status = statusOf(error);
        if ((status !== 409 && status !== 412) || attempt > CONFLICT_RETRIES) {
          throw this.failure(`cannot commit "${title}"`, error);
        }
        // Someone (or a commit whose reply was lost) moved the branch: redo on the new head,
        // leaving out files that are already there with the same bytes.
        const most = Math.min(CONFLICT_WAIT_MS.most, CONFLICT_WAIT_MS.first * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * most));
        this.head = await this.headCommit().catch((cause: unknown) => {
          throw this.failure("cannot read the repo's new head", cause);
        });
        const remote = await this.list("");
        pending = pending.filter(
          (upload) =>
            upload.sha256 === undefined || remote.get(upload.path)?.sha256 !== upload.sha256,
        );
        if (pending.length === 0 && deletions.length === 0) return;
      }
    }
  }

  /** A small file of the repo's branch as text; `undefined` when the repo has no such file. */
  async readText(path: string): Promise<string | undefined> {
    let response: Response;
    try {
      response = await this.connection.fetch(this.fileUrl(path), { headers: this.authorization });
    } catch (cause) {
      throw this.failure(`cannot read ${path}`, cause);
    }
    if (response.status === 404) return undefined;
    if (!response.ok) {
      await response.body?.cancel();
      const error = new Error(`answered ${response.status}`);
      throw this.failure(
        `cannot read ${path}`,
        Object.assign(error, { statusCode: response.status }),
      );
    }
    return response.text();
  }

  /** Where a file of the repo's branch is downloaded from (LFS files redirect to storage). */
  fileUrl(path: string): string {
    const { hubUrl, repo } = this.connection;
    return `${hubUrl}/datasets/${repo.name}/resolve/${encodeURIComponent(repo.revision)}/${path}`;
  }

  /** The header that authorises downloads from the Hub's own origin. */
  get authorization(): Record<string, string> {
    return { authorization: `Bearer ${this.connection.accessToken}` };
  }

  private async headCommit(): Promise<string> {
    const info = await datasetInfo({
      ...this.client,
      name: this.connection.repo.name,
      revision: this.connection.repo.revision,
      additionalFields: ["sha"],
    });
    return info.sha;
  }

  private failure(what: string, cause: unknown): MaskpipeError {
    const status = statusOf(cause);
    const message = redactToken(errorMessage(cause), this.connection.accessToken);
    if (status === 401 || status === 403) {
      return new MaskpipeError(
        "ERR_HUB_AUTH",
        `${this.connection.spec}: ${what}: the Hub refused the token (${status}: ${message}); check HF_TOKEN or --hf-token, and that the token may write to ${this.connection.repo.name}`,
        { archive: this.connection.spec, cause },
      );
    }
    return new MaskpipeError("ERR_HUB", `${this.connection.spec}: ${what}: ${message}`, {
      archive: this.connection.spec,
      cause,
    });
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** A file of text (or bytes already in memory) to commit. */
export function textUpload(path: string, content: string | Buffer): HubUpload {
  return { path, content: new Blob([content]) };
}
