import {Errors, type Hook} from '@oclif/core'

import {ExitCode} from '../../errors.js'
import {failureJson, failureLines, jsonText} from '../../failure.js'
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
  const error = word === undefined ? unknownFlag(words[0] ?? id, config.bin) : unknownCommandError(config, undefined, word)
  if (!error) return
  const isJson = words.includes('--json') || process.env.PIPECAT_OUTPUT?.trim().toLowerCase() === 'json'
  if (isJson) this.log(jsonText(failureJson(error), config.theme))
  else for (const line of failureLines(error)) process.stderr.write(`${line}\n`)
  this.exit(ExitCode.usage)
}

/** `pipecat --frobnicate`: said as a command's unknown flag is. */
function unknownFlag(flag: string, bin: string): Errors.CLIError {
  const error = new Errors.CLIError(`Nonexistent flag: ${flag}`, {
    code: 'usage', exit: ExitCode.usage, suggestions: [`Run \`${bin} --help\` to see what it accepts.`],
  })
  error.name = 'Error'
  return error
}

export default hook
