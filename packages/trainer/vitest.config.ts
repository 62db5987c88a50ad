import { samtuneVitestConfig } from '../../vitest.shared.js';

// the first two set tfjs' backend to 'cpu' for the whole process; validate-clicks mocks a module
// (`vi.mock` needs the file's own module graph)
export default samtuneVitestConfig({
  shared: true,
  isolated: ['src/optimizer.test.ts', 'src/ort-engine/adam-graph.test.ts', 'src/validate-clicks.test.ts'],
});
