/**
 * The context every flow runs in, built once per command by the base command
 * (and by tests, with an emulator and a temporary config file): the
 * environment, the input, where output goes, the signal Ctrl-C aborts, and
 * lazily the config, the API client and the signed-in session. Like gh's
 * Factory: one signature for every flow, nothing global. docs/architecture.md
 * describes the layers around it.
 */
import type {PipecatApi} from './api/pipecat.js'
import type {Session} from './session/session.js'
import type {NetworkActivity} from './spinner.js'

import {ConfigStore, defaultConfigPath} from './config/file.js'
import {loadConfig, type LoadedConfig} from './config/load.js'
import {resolveSettings, type Settings, settingText} from './config/settings.js'
import {NotLoggedInError} from './errors.js'

/** Everything goes to stderr but `log`, so stdout carries only the result. */
export type Output = {
  /** The result, for people; silent under --json (the result is the JSON document then). */
  log(line: string): void;
  /** What the user (or an agent) must act on: a sign-in address, a code, a prompt. Shown under --json too. */
  notice(line: string): void;
  /** Progress for people; silent under --json. */
  progress(line: string): void;
  /** Something the user should know, shown under --json too. */
  warn(message: string): void;
}

export type Stdin = NodeJS.ReadableStream & {isTTY?: boolean}

/**
 * What every flow returns: its result, with what the user should be warned
 * about. The command presents it (BaseCommand.present): the flow module's
 * render function gives the lines for people, the warnings go to stderr, and
 * under --json the whole result is the document.
 */
export type FlowResult = {
  /** Things the user should know, one sentence each (stderr, also under --json). */
  warnings: string[];
}

export type Context = {
  /** The API client; `got` is loaded on first use, never at start-up. */
  api(): Promise<PipecatApi>;
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** The settings from the environment and the defaults alone: what is left when the file cannot be read. */
  environmentSettings(): Settings;
  /** The config file and the settings, loaded once; rejects with ConfigFileError for a file that cannot be used. */
  loadConfig(): Promise<LoadedConfig>;
  readonly output: Output;
  /** The signed-in session; NotLoggedInError when there are no credentials. */
  session(): Promise<Session>;
  /** Aborted by Ctrl-C (its reason: an InterruptedError); every wait and request listens to it. */
  readonly signal: AbortSignal;
  readonly stdin: Stdin;
  /** The config file: the one store every read and write goes through. */
  readonly store: ConfigStore;
}

export type ContextOptions = {
  /** Told about every request (the spinner on a terminal); none in tests and under --json. */
  activity?: NetworkActivity;
  /** Default: PIPECAT_CONFIG_PATH, else ~/.config/pipecatcloud/pipecatcloud.toml. */
  configPath?: string;
  env: NodeJS.ProcessEnv;
  output: Output;
  signal: AbortSignal;
  stdin: Stdin;
  userAgent: string;
}

export function createContext(options: ContextOptions): Context {
  const {env, output, signal, stdin} = options
  const configPath = options.configPath ?? defaultConfigPath(env)
  const store = new ConfigStore(configPath, {signal, warn: output.warn})
  let loaded: Promise<LoadedConfig> | undefined
  let api: Promise<PipecatApi> | undefined
  let session: Promise<Session> | undefined

  const context: Context = {
    async api() {
      api ??= openApi(context, options)
      return api
    },
    configPath,
    env,
    environmentSettings: () => resolveSettings({}, env),
    async loadConfig() {
      loaded ??= loadConfig(store, env, output.warn)
      return loaded
    },
    output,
    async session() {
      session ??= openSession(context)
      return session
    },
    signal,
    stdin,
    store,
  }
  return context
}

async function openApi(context: Context, {activity, userAgent}: ContextOptions): Promise<PipecatApi> {
  const [{HttpClient}, {PipecatApi}, {settings}] = await Promise.all([
    import('./api/http.js'),
    import('./api/pipecat.js'),
    context.loadConfig(),
  ])
  const timeout = Number(context.env.PIPECAT_HTTP_TIMEOUT)
  const http = await HttpClient.create({activity, timeoutMs: timeout > 0 ? timeout * 1000 : undefined, userAgent})
  return new PipecatApi(http.withSignal(context.signal), settings)
}

async function openSession(context: Context): Promise<Session> {
  // No token at all: say so before loading the auth modules (the quickest path of `whoami` when signed out).
  const {settings, snapshot, store} = await context.loadConfig()
  if (!settingText(settings, 'token')) throw new NotLoggedInError()
  const {
    bindOnFirstUse, currentCredentials, isIssuedBy, issuerMismatch, Session,
  } = await import('./session/session.js')
  const credentials = currentCredentials(settings, snapshot)
  if (!credentials) throw new NotLoggedInError()
  if (!isIssuedBy(credentials, settings)) throw issuerMismatch(credentials, settings)
  return new Session(await context.api(), credentials, store, async () => bindOnFirstUse(credentials, settings, store, snapshot))
}
