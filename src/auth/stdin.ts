/**
 * Reading what the user types or pipes in during sign-in: a token on one line
 * (hidden on a terminal), or pasted redirect addresses while login waits.
 */
import {createInterface} from 'node:readline'
import {Writable} from 'node:stream'

import type {Stdin} from '../context.js'

import {LoginError} from '../errors.js'
import {interrupt} from '../interrupt.js'
import {abortable} from '../wait.js'

/** More than any token; a longer input is refused rather than held. */
const STDIN_LIMIT = 64 * 1024

/** The first non-empty line, as soon as it is complete (or at the end of the input). */
export async function readFirstLine(stdin: Stdin, signal: AbortSignal): Promise<string> {
  const {promise, reject, resolve} = Promise.withResolvers<string>()
  let text = ''
  const onData = (chunk: Buffer | string) => {
    text += chunk.toString()
    if (text.length > STDIN_LIMIT) {
      reject(new LoginError('The input on stdin is too long to be a token.', {suggestion: 'Pass only the token.'}))
    } else if (/\S[^\n]*\n/v.test(text)) {
      onEnd()
    }
  }

  const onEnd = () => {
    resolve(text.split(/\r?\n/v).map(line => line.trim()).find(Boolean) ?? '')
  }

  stdin.on('data', onData)
  stdin.once('end', onEnd)
  stdin.once('error', onEnd)
  stdin.resume()
  try {
    return await abortable(promise, signal)
  } finally {
    stdin.off('data', onData)
    stdin.off('end', onEnd)
    stdin.off('error', onEnd)
    stdin.pause()
  }
}

/** One line from the terminal without echoing it (it is a secret); the prompt comes once echo is off. */
export async function readHiddenLine(stdin: Stdin, signal: AbortSignal, prompt: () => void): Promise<string> {
  const muted = new Writable({
    write(_chunk, _encoding, done) {
      done()
    },
  })
  const reader = createInterface({input: stdin, output: muted, terminal: true})
  // The terminal is in raw mode while reading: Ctrl-C arrives here as a key, not as a signal.
  reader.on('SIGINT', interrupt)
  prompt()
  const {promise, resolve} = Promise.withResolvers<string>()
  reader.once('line', line => {
    resolve(line.trim())
  })
  reader.once('close', () => {
    resolve('')
  })
  try {
    return await abortable(promise, signal)
  } finally {
    reader.close()
    stdin.pause()
  }
}

/** Calls `onLine` for each line until stopped; the end of the input simply ends the lines. */
export function readLines(stdin: Stdin, onLine: (line: string) => void): {stop(): void} {
  const reader = createInterface({crlfDelay: Infinity, input: stdin, terminal: false})
  let isStopped = false
  reader.on('line', line => {
    if (!isStopped) onLine(line)
  })
  return {
    stop() {
      if (isStopped) return
      isStopped = true
      reader.close()
      // A paused stdin no longer keeps the process alive.
      stdin.pause()
    },
  }
}
