import {type Hook, ux} from '@oclif/core'

import {ExitCode} from '../../errors.js'
import {
  failureJson,
  failureLines,
  isJsonByEnvironment,
  jsonText,
  usageError,
} from '../../failure.js'
import {unknownCommandError} from '../../unknown-command.js'

/**
 * When this plugin is the CLI (a clone, an npm install of it, the standalone
 * build), a mistyped top-level command (`pipecat clod`) reads as one below a
 * topic does (`pipecat cloud auth whomai`): said as typed, the closest command,
 * exit 2, JSON under --json. Registered by bin/run.js only (see
 * src/start-up/root.ts), never in package.json: in a host, every plugin's
 * command_not_found hook runs and the first to return wins, so the host's own
 * handler must stay the only one.
 */
const hook: Hook.CommandNotFound = async function ({argv = [], config, id}) {
  // oclif joins the words typed into one id (`clod:extra`), or takes a leading flag for it (`--json clod`).
  const words = [...id.split(':'), ...argv]
  const word = words.find(typed => !typed.startsWith('-'))
  const error = word === undefined
    // `pipecat --frobnicate`: said as a command's unknown flag is.
    ? usageError(`Nonexistent flag: ${words[0] ?? id}`, `Run \`${config.bin} --help\` to see what it accepts.`)
    : unknownCommandError(config, undefined, word)
  if (!error) return
  if (words.includes('--json') || isJsonByEnvironment(process.env)) ux.stdout(jsonText(failureJson(error), config.theme))
  else for (const line of failureLines(error)) ux.stderr(line)
  this.exit(ExitCode.usage)
}

export default hook
