/**
 * `cloud auth login` as a user runs it (the built bin/run.js as a child
 * process, or on a pseudo-terminal) against the emulator, and waiting for
 * what it prints.
 */
import type {Emulator} from '../emulator/server.js'

import {
  type CliResult,
  onTerminal as onTerminalCli,
  startCli,
  type TerminalRun,
} from './cli.js'
import {emulatorEnv, type TempConfig} from './config.js'
import {waitFor} from './poll.js'

export const AUTHORIZE_URL = /http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v
export const TOKEN_FLOW_URL = /http:\/\/127\.0\.0\.1:\d+\/login\/\S+/v

export type LoginRun = ReturnType<typeof startCli> & {
  /** Everything printed so far, stdout and stderr as they arrived. */
  seen(): string;
}

const running = new Set<LoginRun>()

/** Starts `cloud auth login` with its stdin left open (a pipe nobody writes to yet). */
export function startLogin(emu: Emulator, config: TempConfig, args: string[] = ['--headless'], env: Record<string, string | undefined> = {}): LoginRun {
  // A test that goes wrong fails in seconds, not after the default five minutes.
  const timeout = args.includes('--timeout') ? [] : ['--timeout', '20']
  const child = startCli(['cloud', 'auth', 'login', ...args, ...timeout], {env: emulatorEnv(emu, config, env), timeoutMs: 30_000})
  let seen = ''
  const collect = (chunk: Buffer | string) => {
    seen += chunk.toString()
  }

  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const run = Object.assign(child, {seen: () => seen})
  running.add(run)
  run.result
  .finally(() => {
    running.delete(run)
  })
  .catch(() => {})
  return run
}

/** Kills logins a failed test left behind, so they cannot disturb the next test. */
export async function stopLeftovers(): Promise<void> {
  const left = [...running]
  for (const run of left) run.kill('SIGKILL')
  await Promise.all(left.map(async run => run.result))
}

/** The first match of `pattern` in what the CLI printed, from its start; waits for it (10 s at most). */
export async function printed(run: LoginRun, pattern: RegExp): Promise<string> {
  return waitFor(() => pattern.exec(run.seen())?.[0], {
    stopIf: () => run.exitCode !== null,
    what: () => `${pattern} to be printed; saw:\n${run.seen()}`,
  })
}

/** The sign-in address the CLI printed. */
export async function printedUrl(run: LoginRun, pattern = AUTHORIZE_URL): Promise<string> {
  return printed(run, pattern)
}

/** Ends stdin (as a terminal user would never do mid-login, but harmless) and waits for the exit. */
export async function finished(run: LoginRun): Promise<CliResult> {
  run.stdin.end()
  return run.result
}

/** `cloud auth login` on a pseudo-terminal (see onTerminal in cli.ts), against the emulator and a config file. */
export function onTerminal(emu: Emulator, config: TempConfig, args: string[]): TerminalRun {
  return onTerminalCli(['cloud', 'auth', 'login', ...args], emulatorEnv(emu, config))
}
