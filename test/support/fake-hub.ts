import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A file in a commit: regular (content kept) or LFS (oid into the blob store). */
export interface HubFile {
  size: number;
  content?: Buffer;
  lfsOid?: string;
}

interface Commit {
  oid: string;
  parent: string | undefined;
  summary: string;
  files: Map<string, HubFile>;
}

interface Repo {
  private: boolean;
  commits: Commit[];
}

/** Answers the next `count` requests of a route with `status` (Retry-After: 0). */
export interface HubFault {
  route:
    | "create"
    | "info"
    | "preupload"
    | "batch"
    | "upload"
    | "part"
    | "complete"
    | "commit"
    | "tree"
    | "resolve";
  status: number;
  count: number;
}

export interface FakeHub {
  url: string;
  token: string;
  repos: Map<string, Repo>;
  /** PUT uploads per LFS oid, to prove nothing is uploaded twice. */
  uploads: Map<string, number>;
  /** Every request as "METHOD route", in order. */
  log: string[];
  faults: HubFault[];
  /** Called with each request's route before it is answered (e.g. to move a branch). */
  onRequest: ((route: HubFault["route"]) => void) | undefined;
  /** Files of the repo's head commit. */
  files(repo: string): Map<string, HubFile>;
  /** The bytes of a file in the head commit. */
  read(repo: string, path: string): Buffer;
  commits(repo: string): Commit[];
  /** Makes a commit as another writer would, moving the branch under a running upload. */
  commitElsewhere(repo: string, path: string, content: string): void;
  close(): Promise<void>;
}

export interface FakeHubOptions {
  /** Keep uploaded LFS bytes (default true); false keeps only their hashes, for huge uploads. */
  keepBlobs?: boolean;
  /** Entries per page of the tree listing (default 50), so pagination is exercised. */
  pageSize?: number;
  /** Objects larger than this go up in parts of `partSize`, as the Hub does for huge files. */
  multipartOver?: number;
  partSize?: number;
}

const ERROR_JSON = { "content-type": "application/json" };

/**
 * A Hugging Face Hub on 127.0.0.1 with the routes @huggingface/hub calls to create a dataset
 * repo, upload through plain LFS, commit, list and download. Strict about request shapes (wrong
 * shapes answer 400 so the test fails loudly), checks every uploaded blob's sha256 and size
 * against its oid, keeps repos and commits in memory.
 */
export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const token = "hf_fake_test_token";
  const repos = new Map<string, Repo>();
  const blobs = new Map<string, { size: number; bytes?: Buffer }>();
  const expected = new Map<string, number>();
  const uploads = new Map<string, number>();
  const parts = new Map<string, { bytes: Buffer; etag: string }>();
  const log: string[] = [];
  const faults: HubFault[] = [];
  const pageSize = options.pageSize ?? 50;
  let commitCounter = 0;
  let base = "";

  const head = (repo: Repo) => repo.commits[repo.commits.length - 1]!;
  const newCommit = (repo: Repo, summary: string, files: Map<string, HubFile>): Commit => {
    const oid = createHash("sha1").update(`commit ${++commitCounter}`).digest("hex");
    const commit = { oid, parent: repo.commits.at(-1)?.oid, summary, files };
    repo.commits.push(commit);
    return commit;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", base);
    const path = decodeURIComponent(url.pathname);
    const method = request.method ?? "GET";
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { ...ERROR_JSON, ...headers }).end(JSON.stringify(body));
    };
    const route = routeOf(method, path);
    log.push(`${method} ${route ?? path}`);
    if (route === undefined) return send(404, { error: `fake hub: no route ${method} ${path}` });
    hub.onRequest?.(route);
    const fault = faults.find((f) => f.route === route && f.count > 0);
    if (fault !== undefined) {
      fault.count--;
      await drain(request);
      return send(fault.status, { error: "fake hub: injected fault" }, { "retry-after": "0" });
    }
    if (route === "upload") return upload(request, response, path.slice("/lfs-upload/".length));
    if (route === "part") {
      const [, oid, n] = /^\/lfs-part\/([0-9a-f]{64})\/(\d+)$/.exec(path)!;
      const bytes = await drain(request);
      const etag = `"${createHash("md5").update(bytes).digest("hex")}"`;
      parts.set(`${oid}/${n}`, { bytes, etag });
      response.writeHead(200, { etag }).end();
      return;
    }
    if (route === "complete") {
      const oid = path.slice("/lfs-complete/".length);
      const json = parse(await drain(request)) as {
        oid?: string;
        parts?: { partNumber: number; etag: string }[];
      };
      const size = expected.get(oid);
      if (json.oid !== oid || !Array.isArray(json.parts) || size === undefined)
        return send(400, { error: "fake hub: bad multipart completion" });
      const pieces: Buffer[] = [];
      for (const part of json.parts) {
        const stored = parts.get(`${oid}/${part.partNumber}`);
        if (stored === undefined || stored.etag !== part.etag)
          return send(400, { error: `fake hub: part ${part.partNumber} missing or wrong etag` });
        pieces.push(stored.bytes);
      }
      const whole = Buffer.concat(pieces);
      const digest = createHash("sha256").update(whole).digest("hex");
      if (digest !== oid || whole.length !== size)
        return send(400, { error: `fake hub: multipart ${oid} assembled to ${digest}` });
      uploads.set(oid, (uploads.get(oid) ?? 0) + 1);
      blobs.set(oid, { size, ...(options.keepBlobs !== false && { bytes: whole }) });
      return send(200, { success: true });
    }
    if (route !== "resolve" && request.headers.authorization !== `Bearer ${token}`) {
      await drain(request);
      return send(401, { error: "Invalid credentials in Authorization header" });
    }
    const body = await drain(request);
    switch (route) {
      case "create": {
        const json = parse(body) as { name?: string; organization?: string; type?: string };
        if (json.type !== "dataset" || !json.name || !json.organization) {
          return send(400, { error: `fake hub: bad create body ${body}` });
        }
        const name = `${json.organization}/${json.name}`;
        if (repos.has(name)) return send(409, { error: "You already created this dataset repo" });
        const repo: Repo = {
          private: (json as { visibility?: string }).visibility === "private",
          commits: [],
        };
        repos.set(name, repo);
        const attributes = Buffer.from("*.tar filter=lfs diff=lfs merge=lfs -text\n");
        newCommit(
          repo,
          "initial commit",
          new Map([[".gitattributes", { size: attributes.length, content: attributes }]]),
        );
        return send(200, { url: `${base}/datasets/${name}`, name });
      }
      case "info": {
        const [, name] = /^\/api\/datasets\/([^/]+\/[^/]+)\/revision\/[^/]+$/.exec(path)!;
        const repo = repos.get(name!);
        if (repo === undefined)
          return send(404, { error: "Repository not found" }, { "x-error-code": "RepoNotFound" });
        return send(200, {
          _id: name,
          id: name,
          private: repo.private,
          sha: head(repo).oid,
          downloads: 0,
          likes: 0,
          gated: false,
          lastModified: new Date(0).toISOString(),
        });
      }
      case "preupload": {
        const repo = repoOf(path);
        if (repo === undefined) return send(404, { error: "Repository not found" });
        const json = parse(body) as { files?: { path: string; size: number; sample: string }[] };
        if (
          !Array.isArray(json.files) ||
          json.files.some((f) => typeof f.sample !== "string" || typeof f.size !== "number")
        ) {
          return send(400, { error: `fake hub: bad preupload body` });
        }
        return send(200, {
          files: json.files.map((f) => ({
            path: f.path,
            uploadMode: f.path.endsWith(".tar") || f.size >= 10 * 1024 * 1024 ? "lfs" : "regular",
            shouldIgnore: false,
          })),
        });
      }
      case "batch": {
        if (request.headers.accept !== "application/vnd.git-lfs+json")
          return send(400, { error: "fake hub: batch needs the git-lfs Accept" });
        const json = parse(body) as {
          operation?: string;
          hash_algo?: string;
          transfers?: string[];
          objects?: { oid: string; size: number }[];
        };
        if (
          json.operation !== "upload" ||
          json.hash_algo !== "sha_256" ||
          !json.transfers?.includes("basic") ||
          !Array.isArray(json.objects)
        ) {
          return send(400, { error: `fake hub: bad batch body ${body}` });
        }
        return send(200, {
          transfer: "basic",
          objects: json.objects.map(({ oid, size }) => {
            if (blobs.has(oid)) return { oid, size, authenticated: true };
            expected.set(oid, size);
            if (options.multipartOver !== undefined && size > options.multipartOver) {
              const partSize = options.partSize ?? options.multipartOver;
              const header: Record<string, string> = { chunk_size: String(partSize) };
              for (let n = 1; (n - 1) * partSize < size; n++) {
                header[String(n).padStart(5, "0")] = `${base}/lfs-part/${oid}/${n}`;
              }
              const href = `${base}/lfs-complete/${oid}`;
              return { oid, size, authenticated: true, actions: { upload: { href, header } } };
            }
            return {
              oid,
              size,
              authenticated: true,
              actions: { upload: { href: `${base}/lfs-upload/${oid}` } },
            };
          }),
        });
      }
      case "commit": {
        const repo = repoOf(path);
        if (repo === undefined) return send(404, { error: "Repository not found" });
        if (request.headers["content-type"] !== "application/x-ndjson")
          return send(400, { error: "fake hub: commit must be NDJSON" });
        const lines = body
          .toString("utf8")
          .split("\n")
          .map((line) => JSON.parse(line) as { key: string; value: Record<string, unknown> });
        const [header, ...operations] = lines;
        if (header?.key !== "header" || typeof header.value.summary !== "string")
          return send(400, { error: "fake hub: commit needs a header first" });
        const parent = header.value.parentCommit;
        if (parent !== undefined && parent !== head(repo).oid) {
          return send(412, { error: "A commit has happened since. Please refresh and try again." });
        }
        const files = new Map(head(repo).files);
        for (const { key, value } of operations) {
          const filePath = value.path as string;
          if (key === "file") {
            if (value.encoding !== "base64")
              return send(400, { error: "fake hub: file content must be base64" });
            const content = Buffer.from(value.content as string, "base64");
            files.set(filePath, { size: content.length, content });
          } else if (key === "lfsFile") {
            const blob = blobs.get(value.oid as string);
            if (value.algo !== "sha256" || blob === undefined || blob.size !== value.size) {
              return send(422, {
                error: `fake hub: ${filePath}: LFS object ${String(value.oid)} was never uploaded`,
              });
            }
            files.set(filePath, { size: blob.size, lfsOid: value.oid as string });
          } else if (key === "deletedFile") {
            if (!files.delete(filePath))
              return send(404, { error: `fake hub: ${filePath} does not exist` });
          } else {
            return send(400, { error: `fake hub: unknown commit line ${key}` });
          }
        }
        const commit = newCommit(repo, header.value.summary, files);
        return send(200, {
          success: true,
          commitOid: commit.oid,
          commitUrl: `${base}/commit/${commit.oid}`,
        });
      }
      case "tree": {
        const match = /^\/api\/datasets\/([^/]+\/[^/]+)\/tree\/([^/]+)\/?(.*)$/.exec(path)!;
        const repo = repos.get(match[1]!);
        if (repo === undefined) return send(404, { error: "Repository not found" });
        const prefix = match[3] === "" ? "" : `${match[3]}/`;
        const recursive = url.searchParams.get("recursive") === "true";
        const entries = [...head(repo).files]
          .filter(
            ([p]) => p.startsWith(prefix) && (recursive || !p.slice(prefix.length).includes("/")),
          )
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([p, f]) => ({
            type: "file",
            path: p,
            size: f.size,
            oid: createHash("sha1")
              .update(f.lfsOid ?? f.content!)
              .digest("hex"),
            ...(f.lfsOid !== undefined && {
              lfs: { oid: f.lfsOid, size: f.size, pointerSize: 134 },
            }),
          }));
        const cursor = Number(url.searchParams.get("cursor") ?? "0");
        const page = entries.slice(cursor, cursor + pageSize);
        const next = new URL(url);
        next.searchParams.set("cursor", String(cursor + pageSize));
        return send(
          200,
          page,
          cursor + pageSize < entries.length ? { link: `<${next}>; rel="next"` } : {},
        );
      }
      case "resolve": {
        const match = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path)!;
        const repo = repos.get(match[1]!);
        const file = repo === undefined ? undefined : head(repo).files.get(match[3]!);
        if (file === undefined)
          return send(404, { error: "Entry not found" }, { "x-error-code": "EntryNotFound" });
        const bytes = file.content ?? blobs.get(file.lfsOid!)?.bytes;
        if (bytes === undefined) return send(500, { error: "fake hub: blob bytes were not kept" });
        const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
        const etag = `"${file.lfsOid ?? createHash("sha1").update(bytes).digest("hex")}"`;
        if (range === null) {
          response
            .writeHead(200, {
              etag,
              "content-length": String(bytes.length),
              "accept-ranges": "bytes",
            })
            .end(bytes);
          return;
        }
        const start = Number(range[1]);
        const end =
          range[2] === "" ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
        response
          .writeHead(206, {
            etag,
            "accept-ranges": "bytes",
            "content-range": `bytes ${start}-${end}/${bytes.length}`,
            "content-length": String(end - start + 1),
          })
          .end(bytes.subarray(start, end + 1));
        return;
      }
    }
  };

  const upload = async (request: IncomingMessage, response: ServerResponse, oid: string) => {
    const fail = (status: number, message: string) =>
      response.writeHead(status, ERROR_JSON).end(JSON.stringify({ error: `fake hub: ${message}` }));
    if (request.headers.authorization !== undefined) {
      await drain(request);
      return fail(400, "LFS uploads go to presigned URLs: no Authorization header");
    }
    const size = expected.get(oid);
    if (size === undefined) {
      await drain(request);
      return fail(403, `no upload was granted for ${oid}`);
    }
    const hash = createHash("sha256");
    const kept: Buffer[] = [];
    let received = 0;
    for await (const chunk of request) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
      if (options.keepBlobs !== false) kept.push(chunk as Buffer);
    }
    const digest = hash.digest("hex");
    if (digest !== oid || received !== size)
      return fail(400, `blob ${oid}: got sha256 ${digest}, ${received} bytes`);
    uploads.set(oid, (uploads.get(oid) ?? 0) + 1);
    blobs.set(oid, { size, ...(options.keepBlobs !== false && { bytes: Buffer.concat(kept) }) });
    response.writeHead(200, { etag: `"${oid}"` }).end();
  };

  const repoOf = (path: string) =>
    repos.get(/^\/api\/datasets\/([^/]+\/[^/]+)\//.exec(path)?.[1] ?? "");

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent)
        response.writeHead(500, ERROR_JSON).end(JSON.stringify({ error: error.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const headFiles = (name: string) => {
    const repo = repos.get(name);
    if (repo === undefined) throw new Error(`fake hub: no repo ${name}`);
    return head(repo).files;
  };
  const hub: FakeHub = {
    onRequest: undefined,
    url: base,
    token,
    repos,
    uploads,
    log,
    faults,
    files: headFiles,
    read(name, path) {
      const file = headFiles(name).get(path);
      if (file === undefined) throw new Error(`fake hub: no ${path} in ${name}`);
      return file.content ?? blobs.get(file.lfsOid!)!.bytes!;
    },
    commits: (name) => repos.get(name)?.commits ?? [],
    commitElsewhere(name, path, content) {
      const repo = repos.get(name)!;
      const bytes = Buffer.from(content);
      const files = new Map(head(repo).files);
      files.set(path, { size: bytes.length, content: bytes });
      newCommit(repo, `someone else edits ${path}`, files);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return hub;
}

function routeOf(method: string, path: string): HubFault["route"] | undefined {
  if (method === "POST" && path === "/api/repos/create") return "create";
  if (method === "GET" && /^\/api\/datasets\/[^/]+\/[^/]+\/revision\/[^/]+$/.test(path))
    return "info";
  if (method === "POST" && /^\/api\/datasets\/[^/]+\/[^/]+\/preupload\/[^/]+$/.test(path))
    return "preupload";
  if (method === "POST" && /^\/datasets\/[^/]+\/[^/]+\.git\/info\/lfs\/objects\/batch$/.test(path))
    return "batch";
  if (method === "PUT" && /^\/lfs-upload\/[0-9a-f]{64}$/.test(path)) return "upload";
  if (method === "PUT" && /^\/lfs-part\/[0-9a-f]{64}\/\d+$/.test(path)) return "part";
  if (method === "POST" && /^\/lfs-complete\/[0-9a-f]{64}$/.test(path)) return "complete";
  if (method === "POST" && /^\/api\/datasets\/[^/]+\/[^/]+\/commit\/[^/]+$/.test(path))
    return "commit";
  if (method === "GET" && /^\/api\/datasets\/[^/]+\/[^/]+\/tree\/[^/]+/.test(path)) return "tree";
  if ((method === "GET" || method === "HEAD") && /^\/datasets\/[^/]+\/[^/]+\/resolve\//.test(path))
    return "resolve";
  return undefined;
}

async function drain(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return {};
  }
}
