import type {Hook} from '@oclif/core'

/**
 * Runs before every command of the host, so it does little and imports
 * nothing. The plugin needs Node 22 (@oclif/core 5): in a host CLI that runs
 * on an older Node, its commands would fail somewhere inside with a stack
 * trace, so that is said in one line instead, and the host's other commands
 * are left alone. (Where the plugin is the CLI, bin/run.js has checked it
 * before anything loads, and this hook is not registered: src/start-up/root.ts.)
 */
const hook: Hook.Init = async function ({config, id}) {
  if (id !== 'cloud' && !id?.startsWith('cloud:')) return
  const major = Number(process.versions.node.split('.', 1)[0])
  if (major >= 22) return
  this.error(
    `The Pipecat Cloud commands need Node.js 22 or newer, but ${config.bin} runs on Node.js ${process.version} (${process.execPath}). `
    + `Install Node.js 22 (https://nodejs.org or your package manager) and run ${config.bin} with it.`,
    {exit: 1},
  )
}

export default hook
