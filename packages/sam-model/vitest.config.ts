import { samtuneVitestConfig } from '../../vitest.shared.js';

// these set tfjs' backend for the whole process (tf.setBackend('cpu'), initBackend('cpu')), or
// install and remove kernels of it
export default samtuneVitestConfig({
  shared: true,
  isolated: [
    'src/ops/backend.test.ts',
    'src/ops/onnx-ops.test.ts',
    'src/ops/onnx-dynamic.test.ts',
    'src/runtime/tfjs-ort-kernels.test.ts',
  ],
});
