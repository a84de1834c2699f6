#!/usr/bin/env node
import {execute} from '@oclif/core'

// `pipecat ... | head` closes stdout early: end quietly, as other CLIs do.
process.stdout.on('error', error => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

await execute({dir: import.meta.url})
