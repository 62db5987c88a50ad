import { samtuneVitestConfig } from '../../vitest.shared.js';

// these load dataset plugins, which register their adapters when their module is first imported (a
// second import in the same process would register nothing)
export default samtuneVitestConfig({
  shared: true,
  isolated: ['src/plugins.test.ts', 'src/tool-exports.test.ts'],
});
