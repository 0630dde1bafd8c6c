import { redactUrl, redactUrls } from "../../core/redact.js";
import type { OutputFiles } from "../../dataset/output-files.js";
import type { RunReport } from "../../dataset/report.js";
import type { RunIdentity } from "../../dataset/run-identity.js";
import type { OpenSourceOptions } from "../../sources/opened-source.js";
import { chosenOrdinals, DEFAULT_PROOF_SAMPLES, type SampleCount } from "./choose-samples.js";
import { type DerivedSamples, deriveSamples } from "./derive-samples.js";
import {
  type ChosenSamples,
  chosenFolderFiles,
  chosenShardSamples,
  type MemberDigest,
} from "./output-samples.js";
import type { ListedShard } from "./output-shards.js";
import { type InputSide, openProofInput, type ProofInput } from "./proof-inputs.js";
import { proofLabels } from "./proof-labels.js";
import type { InputProof, VerifyReport } from "./verify-report.js";

/** How `verifyOutput` proves an output against the inputs it was made from (`--inputs`). */
export interface ProofOptions extends Pick<OpenSourceOptions, "http" | "hub" | "sevenZip"> {
  /** Samples re-derived: a count spread over the output, or `all`. Default 100. */
  sample?: SampleCount;
  /** The photos, when not where the run recorded them (moved, a published report, a signed URL). */
  originals?: string;
  /** The masks, likewise. */
  masks?: string;
  /** CelebA's annotation files (a folder or an archive of them), likewise. */
  annotations?: string;
  signal?: AbortSignal;
}

/**
 * Re-derives a deterministic choice of the output's samples from the run's inputs, through the
 * run's own stages and options, and compares every member byte for byte: each sample that
 * differs is a problem naming its key, shard and member. An input that differs from the one the
 * run recorded is a problem too (its samples are compared all the same).
 */
export async function proveInputs(
  files: OutputFiles,
  report: RunReport,
  shards: readonly ListedShard[],
  options: ProofOptions,
  result: VerifyReport,
): Promise<void> {
  const identity = report.identity;
  if (identity === undefined) {
    result.problems.push({
      message: "report.json records no run identity (an older maskpipe): nothing to re-derive",
    });
    return;
  }
  const count = options.sample ?? DEFAULT_PROOF_SAMPLES;
  const choose = (total: number) => chosenOrdinals(total, count, report.name);
  const chosen =
    report.layout === "folder"
      ? await chosenFolderFiles(files, identity, choose)
      : await chosenShardSamples(files, shards, choose);
  result.problems.push(...chosen.problems);
  const inputs = await openInputs(identity, options);
  try {
    for (const [side, input] of Object.entries(inputs) as [InputSide, ProofInput][]) {
      if (input.differences.length === 0) continue;
      result.problems.push({
        message: `the ${side} at ${redactUrl(input.spec)} are not the ones the run read: ${input.differences.join("; ")}`,
      });
    }
    const photos = inputs.originals.source;
    const masks = inputs.masks.source;
    const maskSide = { source: masks, keys: identity.keys.masks };
    const labels = await proofLabels(
      {
        identity: identity.labels,
        from:
          options.annotations === undefined
            ? report.labels?.from
            : { ...report.labels?.from, annotations: options.annotations },
      },
      photos,
      maskSide,
      {
        ...(options.http !== undefined && { http: options.http }),
        ...(options.signal !== undefined && { signal: options.signal }),
      },
    );
    const keys = new Set(chosen.samples.map((sample) => sample.key));
    // Only when the output should hold every pair: not a trial run's, nor one partition's.
    const everyPair =
      count === "all" && identity.limit === undefined && identity.partition === undefined;
    const derived = await deriveSamples(identity, { photos, masks }, keys, {
      labeler: labels.labeler,
      everyPair,
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    if (derived.absent.count > 0) result.problems.push({ message: absentMessage(derived.absent) });
    const proof = compareSamples(chosen, derived, labels.unproved, result);
    proof.inputs = { originals: describe(inputs.originals), masks: describe(inputs.masks) };
    result.proof = proof;
    result.checked.push(...proofLines(proof, result.samples));
    if (everyPair && derived.absent.count === 0)
      result.checked.push(
        "every pair the inputs give is in the output or failed in the run too (none lost)",
      );
  } finally {
    await inputs.originals.source.close();
    await inputs.masks.source.close();
  }
}

async function openInputs(
  identity: RunIdentity,
  options: ProofOptions,
): Promise<Record<InputSide, ProofInput>> {
  const sourceOptions: OpenSourceOptions = {
    ...(options.http !== undefined && { http: options.http }),
    ...(options.hub !== undefined && { hub: options.hub }),
    ...(options.sevenZip !== undefined && { sevenZip: options.sevenZip }),
    ...(options.signal !== undefined && { signal: options.signal }),
  };
  const originals = await openProofInput(
    "originals",
    identity.originals,
    options.originals,
    sourceOptions,
  );
  try {
    const masks = await openProofInput("masks", identity.masks, options.masks, sourceOptions);
    return { originals, masks };
  } catch (error) {
    await originals.source.close();
    throw error;
  }
}

/** Each chosen sample against what the inputs give: members equal, missing, extra, differing. */
function compareSamples(
  chosen: ChosenSamples,
  derived: DerivedSamples,
  unprovedWhy: string | undefined,
  result: VerifyReport,
): InputProof {
  const proof: InputProof = {
    chosen: chosen.samples.length,
    samples: 0,
    members: 0,
    unproved: { members: 0, ...(unprovedWhy !== undefined && { why: redactUrls(unprovedWhy) }) },
    inputs: { originals: "", masks: "" },
  };
  for (const sample of chosen.samples) {
    const problem = (message: string, member?: string) =>
      result.problems.push({
        ...(sample.shard !== undefined && { shard: sample.shard }),
        ...(member !== undefined && { member }),
        // A failure quotes the input as given: a signed URL's query stays out of the report.
        message: redactUrls(`sample ${sample.key}: ${message}`),
      });
    const expected = derived.members.get(sample.key);
    if (expected === undefined) {
      problem(
        derived.failures.get(sample.key) ??
          "the inputs give no pair for this key under the run's key rules (its photo or its mask is not in them)",
      );
      continue;
    }
    const unproved = (name: string) => unprovedWhy !== undefined && LABEL_MEMBER.test(name);
    let equal = true;
    for (const name of new Set([...expected.keys(), ...sample.members.keys()])) {
      if (unproved(name)) {
        // Counted once, as the output has it (without labels, the re-derived json differs).
        if (sample.members.has(name)) proof.unproved.members++;
        continue;
      }
      const message = memberDifference(name, sample.members.get(name), expected.get(name));
      if (message === undefined) {
        proof.members++;
        continue;
      }
      problem(message, name);
      equal = false;
    }
    if (equal) proof.samples++;
  }
  return proof;
}

/** The samples the inputs give that the output lacks, a few by key. */
function absentMessage({ count, examples }: DerivedSamples["absent"]): string {
  const one = count === 1;
  const more = count > examples.length ? ", ..." : "";
  return redactUrls(
    `${count.toLocaleString("en-US")} ${one ? "sample the inputs give is" : "samples the inputs give are"} not in the output, and making ${one ? "it" : "them"} does not fail: ${examples.join(", ")}${more}; make the output again (the same run with --overwrite)`,
  );
}

/** Members that carry the labels: proved only when the labels can be re-derived. */
const LABEL_MEMBER = /\.(json|cls)$/;

/** How a member of the output differs from the one the inputs give; `undefined` when equal. */
function memberDifference(
  name: string,
  found: MemberDigest | undefined,
  derived: MemberDigest | undefined,
): string | undefined {
  if (found === undefined) return `${name} is missing: the run writes it`;
  if (derived === undefined) return `${name} is not a member the run writes for this sample`;
  if (found.sha256 === derived.sha256) return undefined;
  const n = (value: number) => value.toLocaleString("en-US");
  return `${name} differs from what the inputs give (${n(found.bytes)} bytes here, ${n(derived.bytes)} re-derived)`;
}

/** Where an input was read, and what reading it cost where it has no random access. */
function describe(input: ProofInput): string {
  const same = input.differences.length === 0 ? ", the version the run recorded" : "";
  const where = `${redactUrl(input.spec)} (${input.source.kind}${same}`;
  if (input.source.randomAccess) return `${where}: only the members needed were read)`;
  return `${where}: read from its start to the last member needed, as a ${input.source.kind} has no index to seek by)`;
}

function proofLines(proof: InputProof, total: number): string[] {
  const n = (value: number) => value.toLocaleString("en-US");
  return [
    `${n(proof.samples)} of ${n(proof.chosen)} samples chosen${proof.chosen === total ? " (every sample)" : ` of ${n(total)}, spread over the output`} re-derived from the inputs: ${n(proof.members)} members equal byte for byte`,
    ...(proof.unproved.members > 0
      ? [`${n(proof.unproved.members)} json and cls members not proved: ${proof.unproved.why}`]
      : []),
    `originals ${proof.inputs.originals}`,
    `masks ${proof.inputs.masks}`,
  ];
}
