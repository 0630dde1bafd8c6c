/**
 * Runs `work` on up to `concurrency` items at once and yields the results in input order, so
 * the output of a run never depends on which image finished first.
 */
export async function* orderedMap<T, R>(
  items: AsyncIterable<T>,
  concurrency: number,
  work: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Promise<R>[] = [];
  const iterator = items[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    while (true) {
      while (!exhausted && inFlight.length < concurrency) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const result = work(next.value);
        // Awaited in order below; this only keeps an early rejection from counting as unhandled.
        result.catch(() => {});
        inFlight.push(result);
      }
      const head = inFlight.shift();
      if (head === undefined) return;
      yield await head;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
