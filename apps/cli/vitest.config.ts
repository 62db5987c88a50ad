import { samtuneVitestConfig } from '../../vitest.shared.js';

// cli.test and train-run load the boxes-csv dataset plugin, which stays registered for the whole
// process (a later `--plugin` of it would add nothing); the slow files run as the `test:slow` nx
// target, which nx starts first (see vitest.shared.ts)
export default samtuneVitestConfig({
  shared: true,
  isolated: ['src/cli.test.ts', 'src/commands/train-run.test.ts'],
  slow: [
    'src/commands/train-sam2.test.ts',
    'src/commands/train-signal.test.ts',
    'src/commands/train-run.test.ts',
    'src/commands/export-sam2.test.ts',
    'src/commands/eval-sam2.test.ts',
    'src/commands/eval.test.ts',
  ],
});
