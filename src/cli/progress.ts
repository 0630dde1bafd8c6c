import type { RunProgress } from "../run/run-options.js";

export function formatDuration(seconds: number): string {
  // Short runs (a trial, the sample) get tenths: "0s" says nothing.
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)}s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Decimal units, as file sizes are shown: 512 B, 14.2 kB, 1.1 MB, 3.40 GB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

export function progressLine(progress: RunProgress): string {
  const rate = progress.seconds > 0 ? progress.written / progress.seconds : 0;
  const parts = [`${progress.written.toLocaleString("en-US")} written`, `${rate.toFixed(1)} img/s`];
  if (progress.failed > 0) parts.push(`${progress.failed} failed`);
  if (progress.expected !== undefined && progress.expected > 0) {
    const done = progress.written + progress.failed;
    parts.push(`${Math.min(100, (100 * done) / progress.expected).toFixed(0)}%`);
    if (rate > 0) parts.push(`ETA ${formatDuration(Math.max(0, progress.expected - done) / rate)}`);
  }
  if (progress.unpacked !== undefined && progress.unpacked.total > 0) {
    const { done, total } = progress.unpacked;
    parts.push(`${formatBytes(done)} of ${formatBytes(total)} unpacked`);
  }
  if (progress.networkBytes > 0) {
    const mb = progress.networkBytes / 1e6;
    parts.push(
      `${mb.toFixed(1)} MB read (${(progress.seconds > 0 ? mb / progress.seconds : 0).toFixed(1)} MB/s)`,
    );
  }
  return parts.join(" · ");
}

/**
 * Progress on stderr: one line rewritten in place on a terminal, a plain line every
 * `intervalMs` otherwise (logs of long runs in CI or nohup stay readable).
 */
export function progressReporter(
  stream: NodeJS.WriteStream,
  intervalMs = stream.isTTY ? 250 : 10_000,
) {
  let last = 0;
  let shown = false;
  return {
    update(progress: RunProgress): void {
      const now = performance.now();
      if (now - last < intervalMs) return;
      last = now;
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${progressLine(progress)}`);
        shown = true;
      } else {
        stream.write(`${progressLine(progress)}\n`);
      }
    },
    done(): void {
      if (shown) stream.write("\r\x1b[2K");
    },
  };
}
