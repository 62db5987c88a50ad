import { defineConfig } from 'vitest/config';

// The examples run in child processes (tsx); this config only runs the runner.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 300_000, pool: 'forks' },
});
