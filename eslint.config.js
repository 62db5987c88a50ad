// Flat ESLint config: typescript-eslint on every package, and nx module boundaries that keep the
// dependency direction of ARCHITECTURE.md: transforms <- datasets; onnx stands alone; sam-model uses
// transforms and onnx; losses uses onnx's TrainOps type; trainer composes; export and quantize-ptq sit on sam-model
// and onnx; apps compose.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

// every library may use the shared error model (@samtune/errors), which depends on nothing
// and the executor-neutral tensors and op interface (@samtune/tensor), which depend on errors only
const libs = (...names) => ['errors', 'tensor', ...names].map((n) => `scope:${n}`);

const testingOnly = (forTests) => (forTests ? ['scope:test-fixtures'] : []);

/** Dependency direction; `forTests` also lets test files use the test-only fixture helpers. */
function constraints(forTests) {
  const testing = testingOnly(forTests);
  const only = (scope, ...deps) => ({
    sourceTag: `scope:${scope}`,
    onlyDependOnLibsWithTags: [...libs(...deps), ...testing],
  });
  return [
    // (source files may not import @samtune/test-fixtures: no list below names it unless forTests)
    { sourceTag: 'type:lib', notDependOnLibsWithTags: ['type:app'] },
    only('transforms'),
    // losses' TESTS may read the reference fixtures with sam-model's safetensors reader (a devDependency).
    forTests ? only('losses', 'onnx', 'sam-model', 'tensor-files') : only('losses', 'onnx'),
    only('datasets', 'transforms'),
    only('training-data', 'transforms'), // targets, prompts and decoder batches of training and evaluation
    { sourceTag: 'scope:errors', onlyDependOnLibsWithTags: testingOnly(forTests) },
    { sourceTag: 'scope:tensor', onlyDependOnLibsWithTags: ['scope:errors', ...testingOnly(forTests)] },
    only('onnx'),
    only('tensor-files'), // torch checkpoints, safetensors, .npy, atomic writes: no model in mind
    only('worker-thread'), // spawnWorker: the one worker-thread start (built .js or .ts through tsx)
    only('sam-model', 'transforms', 'onnx', 'tensor-files'),
    only('evaluation', 'transforms', 'datasets', 'training-data', 'onnx', 'tensor-files', 'sam-model', 'losses'),
    only(
      'trainer',
      'worker-thread',
      'transforms',
      'datasets',
      'training-data',
      'onnx',
      'tensor-files',
      'sam-model',
      'losses',
      'evaluation',
    ),
    only('export', 'transforms', 'onnx', 'tensor-files', 'sam-model'),
    only(
      'jobs',
      'errors',
      'transforms',
      'datasets',
      'training-data',
      'onnx',
      'tensor-files',
      'sam-model',
      'evaluation',
    ),
    only(
      'quantize-ptq',
      'transforms',
      'datasets',
      'training-data',
      'onnx',
      'tensor-files',
      'sam-model',
      'evaluation',
      'export',
    ),
    only('test-fixtures'),
    only('readme-examples'), // tools/readme-examples: its test spawns the README examples; imports test-fixtures only
    // apps compose libraries; the CLI also composes the server app (`samtune serve`), which uses no app
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'scope:server', ...testing] },
    { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['type:lib', ...testing] },
  ];
}
const boundaries = (forTests) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: constraints(forTests),
    // the CLI's commands import their packages when they run (start time, not bundle splitting), while
    // its helpers and tests import them statically: both are fine
    checkDynamicDependenciesExceptions: ['@samtune/**'],
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/vitest.config.ts', 'runs/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': boundaries(false),
    },
  },
  {
    files: ['**/*.test.ts', '**/test-utils/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(true) },
  },
  {
    // the ort training engine shares only the executor-neutral training core (engine/, recipe/options,
    // @samtune/losses' samLossOn): never the tfjs engine's modules or tfjs itself
    files: ['packages/trainer/src/ort-engine/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tensorflow/*'], message: 'the ort engine runs on onnxruntime only' },
            {
              group: [
                '**/train-step.js',
                '**/optimizer.js',
                '**/engine/tfjs-engine.js',
                '**/recipe/recipe.js',
                '**/recipe/simulated-clicks.js',
                '**/recipe/loss-resolution.js',
              ],
              message: "a tfjs engine module: share the training math through engine/ or @samtune/losses' samLossOn",
            },
          ],
        },
      ],
    },
  },
);
