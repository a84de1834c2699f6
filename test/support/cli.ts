/**
 * Runs the built plugin (bin/run.js) as a user would: a child process with its
 * own environment, stdin, stdout, stderr and exit code.
 */
import {type ChildProcess, type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {waitFor} from './poll.js'

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

export type ProcessOptions = {
  cwd?: string;
  /** Passed as it is: callers that run the CLI clean it with cleanEnv. */
  env?: NodeJS.ProcessEnv;
  /** Called with all of stderr so far, each time more arrives. */
  onStderr?: (text: string) => void;
  /** Killed with SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
}

/** Any process, its stdout and stderr collected; `result` settles when it has closed (or could not start). */
export function startProcess(command: string, args: string[], options: ProcessOptions = {}): ChildProcessWithoutNullStreams & {result: Promise<CliResult>} {
  // Every stream a pipe (spawn's default): stdin stays open for the caller to write to or end.
  const child = spawn(command, args, {cwd: options.cwd, env: options.env})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    options.onStderr?.(stderr)
  })
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 60_000)
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', error => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code, signal, stderr, stdout,
      })
    })
  })
  return Object.assign(child, {result})
}

/** Starts the CLI and leaves it running (for login, Ctrl-C and concurrency tests). */
export function startCli(args: string[], options: Omit<CliOptions, 'input'> = {}): ChildProcessWithoutNullStreams & {result: Promise<CliResult>} {
  return startProcess(process.execPath, [BIN, ...args], {env: cleanEnv(options.env), timeoutMs: options.timeoutMs})
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options)
  child.stdin.end(options.input ?? '')
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

export type TerminalRun = {
  child: ChildProcessWithoutNullStreams;
  /** The exit code, once the command has ended. */
  exited: Promise<null | number>;
  /** Everything the terminal showed so far: stdout and stderr together, with the echo of what was typed. */
  seen(): string;
  /** Types on the keyboard. */
  type(text: string): void;
  waitFor(pattern: RegExp): Promise<string>;
}

/**
 * `pipecat <args>` on a pseudo-terminal (util-linux `script`): stdin, stdout
 * and stderr are a terminal, as for a person typing the command. `env` is
 * passed through cleanEnv (so NO_COLOR is set unless `env` unsets it).
 */
export function onTerminal(args: string[], env: Record<string, string | undefined> = {}): TerminalRun {
  const command = [process.execPath, BIN, ...args].map(word => `'${word}'`).join(' ')
  const child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], {env: cleanEnv({TERM: 'xterm-256color', ...env}), stdio: ['pipe', 'pipe', 'pipe']})
  let seen = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    seen += chunk
  })
  const exited = new Promise<null | number>(resolve => {
    child.on('close', code => {
      resolve(code)
    })
  })
  const waitForText = async (pattern: RegExp): Promise<string> => waitFor(() => pattern.exec(seen)?.[0], {
    stopIf: () => child.exitCode !== null, timeoutMs: 20_000, what: () => `${pattern}; saw:\n${seen}`,
  })

  return {
    child, exited, seen: () => seen, type(text: string) {
      child.stdin.write(text)
    },
    waitFor: waitForText,
  }
}
