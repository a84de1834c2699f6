/**
 * The standalone builds (`npm run pack:standalone`, in tmp/standalone/) and
 * running their programs with a chosen PATH. Building them takes minutes, so
 * `npm test` only runs their tests once they exist: without them a developer's
 * run skips these tests and says why; CI (CI=true) builds them first, so there
 * a missing artifact is a failure.
 */
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {type CliResult, ROOT} from '../support/cli.js'

export const ARTIFACTS = path.join(ROOT, 'tmp', 'standalone')

/** The Node version the standalone builds carry (package.json's oclif.update.node.version). */
export const BUNDLED_NODE = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {oclif: {update: {node: {version: string}}}})
.oclif.update.node.version

/** The artifact whose name matches, or the test is skipped (failed under CI) saying how to build it. */
export function artifact(context: Mocha.Context, pattern: RegExp): string {
  const found = existsSync(ARTIFACTS) ? readdirSync(ARTIFACTS).find(file => pattern.test(file)) : undefined
  if (found) return path.join(ARTIFACTS, found)
  const why = `no ${pattern} in ${path.relative(ROOT, ARTIFACTS)}/: run \`npm run pack:standalone\` first`
  if (process.env.CI === 'true') throw new Error(`The standalone build is missing (${why}).`)
  console.log(`      skipped: ${why}`)
  context.skip()
}

/** Only the machine's own programs on PATH: no Node 22 that the test run itself may be using. */
export const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin'

/** The machine's `node` (on SYSTEM_PATH), when it is older than 22, else undefined. */
export function oldSystemNode(): string | undefined {
  for (const dir of SYSTEM_PATH.split(':')) {
    const node = path.join(dir, 'node')
    if (!existsSync(node)) continue
    return nodeMajor(node) < 22 ? node : undefined
  }

  return undefined
}

function nodeMajor(node: string): number {
  try {
    return Number(execFileSync(node, ['-p', 'process.versions.node'], {encoding: 'utf8'}).split('.', 1)[0])
  } catch {
    return NaN
  }
}

export type RunOptions = {
  cwd?: string;
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; closed at once when absent. */
  input?: string;
  /** Called with everything printed so far as it arrives, until it resolves true. */
  onOutput?: (text: string) => Promise<boolean>;
  timeoutMs?: number;
}

/** Runs a program with exactly the environment given (no inherited PATH). */
export async function runProgram(file: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe']})
    // A program that never reads stdin may have exited before this write: EPIPE is no failure.
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
    let stdout = ''
    let stderr = ''
    let watching = Boolean(options.onOutput)
    const seen = () => {
      if (!watching) return
      options.onOutput!(stdout + stderr)
      .then(done => {
        if (done) watching = false
      })
      .catch(reject)
    }

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      seen()
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      seen()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
    }, options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code, signal, stderr, stdout,
      })
    })
  })
}
