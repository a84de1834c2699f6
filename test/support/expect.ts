/** What a user must never see, and how an error must look, whichever way a command ran. */
import {expect} from 'chai'

/** What a command printed: a process's result, or an in-process run's. */
export type Printed = {stderr: string; stdout: string}

/** Secrets of the emulator's kinds (and PKCE's verifier) must never be printed. */
const SECRET = /pcc_pat_[\w\-]{6,}|emu_(?:at|rt|lt|code)_[\w\-]+|code_verifier/v

/** A stack frame as Node prints it. */
const STACK_FRAME = /^\s+at .+/mv

/** No token, refresh token or other secret in anything the CLI printed: none of the emulator's kinds, none of `secrets`. */
export function expectNoSecrets(printed: Printed, ...secrets: string[]): void {
  for (const [stream, text] of [['stdout', printed.stdout], ['stderr', printed.stderr]] as const) {
    expect(text, `${stream} shows a secret`).not.to.match(SECRET)
    for (const secret of secrets) {
      if (secret) expect(text, `${stream} shows a secret`).not.to.contain(secret)
    }
  }
}

/** What no failure may show: a stack trace, oclif's "unexpected" wording, a secret. */
export function expectNoLeaks(printed: Printed, ...secrets: string[]): void {
  const output = printed.stdout + printed.stderr
  expect(output, 'stack trace').not.to.match(STACK_FRAME)
  expect(output, 'unexpected error').not.to.match(/Unexpected error|TypeError|ReferenceError|RangeError|SyntaxError|\bERR_[A-Z_]+/v)
  expectNoSecrets(printed, ...secrets)
}

/** The error as the user sees it: exactly one `Error:` line and one `Try this:` line on stderr. */
export function errorLines(printed: Printed): {error: string; suggestion: string} {
  const lines = printed.stderr.split('\n')
  const errors = lines.filter(line => line.startsWith('Error: '))
  const suggestions = lines.filter(line => line.startsWith('Try this: '))
  expect(errors, `one Error: line in\n${printed.stderr}`).to.have.length(1)
  expect(suggestions, `one Try this: line in\n${printed.stderr}`).to.have.length(1)
  const [error = '', suggestion = ''] = [errors[0], suggestions[0]]
  expect(suggestion.length, 'a real suggestion').to.be.greaterThan('Try this: '.length + 10)
  return {error, suggestion}
}

/** What a flow failed with, as its caller would catch it; fails the test when it succeeds. */
export async function failureOf(promise: Promise<unknown>): Promise<Error & {exit?: number; status?: number; suggestion?: unknown}> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }

  throw new Error('expected a failure, but it succeeded')
}
