import { defineConfig } from 'vitest/config';

// Vite >= 6 applies `resolve.conditions` to the client environment only; vitest runs modules in the
// SSR environment, so workspace packages resolve to their sources only with `ssr.resolve.conditions`
// (and `externalConditions` for the ones Node itself loads).
export default defineConfig({
  resolve: { conditions: ['@samtune/source'] },
  ssr: { resolve: { conditions: ['@samtune/source'], externalConditions: ['@samtune/source'] } },
  // One fork runs every file without a fresh module graph per file (`isolate: false`): no test file
  // changes env, cwd, timers or mocks, and each closes its servers. Per-file isolation cost ~40% of
  // the package's time in fork start-up and module loading (onnxruntime, sharp, fastify, tfjs).
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    isolate: false,
  },
});
