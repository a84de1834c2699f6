import {includeIgnoreFile} from '@eslint/compat'
import oclif from 'eslint-config-oclif'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const gitignorePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '.gitignore')

const config = [
  includeIgnoreFile(gitignorePath),
  ...oclif,
  {ignores: ['test/fixtures/**/node_modules/**', 'man/**']},
  {
    files: ['test/**/*.ts', 'test/**/*.mjs', 'scripts/**/*.ts', 'scripts/**/*.mjs'],
    rules: {
      // Tests and scripts talk to the user and to child processes directly.
      '@typescript-eslint/no-loop-func': 'off',
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'off',
      'n/no-unsupported-features/node-builtins': 'off',
      'no-await-in-loop': 'off',
      'unicorn/consistent-boolean-name': 'off',
      'unicorn/no-process-exit': 'off',
    },
  },
  {
    files: ['test/support/suite.ts'],
    rules: {
      // emulatorSuite() is called inside the caller's describe, so its hooks are not top-level there.
      'mocha/no-exports': 'off',
      'mocha/no-top-level-hooks': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'test/emulator/**/*.ts'],
    rules: {
      // Sorting puts related steps hundreds of lines apart; code here reads in the order a request flows.
      'perfectionist/sort-classes': 'off',
      'perfectionist/sort-modules': 'off',
      'perfectionist/sort-objects': 'off',
      'perfectionist/sort-switch-case': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    // Lines in src fit a screen (139 characters).
    rules: {'@stylistic/max-len': ['error', {code: 139, ignoreUrls: true}]},
  },
  {
    rules: {
      // Public API first, helpers after, reads better than private-first; no-op callbacks are deliberate.
      '@typescript-eslint/no-empty-function': 'off',
      // JSON output says "not set" with null; Buffer is what node:fs returns.
      '@typescript-eslint/no-restricted-types': 'off',
      'n/prefer-global/buffer': 'off',
      'unicorn/consistent-class-member-order': 'off',
    },
  },
]

export default config
