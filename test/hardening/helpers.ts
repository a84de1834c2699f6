/**
 * What the hardening suites share: what a user must (never) see after a
 * failure, snapshots of the config folder, a closed port, and a small pool
 * that runs CLI processes side by side (most of their time is spent waiting).
 */
import {expect} from 'chai'
import {readdir, readFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import path from 'node:path'

import type {CliResult} from '../helpers/cli.js'

/** Secrets of the emulator's kinds (and PKCE's verifier) must never be printed. */
const SECRET = /pcc_pat_[\w\-]{6,}|emu_(?:at|rt|lt|code)_[\w\-]+|code_verifier/v

/** A stack frame as Node prints it. */
const STACK_FRAME = /^\s+at .+/mv

/** What no failure may show: a stack trace, oclif's "unexpected" wording, a secret. */
export function expectNoLeaks(result: CliResult, ...secrets: string[]): void {
  const output = result.stdout + result.stderr
  expect(output, 'stack trace').not.to.match(STACK_FRAME)
  expect(output, 'unexpected error').not.to.match(/Unexpected error|TypeError|ReferenceError|RangeError|SyntaxError|\bERR_[A-Z_]+/v)
  expect(output, 'secret').not.to.match(SECRET)
  for (const secret of secrets) expect(output, 'secret').not.to.contain(secret)
}

/** The error as the user sees it: exactly one `Error:` line and one `Try this:` line on stderr; returns the error line. */
export function errorLines(result: CliResult): {error: string; suggestion: string} {
  const lines = result.stderr.split('\n')
  const errors = lines.filter(line => line.startsWith('Error: '))
  const suggestions = lines.filter(line => line.startsWith('Try this: '))
  expect(errors, `one Error: line in\n${result.stderr}`).to.have.length(1)
  expect(suggestions, `one Try this: line in\n${result.stderr}`).to.have.length(1)
  expect(suggestions[0]!.length, 'a real suggestion').to.be.greaterThan('Try this: '.length + 10)
  return {error: errors[0]!, suggestion: suggestions[0]!}
}

/** Every file in the config folder with its bytes, by name in order (a leftover temp or lock file shows up as a new name). */
export type FolderSnapshot = Record<string, Buffer>

export async function snapshotFolder(dir: string): Promise<FolderSnapshot> {
  const files: FolderSnapshot = {}
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return files
  }

  for (const name of names.toSorted()) {
    try {
      files[name] = await readFile(path.join(dir, name))
    } catch {
      files[name] = Buffer.from('<not a readable file>')
    }
  }

  return files
}

export function expectSameFolder(after: FolderSnapshot, before: FolderSnapshot, what = 'the config folder'): void {
  expect(Object.keys(after), `${what}: file names`).to.deep.equal(Object.keys(before))
  for (const [name, bytes] of Object.entries(before)) {
    expect(after[name]?.equals(bytes), `${what}: ${name} byte-for-byte unchanged`).to.equal(true)
  }
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', () => {
      resolve();
    })
  })
  const {port} = server.address() as {port: number}
  await new Promise<void>(resolve => {
    server.close(() => {
      resolve();
    })
  })
  return port
}

/** Runs `work` over `items`, at most `limit` at a time; results in the items' order. */
export async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = Array.from({length: items.length})
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index]!)
    }
  }

  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}
