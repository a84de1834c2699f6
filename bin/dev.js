#!/usr/bin/env -S node --import tsx --no-warnings
// Runs src/ through tsx. First, on Node older than 22 (@oclif/core 5 needs it), run again under ~/.node22.
// (Static imports: tsx cannot scan this file for import() with this #! line.)
// eslint-disable-next-line import-x/no-unassigned-import -- imported for what it does, before @oclif/core
import '../scripts/node22.mjs'
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
