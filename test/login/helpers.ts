/**
 * Running `cloud auth login` as a user would (the built bin/run.js as a child
 * process) against the emulator, and what the tests check afterwards.
 */
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {access} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'

import {type Emulator, type Knobs, startEmulator} from '../emulator/server.js'
import {
  BIN,
  cleanEnv,
  type CliResult,
  emulatorEnv,
  fileMode,
  startCli,
  type TempConfig,
} from '../helpers/cli.js'
import {pythonLoad} from '../helpers/python.js'

export {emulatorEnv, type TempConfig} from '../helpers/cli.js'

export const LOOPBACK_PORTS = [8400, 8401, 8402, 8403, 8404]
export const AUTHORIZE_URL = /http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v
export const TOKEN_FLOW_URL = /http:\/\/127\.0\.0\.1:\d+\/login\/\S+/v

export type LoginRun = ReturnType<typeof startCli> & {
  /** Everything printed so far, stdout and stderr as they arrived. */
  seen(): string;
}

export async function emulator(knobs: Partial<Knobs> = {}): Promise<Emulator> {
  return startEmulator({knobs})
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

  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
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
  const deadline = Date.now() + 10_000
  for (;;) {
    const match = pattern.exec(run.seen())
    if (match) return match[0]
    if (Date.now() > deadline || run.exitCode !== null) throw new Error(`${pattern} was not printed; saw:\n${run.seen()}`)
    await new Promise(resolve => {
      setTimeout(resolve, 20)
    })
  }
}

/** The sign-in address the CLI printed. */
export async function printedUrl(run: LoginRun, pattern = AUTHORIZE_URL): Promise<string> {
  return printed(run, pattern)
}

/** Ends stdin (as a terminal user would never do mid-login, but harmless) and waits for the exit. */
export async function finished(run: LoginRun): Promise<CliResult> {
  run.stdin!.end()
  return run.result
}

export async function exists(file: string): Promise<boolean> {
  try {
    await access(file)
    return true
  } catch {
    return false
  }
}

/** The file as the official CLI's Python sees it, after checking it is private. */
export async function storedConfig(file: string): Promise<Record<string, unknown>> {
  expect(await fileMode(file)).to.equal(0o600)
  return pythonLoad(file, 'tomllib')
}

/** No secret of the emulator's kinds appears in what the user saw. */
export function expectNoSecrets(result: CliResult, ...secrets: string[]): void {
  const output = result.stdout + result.stderr
  expect(output).not.to.match(/emu_(?:at|rt|lt|code)_[\w\-]+/v)
  expect(output).not.to.match(/pcc_pat_[\w\-]{8,}/v)
  expect(output).not.to.match(/code_verifier/v)
  for (const secret of secrets) expect(output).not.to.contain(secret)
}

/** Holds the given loopback ports, as other programs would. */
export async function occupyPorts(ports: number[]): Promise<() => Promise<void>> {
  const servers: Server[] = []
  const release = async () => {
    await Promise.all(servers.map(async server => new Promise<void>(resolve => {
      server.close(() => {
        resolve()
      })
    })))
  }

  try {
    for (const port of ports) {
      const server = createServer()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          resolve()
        })
      })
      servers.push(server)
    }
  } catch (error) {
    await release()
    throw error
  }

  return release
}

/** Whether every loopback port can be bound right now (login closed its callback server). */
export async function portsAreFree(ports = LOOPBACK_PORTS): Promise<boolean> {
  try {
    const release = await occupyPorts(ports)
    await release()
    return true
  } catch {
    return false
  }
}

/** The paths the emulator was asked for, in order ('GET /v1/users'). */
export function requested(emu: Emulator): string[] {
  return emu.requests.map(request => `${request.method} ${request.path}`)
}

/**
 * `cloud auth login` on a pseudo-terminal (util-linux `script`): what the test
 * writes is typed on the keyboard, what the CLI prints (stdout and stderr,
 * with the terminal's echo) comes back.
 */
export function onTerminal(emu: Emulator, config: TempConfig, args: string[]) {
  const command = [process.execPath, BIN, 'cloud', 'auth', 'login', ...args].map(word => `'${word}'`).join(' ')
  const child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], {env: cleanEnv(emulatorEnv(emu, config)), stdio: ['pipe', 'pipe', 'pipe']})
  let seen = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    seen += chunk
  })
  const exited = new Promise<null | number>(resolve => {
    child.on('close', code => {
      resolve(code)
    })
  })
  const waitFor = async (pattern: RegExp): Promise<string> => {
    for (let tries = 0; tries < 500; tries++) {
      const match = pattern.exec(seen)
      if (match) return match[0]
      await new Promise(resolve => {
        setTimeout(resolve, 20)
      })
    }

    throw new Error(`${pattern} not seen; saw:\n${seen}`)
  }

  return {
    child, exited, seen: () => seen, type: (text: string) => child.stdin.write(text), waitFor,
  }
}
