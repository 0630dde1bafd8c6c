/**
 * How a report or errors file of an earlier maskpipe run is told from a user's file at the same
 * path: only maskpipe's own may be written over (`--overwrite`, a rerun), never anything else.
 * The tests are on content, as maskpipe writes it; a file edited by hand may no longer pass.
 */

/** A report.json: a JSON object with maskpipe's version, the run's name and its identity. */
export function isMaskpipeReport(text: string): boolean {
  const report = parseObject(text);
  return (
    report !== undefined &&
    typeof report.maskpipe === "string" &&
    typeof report.name === "string" &&
    typeof report.identity === "object" &&
    report.identity !== null
  );
}

/** An errors.jsonl: at least one line, each a failure record (archive, member, stage, code). */
export function isMaskpipeErrors(text: string): boolean {
  const lines = text.split("\n").filter((line) => line !== "");
  return (
    lines.length > 0 &&
    lines.every((line) => {
      const record = parseObject(line);
      return (
        record !== undefined &&
        typeof record.archive === "string" &&
        typeof record.member === "string" &&
        typeof record.stage === "string" &&
        typeof record.code === "string" &&
        record.code.startsWith("ERR_")
      );
    })
  );
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
