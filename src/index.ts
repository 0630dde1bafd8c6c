/**
 * maskpipe's public API: the sources, the stream stages and the sinks with their option types,
 * runPipeline and maskedSamples over them, and the commands (verify, merge, preview, pairs). Every
 * stage is a plain Node stream, so it fits `stream.pipeline(...)` and `for await`. Parsers and
 * the CLI's own helpers are not part of it.
 */

export { type MergeOptions, mergePartitions } from "./commands/merge/merge-partitions.js";
export type { MergeStoreOptions } from "./commands/merge/merge-store.js";
export type { EvaluationPair } from "./commands/pairs/choose-pairs.js";
export type { PairSide, PairSides } from "./commands/pairs/pair-sides.js";
export type { PairsFormat } from "./commands/pairs/pairs-format.js";
export {
  evaluationPairs,
  type PairList,
  type PairsOptions,
} from "./commands/pairs/pairs-list.js";
export { type WrittenPairs, writePairs } from "./commands/pairs/write-pairs.js";
export { type PreviewOptions, previewOutput } from "./commands/preview/preview-output.js";
export type { SampleCount } from "./commands/verify/choose-samples.js";
export {
  type InputProof,
  type ProofOptions,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyReport,
  verifyOutput,
} from "./commands/verify/verify-output.js";
export type { ErrorContext } from "./core/errors.js";
export { type ErrorCode, MaskpipeError } from "./core/errors.js";
export { type KeyRule, memberKey } from "./core/keys.js";
export { IMAGE_EXTENSIONS, type SkipReason, skipReason } from "./core/member-filter.js";
export {
  type CheckedMix,
  isMaskedKey,
  type MixOptions,
  maskedPercent,
  PAIRED_PARTS,
  type PairedPart,
} from "./core/mix.js";
export type { JoinedPhoto, LonePhoto, MemberData, Pair } from "./core/pair.js";
export { MAX_PARTITIONS, type Partition, parsePartition } from "./core/partition.js";
export type { SampleLabel } from "./core/sample.js";
export {
  type MemberRef,
  type OriginalPhoto,
  type Sample,
  type SampleMetadata,
  sampleMetadata,
} from "./core/sample.js";
export { type SamplePaths, samplePaths } from "./core/sample-paths.js";
export type { FailureStage } from "./core/stats.js";
export { type FailureRecord, RunStats, type SampleKinds, type Side } from "./core/stats.js";
export { VERSION } from "./core/version.js";
export {
  CONTACT_SHEET_DEFAULTS,
  type ContactSheet,
  type ContactSheetOptions,
  contactSheet,
  type PreviewShard,
  type SheetTile,
} from "./dataset/contact-sheet.js";
export {
  HUB_RETRY,
  HUB_SHARD_DEFAULTS,
  type HubSink,
  type HubSinkOptions,
  hubSink,
  type PublishDetails,
} from "./dataset/hub-dataset.js";
export { type OpenOutputOptions, type OutputFiles, openOutput } from "./dataset/output-files.js";
export type { OutputMode } from "./dataset/output-policy.js";
export type { LabelSources, RunReport } from "./dataset/report.js";
export type { InputVersion, RunIdentity } from "./dataset/run-identity.js";
export {
  type FailureAllowance,
  MAX_FAILED_DEFAULT,
  type RunProblem,
  type RunProblemCode,
} from "./dataset/run-verdict.js";
export type { AnnotationText } from "./labels/annotation-files.js";
export {
  type AnnotationKind,
  type AnnotationSpecs,
  CELEBA_FILES,
  loadAnnotations,
} from "./labels/annotation-files.js";
export type { AnnotationTable, NamedTable } from "./labels/celeba-annotations.js";
export type { LabelIdentity } from "./labels/label-plan.js";
export { Labeler, type LabelMode, type LabelTables, type MissingLabel } from "./labels/labeler.js";
export { type MaskedSamplesOptions, maskedSamples } from "./run/masked-samples.js";
export { loadPipelineFile, type PipelineDefaults, parsePipelineFile } from "./run/pipeline-file.js";
export { type Layout, RUN_DEFAULTS, type RunOptions, type RunProgress } from "./run/run-options.js";
export { runPipeline } from "./run/run-pipeline.js";
export { discardSink } from "./sinks/discard-sink.js";
export { type FolderSinkOptions, folderSink } from "./sinks/folder-sink.js";
export type { CommitPace } from "./sinks/hub/commit-pacer.js";
export type { HubStats } from "./sinks/hub/hub-stats.js";
export type { ResumePoint } from "./sinks/resume.js";
export { type WidsIndex, widsIndex } from "./sinks/shard-index.js";
export type { SampleSink, ShardInfo, SinkResult } from "./sinks/sink.js";
export { SPLIT_ORDER, SplitSink } from "./sinks/split-sink.js";
export {
  SHARD_DEFAULTS,
  type WebDatasetSinkOptions,
  webDatasetSink,
} from "./sinks/webdataset-sink.js";
export { type ByteReader, openFileReader } from "./sources/byte-reader.js";
export type { FolderSourceOptions } from "./sources/folder/folder-source.js";
export { folderSource } from "./sources/folder/folder-source.js";
export type { HttpOptions, HttpStats } from "./sources/http/http-client.js";
export type { PinnedVersion, Validator } from "./sources/http/remote-version.js";
export { RETRY_DEFAULTS, type RetryPolicy } from "./sources/http/retry-policy.js";
export { openLocalSource, openSource } from "./sources/open-source.js";
export type {
  HubOptions,
  OpenedSource,
  OpenSourceOptions,
  RemoteVersion,
} from "./sources/opened-source.js";
export type { SevenZipMember } from "./sources/sevenzip/listing.js";
export { SEVEN_ZIP_ENV, type SevenZipBinary } from "./sources/sevenzip/seven-zip-binary.js";
export {
  type SevenZipSource,
  type SevenZipSourceOptions,
  sevenZipSource,
} from "./sources/sevenzip/seven-zip-source.js";
export type { VolumeSet } from "./sources/sevenzip/volumes.js";
export type {
  EntriesOptions,
  MemberKind,
  MemberList,
  RandomAccessSource,
  ReadResult,
  SequentialSource,
  Source,
  SourceEntry,
  SourceKind,
  SourceMember,
} from "./sources/source.js";
export { type TarSourceOptions, tarSource } from "./sources/tar/tar-source.js";
export type { SpanLimits } from "./sources/zip/zip-source.js";
export { type ZipSourceOptions, zipSource } from "./sources/zip/zip-source.js";
export { type AttachLabelsOptions, attachLabels } from "./transforms/attach-labels.js";
export { blendMaskInto, type RawPixels } from "./transforms/blend.js";
export { type EncodeOptions, encodeRgb, type OutputFormat } from "./transforms/encode.js";
export { type InputCheckOptions, inputCheck } from "./transforms/input-check.js";
export {
  JOIN_DEFAULTS,
  type JoinOptions,
  type JoinStrategy,
  join,
  joinStrategy,
} from "./transforms/join.js";
export {
  type OnError,
  OVERLAY_DEFAULTS,
  type OverlayOptions,
  overlay,
  overlayPair,
  overlaySamples,
} from "./transforms/overlay.js";
export type { WorkerUsage } from "./transforms/overlay-messages.js";
export {
  MAX_OVERLAY_WORKERS,
  type OverlayPoolOptions,
  overlayInProcesses,
} from "./transforms/overlay-pool.js";
export { takePairs } from "./transforms/take.js";
