import { samtuneVitestConfig } from '../../vitest.shared.js';

// the slow files run as the `test:slow` nx target, which nx starts first (see vitest.shared.ts)
export default samtuneVitestConfig({
  shared: true,
  slow: [
    'src/finetune-browser.test.ts',
    'src/finetune/finetune.test.ts',
    'src/finetune/kill-restart.test.ts',
    'src/finetune/export-worker.test.ts',
    'src/finetune/val-set.test.ts',
    'src/finetune/hot-swap.test.ts',
    'src/export-dir.test.ts',
  ],
});
