// ESLint flat config. Besides the usual rules it enforces the import rules of DESIGN §3:
//
//   renderer/  --> app/api only (plus React and DOM packages)
//   main/      --> app/, electron           (the only folder that may import electron)
//   app/**     --> app/api, node, npm       (never electron, never main/ or renderer/)
//   app/api    --> zod only                 (pure: no node, no DOM, nothing else in app/)
//
// The table is tested in eslint.layers.test.ts, which lints small fixtures and expects
// these rules to fire.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules.filter((m) => !m.startsWith('_')), ...builtinModules.map((m) => `node:${m}`)];

const noElectron = {
  group: ['electron', 'electron/*'],
  message: 'Only main/ may import electron (DESIGN §3).',
};

/** The import rules, by folder; exported for the lint config's own test. */
export const layerRules = {
  app: {
    patterns: [
      noElectron,
      { regex: '^(\\.\\./)+(main|renderer)(/|$)', message: 'app/ must not import main/ or renderer/ (DESIGN §3).' },
    ],
  },
  api: {
    paths: nodeBuiltins.map((name) => ({ name, message: 'app/api is pure: no node modules (DESIGN §3).' })),
    patterns: [
      noElectron,
      {
        // Anything that is not zod or a file of app/api itself.
        regex: '^(?!zod$|zod/|\\./)',
        message: 'app/api imports zod and its own files only (DESIGN §3).',
      },
    ],
  },
  renderer: {
    paths: nodeBuiltins.map((name) => ({ name, message: 'renderer/ runs in the DOM: no node modules (DESIGN §3).' })),
    patterns: [
      noElectron,
      {
        // Relative imports may reach app/api and nothing else of app/.
        regex: '^(\\.\\./)+app/(?!api(/|$))',
        message: 'renderer/ imports only app/api from app/ (DESIGN §3).',
      },
      { regex: '^(\\.\\./)+main(/|$)', message: 'renderer/ must not import main/ (DESIGN §3).' },
    ],
  },
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', 'test-output/**', '.test-results/**', 'renderer/dist/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' },
      ],
      'max-lines': ['warn', { max: 600, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['app/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', layerRules.app] },
  },
  {
    files: ['app/api/**/*.ts'],
    languageOptions: { globals: {} },
    rules: { 'no-restricted-imports': ['error', layerRules.api] },
  },
  {
    // Tests of the contract run under vitest; that is their only extra import.
    files: ['app/api/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { ...layerRules.api, patterns: [noElectron, { regex: '^(?!zod$|zod/|vitest$|fast-check$|\\./)', message: 'app/api tests import zod, vitest, fast-check and app/api only.' }] },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', layerRules.renderer] },
  },
  {
    files: ['**/*.test.ts', '**/*.test.tsx', 'e2e/**/*.ts'],
    rules: { 'max-lines': 'off' },
  },
  {
    files: ['*.config.js', '*.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
