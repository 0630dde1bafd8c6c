/**
 * `work`, or a rejection with the signal's reason as soon as `signal` aborts: set-up steps
 * (opening a remote archive, listing a large zip) then end a run within a moment. What `work`
 * yields after that is handed to `discard` (a source opened too late is closed).
 */
export function abortable<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  discard?: (late: T) => unknown,
): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    work.then(discard, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) discard?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
