// Flat ESLint config: typescript-eslint on every package, and nx module boundaries that keep the
// dependency direction of DEVELOPERS.md / DESIGN.md: transforms <- datasets; sam-model uses transforms;
// losses stands alone; trainer composes; export and quantize-ptq sit on sam-model; apps compose.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const libs = (...names) => names.map((n) => `scope:${n}`);

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/vitest.config.ts', 'runs/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:lib', notDependOnLibsWithTags: ['type:app'] },
            { sourceTag: 'scope:transforms', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:losses', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:datasets', onlyDependOnLibsWithTags: libs('transforms') },
            { sourceTag: 'scope:sam-model', onlyDependOnLibsWithTags: libs('transforms') },
            { sourceTag: 'scope:trainer', onlyDependOnLibsWithTags: libs('transforms', 'datasets', 'sam-model', 'losses') },
            { sourceTag: 'scope:export', onlyDependOnLibsWithTags: libs('transforms', 'sam-model') },
            { sourceTag: 'scope:quantize-ptq', onlyDependOnLibsWithTags: libs('transforms', 'datasets', 'sam-model', 'export') },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
    },
  },
);
