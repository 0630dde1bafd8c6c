import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The CLI as plain JavaScript for the tests that start it as a process.
    globalSetup: ["test/support/build-for-tests.ts"],
    // sharp and libvips are happiest in plain child processes.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
