import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import type { SampleSink } from "../src/sinks/sink.js";
import { SplitSink } from "../src/sinks/split-sink.js";

/** A split's sink whose last step fails, as a Hub commit that gives up does. */
function failingAtEnd(): SampleSink {
  const sink = new Writable({
    objectMode: true,
    write(_sample, _encoding, callback) {
      callback();
    },
    final(callback) {
      setImmediate(() => callback(new Error("commit failed after 6 tries")));
    },
  });
  return Object.assign(sink, { result: { samples: 0, bytes: 0, shards: [] } });
}

describe("SplitSink", () => {
  it("fails when a split's sink fails as it finishes, never ending as if all were written", async () => {
    const samples = [
      { key: "a", label: { split: "train" } },
      { key: "b", label: { split: "test" } },
    ];
    const sink = new SplitSink(() => failingAtEnd());
    await expect(pipeline(Readable.from(samples), sink)).rejects.toThrow(
      /commit failed after 6 tries/,
    );
  });
});
