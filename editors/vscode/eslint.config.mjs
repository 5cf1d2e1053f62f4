// Lint: typescript-eslint's recommended rules for src/ and test/, eslint's for the panel script.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['media/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        window: 'readonly', document: 'readonly', requestAnimationFrame: 'readonly', performance: 'readonly',
        setTimeout: 'readonly', acquireVsCodeApi: 'readonly', HTMLElement: 'readonly',
      },
    },
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    rules: {
      'no-restricted-properties': ['error',
        { property: 'outerHTML', message: 'Model output must not reach the DOM as HTML except through markdown-it.' }],
      eqeqeq: ['error', 'smart'],
    },
  },
);
