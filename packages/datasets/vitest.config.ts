import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@samtune/source'] },
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 300_000, pool: 'forks' },
});
