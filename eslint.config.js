// Flat ESLint config: typescript-eslint on every package, and nx module boundaries that keep the
// dependency direction of DEVELOPERS.md / DESIGN.md: transforms <- datasets; sam-model uses transforms;
// losses stands alone; trainer composes; export and quantize-ptq sit on sam-model; apps compose.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const libs = (...names) => names.map((n) => `scope:${n}`);

const constraints = [
  { sourceTag: 'type:lib', notDependOnLibsWithTags: ['type:app'] },
  { sourceTag: 'scope:transforms', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:losses', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:datasets', onlyDependOnLibsWithTags: libs('transforms') },
  { sourceTag: 'scope:sam-model', onlyDependOnLibsWithTags: libs('transforms') },
  { sourceTag: 'scope:trainer', onlyDependOnLibsWithTags: libs('transforms', 'datasets', 'sam-model', 'losses') },
  { sourceTag: 'scope:export', onlyDependOnLibsWithTags: libs('transforms', 'sam-model') },
  { sourceTag: 'scope:quantize-ptq', onlyDependOnLibsWithTags: libs('transforms', 'datasets', 'sam-model', 'export') },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
];
const boundaries = (depConstraints) => ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints }];

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
      '@nx/enforce-module-boundaries': boundaries(constraints),
    },
  },
  {
    // losses' TESTS may read the reference fixtures with sam-model's safetensors reader (a
    // devDependency); its source stays standalone.
    files: ['packages/losses/src/**/*.test.ts', 'packages/losses/src/test-utils/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(
        constraints.map((c) => (c.sourceTag === 'scope:losses' ? { ...c, onlyDependOnLibsWithTags: libs('sam-model') } : c)),
      ),
    },
  },
);
