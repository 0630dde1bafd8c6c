import { Writable } from "node:stream";
import type { Sample } from "../core/sample.js";
import { RunStats } from "../core/stats.js";
import type { SampleSink, SinkResult } from "./sink.js";

/** Counts samples and drops them: for benchmarks, and dry runs that only check the inputs. */
export function discardSink(options: { stats?: RunStats } = {}): SampleSink {
  const stats = options.stats ?? new RunStats();
  const result: SinkResult = { samples: 0, bytes: 0, shards: [] };
  const sink = new Writable({
    objectMode: true,
    write(sample: Sample, _encoding, callback) {
      result.samples++;
      result.bytes += sample.image.length;
      stats.written++;
      callback();
    },
  });
  return Object.assign(sink, { result });
}
