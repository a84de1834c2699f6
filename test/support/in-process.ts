/**
 * The fast layer: commands run in this process through `@oclif/test`'s
 * runCommand (the built commands in dist/, as oclif loads them), and flows
 * run with a context built the way the base command builds it. No child
 * process, the same emulator and temporary config files as the process tests.
 */
import {runCommand as runOclifCommand} from '@oclif/test'
import {PassThrough, Readable} from 'node:stream'

import type {Context, Stdin} from '../../src/context.js'
import type {Emulator} from '../emulator/server.js'
import type {Printed} from './expect.js'

import {MACHINE_VARIABLES, ROOT} from './cli.js'
import {type TempConfig} from './config.js'

/** What every in-process run starts from: no browser, no colours, a short HTTP timeout so a hang fails fast. */
const BASE_ENV = {BROWSER: 'none', NO_COLOR: '1', PIPECAT_HTTP_TIMEOUT: '5'}

export type CommandRun<T = unknown> = Printed & {
  /** The exit code a process would have ended with. */
  code: number;
  error?: Error;
  /** What run() returned (the JSON document's data under --json). */
  result?: T;
}

export type CommandOptions = {
  /** Set for this run only, over a clean environment (no PIPECAT_*, DEBUG or proxy variables of the machine). */
  env?: Record<string, string | undefined>;
  /** Called with each piece of stderr as it is written (a sign-in address to act on while the command waits). */
  onStderr?: (text: string) => void;
  /** What the command reads as process.stdin; default an input that is already at its end. */
  stdin?: Stdin;
}

/**
 * `pipecat <args>` in this process. The exit code is oclif's (an error's exit,
 * or process.exitCode, which --json errors set); process.exitCode, the
 * environment and process.stdin are put back afterwards.
 */
export async function runCommand<T = unknown>(args: string[], options: CommandOptions = {}): Promise<CommandRun<T>> {
  const restoreEnv = replaceEnv({...BASE_ENV, ...options.env})
  const restoreStdin = replaceStdin(options.stdin ?? Readable.from([]))
  process.exitCode = undefined
  try {
    const running = runOclifCommand<T>(args, {root: ROOT})
    // runCommand has swapped in its capturing writers by now (synchronously): look over its shoulder.
    if (options.onStderr) watchStderr(options.onStderr)
    const {error, result, stderr, stdout} = await running
    const exit = (error as undefined | {oclif?: {exit?: number}})?.oclif?.exit
    const code = exit ?? Number(process.exitCode as number | string | undefined ?? 0)
    return {
      code, error, result, stderr, stdout,
    }
  } finally {
    process.exitCode = undefined
    restoreStdin()
    restoreEnv()
  }
}

/** The environment a command run sees: the given variables over process.env without the machine's PIPECAT_* and the like. */
function replaceEnv(env: Record<string, string | undefined>): () => void {
  const saved = {...process.env}
  for (const key of Object.keys(process.env)) {
    if (MACHINE_VARIABLES.test(key)) Reflect.deleteProperty(process.env, key)
  }

  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) Reflect.deleteProperty(process.env, key)
    else process.env[key] = value
  }

  return () => {
    for (const key of Object.keys(process.env)) {
      if (!Object.hasOwn(saved, key)) Reflect.deleteProperty(process.env, key)
    }

    Object.assign(process.env, saved)
  }
}

function replaceStdin(stdin: Stdin): () => void {
  const original = Object.getOwnPropertyDescriptor(process, 'stdin')
  Object.defineProperty(process, 'stdin', {configurable: true, enumerable: true, get: () => stdin})
  return () => {
    if (original) Object.defineProperty(process, 'stdin', original)
  }
}

function watchStderr(onStderr: (text: string) => void): void {
  const capture = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    onStderr(chunk.toString())
    return (capture as (...parts: unknown[]) => boolean)(chunk, ...rest)
  })
}

/** An input that stays open (nothing typed yet, never closed): what a waiting command sees from a terminal left alone. */
export function openStdin(): PassThrough {
  return new PassThrough()
}

export type Lines = {
  log: string[];
  notice: string[];
  progress: string[];
  warn: string[];
}

export type TestContext = {
  context: Context;
  /** Aborts the context's signal, as Ctrl-C does. */
  interrupt(reason?: Error): void;
  /** What the flow wrote, by kind. */
  lines: Lines;
  /** As a user would see it: log on stdout, the rest on stderr. */
  printed(): Printed;
}

export type TestContextOptions = {
  config?: TempConfig;
  emulator?: Pick<Emulator, 'url'>;
  env?: Record<string, string | undefined>;
  stdin?: Stdin;
}

/**
 * The context module and the flows, loaded with import() as the commands load
 * them. Mocha loads test files through require(), so a static import of these
 * would be a second copy of each module beside the one the flows' own import()
 * calls load, and `instanceof` fails between the two (an HttpStatusError from
 * one copy is not one to the other).
 */
export async function flows() {
  const [{createContext}, {login}, {logout}, {whoami}] = await Promise.all([
    import('../../src/context.js'),
    import('../../src/auth/login.js'),
    import('../../src/auth/logout.js'),
    import('../../src/auth/whoami.js'),
  ])
  return {
    createContext, login, logout, whoami,
  }
}

/** A context as the base command builds one, its output captured by kind. */
export async function testContext({config, emulator, env = {}, stdin}: TestContextOptions = {}): Promise<TestContext> {
  const {createContext} = await flows()
  const lines: Lines = {
    log: [], notice: [], progress: [], warn: [],
  }
  const merged: Record<string, string | undefined> = {
    ...BASE_ENV,
    ...(config && {PIPECAT_CONFIG_PATH: config.file}),
    ...(emulator && {PIPECAT_API_HOST: emulator.url, PIPECAT_DASHBOARD_HOST: emulator.url}),
    ...env,
  }
  const controller = new AbortController()
  const context = createContext({
    env: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)),
    output: {
      log(line) {
        lines.log.push(line)
      },
      notice(line) {
        lines.notice.push(line)
      },
      progress(line) {
        lines.progress.push(line)
      },
      warn(message) {
        lines.warn.push(message)
      },
    },
    signal: controller.signal,
    stdin: stdin ?? Readable.from([]),
    userAgent: '@pipecat-ai/plugin-cloud/test',
  })
  return {
    context,
    interrupt(reason) {
      controller.abort(reason)
    },
    lines,
    printed: () => ({
      stderr: [...lines.notice, ...lines.progress, ...lines.warn].join('\n'),
      stdout: lines.log.join('\n'),
    }),
  }
}
