#!/usr/bin/env node
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- present since Node 22.1; guarded below
import {enableCompileCache} from 'node:module'

// Cache compiled code between runs: start-up is most of what these commands cost.
enableCompileCache?.()

const {execute} = await import('@oclif/core')

// `pipecat ... | head` closes stdout early: end quietly, as other CLIs do.
process.stdout.on('error', error => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

await execute({dir: import.meta.url})
