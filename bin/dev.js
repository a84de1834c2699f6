#!/usr/bin/env -S node --import tsx --no-warnings
// Runs src/ through tsx. First, on Node older than 22 (@oclif/core 5 needs it), run again under ~/.node22.
// (Static imports, so they run first; the one import() of a .ts file comes after tsx is registered.)
// eslint-disable-next-line import-x/no-unassigned-import -- imported for what it does, before @oclif/core
import '../scripts/node22.mjs'
import {execute} from '@oclif/core'
import {fileURLToPath} from 'node:url'
import {register} from 'tsx/esm/api'

// Without the #! line (`node bin/dev.js`), nothing has registered tsx yet.
register()
// Here the plugin is the CLI, as with bin/run.js (src/start-up/root.ts).
const {rootLoadOptions} = await import('../src/start-up/root.ts')
const loadOptions = rootLoadOptions(fileURLToPath(new URL('..', import.meta.url)), process.argv.slice(2))
await execute({development: true, loadOptions})
