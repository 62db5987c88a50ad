import { samtuneVitestConfig } from '../../vitest.shared.js';

// these two load the boxes-csv dataset plugin, which stays registered for the whole process (a
// later `--plugin` of it would add nothing)
export default samtuneVitestConfig({
  shared: true,
  isolated: ['src/cli.test.ts', 'src/commands/train-run.test.ts'],
});
