import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The CLI as plain JavaScript for the tests that start it as a process.
    globalSetup: ["test/support/build-for-tests.ts"],
    // sharp and libvips are happiest in plain child processes.
    pool: "forks",
    // Both cores: most files wait on child processes, sockets or sharp's own threads part of the
    // time, so two files at once take 0.8 of the time of one after the other on this 2-core
    // machine (vitest's default leaves one core for itself).
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
