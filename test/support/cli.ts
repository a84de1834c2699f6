/**
 * Runs the built plugin (bin/run.js) as a user would: a child process with its
 * own environment, stdin, stdout, stderr and exit code.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = path.join(ROOT, 'bin', 'run.js')

export type CliResult = {
  code: null | number;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

export type CliOptions = {
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; stdin is closed at once when absent. */
  input?: string;
  timeoutMs?: number;
}

/** Variables of the machine no test may inherit: they would change what the CLI does. */
export const MACHINE_VARIABLES = /^(?:PIPECAT_|DEBUG$|HTTPS?_PROXY$|NO_PROXY$|https?_proxy$|no_proxy$)/v

/** A clean environment: no PIPECAT_* or proxy variables from the machine, no colours. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (MACHINE_VARIABLES.test(key)) continue
    env[key] = value
  }

  const merged = {
    ...env, BROWSER: 'none', NO_COLOR: '1', PIPECAT_HTTP_TIMEOUT: '5', ...extra,
  }
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined))
}

/** Starts the CLI and leaves it running (for login, Ctrl-C and concurrency tests). */
export function startCli(args: string[], options: Omit<CliOptions, 'input'> = {}): ChildProcess & {result: Promise<CliResult>} {
  const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 60_000)
  const result = new Promise<CliResult>(resolve => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code, signal, stderr, stdout,
      })
    })
  })
  return Object.assign(child, {result})
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options)
  child.stdin!.end(options.input ?? '')
  return child.result
}

/** Resolves with the stdout/stderr text seen so far once `pattern` shows up in it. */
export async function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => {
      reject(new Error(`timed out waiting for ${pattern}; saw:\n${seen}`));
    }, timeoutMs)
    const check = (chunk: Buffer | string) => {
      seen += chunk.toString()
      const match = pattern.exec(seen)
      if (match) {
        clearTimeout(timer)
        child.stdout!.off('data', check)
        child.stderr!.off('data', check)
        resolve(match[0])
      }
    }

    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
  })
}
