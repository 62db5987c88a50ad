import { defineConfig } from 'vitest/config';

// Vite >= 6 applies `resolve.conditions` to the client environment only; vitest runs modules in the
// SSR environment, so workspace packages resolve to their sources only with `ssr.resolve.conditions`
// (and `externalConditions` for the ones Node itself loads).
export default defineConfig({
  resolve: { conditions: ['@samtune/source'] },
  ssr: { resolve: { conditions: ['@samtune/source'], externalConditions: ['@samtune/source'] } },
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 300_000, pool: 'forks' },
});
