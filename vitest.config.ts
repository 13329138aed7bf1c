import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "systems-under-test/**/*.test.ts"],
    globalSetup: ["test/support/global-kafka.ts"],
    // One shared broker and 2 cores: files run one at a time, tests inside a file in order.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ["default"],
  },
});
