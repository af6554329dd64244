// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The sandbox is an independent witness of EKS: it never imports the product's deciders (issue 21).
    files: ['src/sandbox/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/decide/**', '**/upgrade-planner/**', '**/gather/**', '**/act/**', '**/render/**'],
          message: 'src/sandbox/ is an independent witness: it must not import the product (decide, upgrade-planner, gather, act, render); shared pure helpers live in src/formats/.',
        }],
      }],
    },
  },
  {
    // CommonJS on purpose (a benchmark's floor): require() is how it loads.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
