/** Stable error codes: callers branch on `code`, never on message text. */
export type ErrorCode =
  | "ERR_INVALID_OPTION"
  | "ERR_PIPELINE_FILE"
  | "ERR_SOURCE_NOT_FOUND"
  | "ERR_SOURCE_FORMAT"
  | "ERR_ZIP_CORRUPT"
  | "ERR_ZIP_UNSUPPORTED"
  | "ERR_TAR_CORRUPT"
  | "ERR_TAR_TRUNCATED"
  | "ERR_MEMBER_TOO_LARGE"
  | "ERR_MEMBER_SIZE"
  | "ERR_MEMBER_CRC"
  | "ERR_MEMBER_CORRUPT"
  | "ERR_DUPLICATE_KEY"
  | "ERR_JOIN_MEMORY"
  | "ERR_JOIN_ORDER"
  | "ERR_IMAGE_DECODE"
  | "ERR_IMAGE_ENCODE"
  | "ERR_MASK_SIZE"
  | "ERR_OUTPUT"
  | "ERR_OUTPUT_NAME"
  | "ERR_HTTP"
  | "ERR_HTTP_RANGE"
  | "ERR_HTTP_CHANGED"
  | "ERR_HUB"
  | "ERR_HUB_AUTH"
  | "ERR_OUTPUT_EXISTS"
  | "ERR_OUTPUT_LINK"
  | "ERR_OUTPUT_NOT_OURS"
  | "ERR_RUN_MISMATCH"
  | "ERR_INPUTS_MISMATCH"
  | "ERR_INTERRUPTED"
  | "ERR_7Z_VOLUME"
  | "ERR_7Z_CORRUPT"
  | "ERR_7Z_UNSUPPORTED"
  | "ERR_7Z_BINARY"
  | "ERR_ANNOTATION"
  | "ERR_PARTITIONS"
  | "ERR_OVERLAY_WORKER";

export interface ErrorContext {
  /** The archive, folder or URL the problem is in. */
  archive?: string;
  /** The member path inside it. */
  member?: string;
  cause?: unknown;
}

/**
 * Every error maskpipe throws on purpose. The message names the archive and member and says
 * what to do next; `code` is stable across versions.
 */
export class MaskpipeError extends Error {
  readonly code: ErrorCode;
  readonly archive: string | undefined;
  readonly member: string | undefined;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = "MaskpipeError";
    this.code = code;
    this.archive = context.archive;
    this.member = context.member;
  }
}

/** `archive: member` as it appears at the start of messages. */
export function where(archive: string, member?: string): string {
  return member === undefined ? archive : `${archive}: ${member}`;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
