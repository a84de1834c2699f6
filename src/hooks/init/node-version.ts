import type {Hook} from '@oclif/core'

/**
 * The plugin needs Node 22 (@oclif/core 5). In a host CLI that runs on an
 * older Node, its commands would fail somewhere inside with a stack trace:
 * say so in one line instead, and leave the host's other commands alone.
 * Runs on every command of the host, so it imports nothing.
 */
const hook: Hook.Init = async function ({config, id}) {
  const major = Number(process.versions.node.split('.', 1)[0])
  if (major >= 22 || (id !== 'cloud' && !id?.startsWith('cloud:'))) return
  this.error(
    `The Pipecat Cloud commands need Node.js 22 or newer, but ${config.bin} runs on Node.js ${process.version} (${process.execPath}). Install Node.js 22 (https://nodejs.org or your package manager) and run ${config.bin} with it.`,
    {exit: 1},
  )
}

export default hook
