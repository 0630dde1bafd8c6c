/** How maskpipe writes its JSON files (run.json, report.json, index.json): indented, one newline at the end. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
