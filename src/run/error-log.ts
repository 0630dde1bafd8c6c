import { type ErrorCode, MaskpipeError } from "../core/errors.js";
import { publishedText, Redactor } from "../core/redact.js";
import type { FailureRecord } from "../core/stats.js";
import { ErrorsFile } from "../dataset/errors-file.js";
import { rootOf } from "../sinks/output-file.js";
import type { OnError } from "../transforms/overlay.js";
import type { CheckedRunOptions } from "./run-options.js";

/**
 * What becomes of a failed pair, by `--on-error`: `skip` records it and goes on, `fail` stops the
 * run with it. A policy is a plain function, as webdataset's handlers are.
 */
export const FAILURE_POLICIES: Record<OnError, (failure: FailureRecord) => void> = {
  skip: () => {},
  fail: (failure) => {
    throw new MaskpipeError(failure.code as ErrorCode, `${failure.message} (--on-error fail)`, {
      archive: failure.archive,
      member: failure.member,
    });
  },
};

/**
 * The run's record of every pair it left out: a line each in `--errors` (opened at the first
 * failure, written through the output-file helper), and for a Hub run the lines its errors.jsonl will hold, local paths reduced to file
 * names. A failure's message may quote what a library said of a URL or a header: the run's
 * secrets are taken out first.
 */
export class ErrorLog {
  private readonly file: ErrorsFile | undefined;
  private readonly published: string[] = [];
  private readonly redactor: Redactor;

  constructor(
    private readonly options: CheckedRunOptions,
    /** The local output folder (undefined for a Hub run): an errors file in it follows no link. */
    localOut: string | undefined,
  ) {
    this.file =
      options.errors === undefined
        ? undefined
        : new ErrorsFile(rootOf(options.errors, localOut), options.errors);
    this.redactor = new Redactor({
      headers: options.http?.headers,
      tokens: [options.hub?.token, process.env.HF_TOKEN],
      specs: [options.originals, options.masks],
    });
  }

  /** Records `failure`, then applies the run's failure policy (which may throw to stop it). */
  record(failure: FailureRecord, toHub: boolean): void {
    const line = `${this.redactor.text(JSON.stringify(failure))}\n`;
    const { options } = this;
    if (toHub) this.published.push(publishedText(line, [options.originals, options.masks]));
    this.file?.append(line);
    FAILURE_POLICIES[options.onError](failure);
  }

  /** The lines for a Hub repo's errors.jsonl. */
  publishedLines(): Buffer {
    return Buffer.from(this.published.join(""));
  }

  /**
   * Puts --errors in place; throws when a line could not be written (a report that says "done"
   * vouches for the errors file beside it).
   */
  async close(): Promise<void> {
    await this.file?.close();
  }
}
