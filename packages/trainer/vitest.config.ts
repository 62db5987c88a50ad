import { samtuneVitestConfig } from '../../vitest.shared.js';

// these two set tfjs' backend to 'cpu' for the whole process
export default samtuneVitestConfig({
  shared: true,
  isolated: ['src/optimizer.test.ts', 'src/ort-engine/adam-graph.test.ts'],
});
