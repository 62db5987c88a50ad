// Flat ESLint config: typescript-eslint on every package, and nx module boundaries that keep the
// dependency direction of DEVELOPERS.md / DESIGN.md: transforms <- datasets; sam-model uses transforms;
// losses stands alone; trainer composes; export and quantize-ptq sit on sam-model; apps compose.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const libs = (...names) => names.map((n) => `scope:${n}`);

/** Dependency direction; `forTests` also lets test files use the test-only fixture helpers. */
function constraints(forTests) {
  const testing = forTests ? ['scope:test-fixtures'] : [];
  const only = (scope, ...deps) => ({
    sourceTag: `scope:${scope}`,
    onlyDependOnLibsWithTags: [...libs(...deps), ...testing],
  });
  return [
    // (source files may not import @samtune/test-fixtures: no list below names it unless forTests)
    { sourceTag: 'type:lib', notDependOnLibsWithTags: ['type:app'] },
    only('transforms'),
    // losses' TESTS may read the reference fixtures with sam-model's safetensors reader (a devDependency).
    forTests ? only('losses', 'sam-model') : only('losses'),
    only('datasets', 'transforms'),
    only('sam-model', 'transforms'),
    only('trainer', 'transforms', 'datasets', 'sam-model', 'losses'),
    only('export', 'transforms', 'sam-model'),
    only('quantize-ptq', 'transforms', 'datasets', 'sam-model', 'export'),
    only('test-fixtures'),
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', ...testing] },
  ];
}
const boundaries = (forTests) => [
  'error',
  { enforceBuildableLibDependency: false, allow: [], depConstraints: constraints(forTests) },
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
);
