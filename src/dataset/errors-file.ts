import { type OutputFile, openOutputFile } from "../sinks/output-file.js";

/**
 * errors.jsonl as a run writes it: opened at the first failure (a run without any leaves no
 * file), a line per failed pair in order, put in place by `close`. Lines come from a synchronous
 * callback, so writes are chained here rather than awaited by the caller.
 */
export class ErrorsFile {
  private file: Promise<OutputFile> | undefined;
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;

  /** `path` below `root` (the output folder, or the folder the file is in). */
  constructor(
    private readonly root: string,
    private readonly path: string,
  ) {}

  append(line: string): void {
    if (this.file === undefined) {
      this.file = openOutputFile(this.root, this.path);
      // Awaited by the chain below, maybe only later: not an unhandled rejection meanwhile.
      this.file.catch(() => {});
    }
    const file = this.file;
    this.pending = this.pending
      .then(async () => (await file).write([Buffer.from(line)]))
      .catch((error: unknown) => {
        this.failure ??= error;
      });
  }

  /**
   * Puts the file in place. Throws when a line could not be written: a failure without its line
   * would be lost without trace, so the run must not end as if the file were whole.
   */
  async close(): Promise<void> {
    if (this.closed || this.file === undefined) return;
    this.closed = true;
    await this.pending;
    const file = await this.file.catch((error: unknown) => {
      this.failure ??= error;
      return undefined;
    });
    if (this.failure !== undefined) {
      await file?.abort();
      throw this.failure;
    }
    await file?.complete();
  }
}
