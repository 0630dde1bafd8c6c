/**
 * Node flags the `maskpipe` command starts its worker process with, and that a program using the
 * library is best started with (`node --initial-old-space-size=64 app.js`).
 *
 * Each image passes a few MB of decoded pixels (about 2.4 MB for a CelebA-sized photo and mask)
 * through buffers V8 counts as external memory, while the JavaScript heap stays near 9 MB. V8
 * sizes a heap that small tightly and, counting external memory against it, starts a full
 * mark-compact after about 8 MB of such buffers: one every ~10 CelebA-sized images, 2-3 ms of
 * CPU per image on 2 cores. A 64 MB floor under the old generation leaves that to the
 * external-memory limit (64 MB): about 20 instead of 200 mark-compacts per 2,000 CelebA-like
 * images, 10-15% less CPU per image, 15-20 MiB more peak RSS. V8 reads the flag only at start-up
 * and NODE_OPTIONS refuses it, so the command runs its work in a second process.
 */
export const HEAP_FLAGS: readonly string[] = ["--initial-old-space-size=64"];
