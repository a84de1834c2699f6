/**
 * How a failure is shown, wherever it is caught (a command's catch(), the
 * root CLI's unknown-command hook): two lines on stderr for people, one JSON
 * document on stdout under --json.
 */
import {
  Errors,
  type Interfaces,
  toConfiguredId,
  ux,
} from '@oclif/core'

import {ExitCode} from './errors.js'
import {jsonSafe, oneLine} from './text.js'

/** `pipecat cloud auth login`, in the CLI's bin and topic separator (`pipecat` alone for no id). */
export function commandRef(config: Interfaces.Config, id: string): string {
  return id ? `${config.bin} ${toConfiguredId(id.replaceAll(' ', ':'), config)}` : config.bin
}

/** A mistake in what was typed (an unknown command, flag or argument): exit 2, and what to run instead. */
export function usageError(message: string, suggestion: string): Errors.CLIError {
  const error = new Errors.CLIError(message, {code: 'usage', exit: ExitCode.usage, suggestions: [suggestion]})
  error.name = 'Error'
  return error
}

/** --json asked for by the environment: PIPECAT_OUTPUT=json, the official CLI's variable for it. */
export function isJsonByEnvironment(env: NodeJS.ProcessEnv): boolean {
  return env.PIPECAT_OUTPUT?.trim().toLowerCase() === 'json'
}

/** What went wrong, then what to do: each one line, unwrapped (logs and agents read them whole). */
export function failureLines(error: Errors.CLIError): string[] {
  const lines = [`${ux.colorize('red', 'Error:')} ${oneLine(error.message)}`]
  if (error.suggestions?.length) lines.push(`Try this: ${oneLine(error.suggestions.join(' '))}`)
  return lines
}

/** Under --json: what went wrong, its kind, the exit code and what to do. */
export function failureJson(error: unknown): unknown {
  const {code, message, oclif, suggestions} = error as Errors.CLIError
  return {
    error: {
      code: code ?? 'internal', exit: oclif?.exit ?? ExitCode.failure, message, suggestions: suggestions ?? [],
    },
  }
}

/**
 * A --json document as printed: pretty, in the CLI's theme when it has one for JSON (without one, oclif's
 * colorizeJson would tokenize the text only to join it again), with bidi, C1 and other invisible controls escaped.
 */
export function jsonText(json: unknown, theme?: Interfaces.Theme): string {
  const text = theme?.json ? ux.colorizeJson(json, {pretty: true, theme: theme.json}) : JSON.stringify(json, undefined, 2)
  return jsonSafe(text)
}
