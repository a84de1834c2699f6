/**
 * The base of every command: the config file, settings, the API client and
 * session, --json, and the one place failures become a message, a suggestion
 * and an exit code.
 */
import {
  Command,
  Errors,
  type Interfaces,
  toConfiguredId,
  ux,
} from '@oclif/core'

import type {PipecatApi} from './api/pipecat.js'
import type {Session} from './auth/session.js'

import {type ConfigSnapshot, ConfigStore, defaultConfigPath} from './config/file.js'
import {resolveSettings, type Settings, settingText} from './config/settings.js'
import {
  ExitCode,
  InterruptedError,
  NotLoggedInError,
  PipecatError,
} from './errors.js'

export type LoadedConfig = {
  settings: Settings;
  snapshot: ConfigSnapshot;
  store: ConfigStore;
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true

  protected flags!: Interfaces.InferredFlags<T['baseFlags'] & T['flags']>
  private loaded?: Promise<LoadedConfig>

  /**
   * Ctrl-C where no step handles it itself (login's wait and config writes do,
   * with their own listeners): reported like any failure, exit 130, --json too.
   */
  private readonly onInterrupt = () => {
    if (process.listenerCount('SIGINT') > 0) return
    this.catch(new InterruptedError())
    .catch(() => {})
    .finally(() => {
      // eslint-disable-next-line unicorn/no-process-exit -- the signal arrived outside any step that could throw; this is the CLI exiting
      process.exit(ExitCode.interrupted)
    })
  }

  /** The API client; `got` is imported here, on first use, never at start-up. */
  protected async api(): Promise<PipecatApi> {
    const [{HttpClient}, {PipecatApi}, {settings}] = await Promise.all([
      import('./api/http.js'),
      import('./api/pipecat.js'),
      this.loadConfig(),
    ])
    const timeout = Number(process.env.PIPECAT_HTTP_TIMEOUT)
    const http = await HttpClient.create({
      timeoutMs: timeout > 0 ? timeout * 1000 : undefined,
      userAgent: `${this.ctor.plugin?.name ?? '@pipecat-ai/plugin-cloud'}/${this.ctor.plugin?.version ?? 'dev'} ${this.config.userAgent}`,
    })
    return new PipecatApi(http, settings)
  }

  protected async catch(error: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    if (ux.action.running) ux.action.stop('failed')
    const cliError = this.toCliError(error)
    if (!this.jsonEnabled() && cliError instanceof Errors.CLIError) {
      // Our own two lines, unwrapped: logs and agents read them whole. oclif then only sets the exit code.
      ux.stderr(`${ux.colorize('red', 'Error:')} ${cliError.message}`)
      if (cliError.suggestions?.length) ux.stderr(`Try this: ${cliError.suggestions.join(' ')}`)
      if (process.env.DEBUG) ux.stderr(cliError.stack ?? '')
      cliError.skipOclifErrorHandling = true
    }

    return super.catch(cliError)
  }

  /** `pipecat cloud auth login`, in the host's bin and topic separator. */
  protected commandRef(id: string): string {
    return `${this.config.bin} ${toConfiguredId(id.replaceAll(' ', ':'), this.config)}`
  }

  async finally(error: Error | undefined): Promise<unknown> {
    process.off('SIGINT', this.onInterrupt)
    return super.finally(error)
  }

  async init(): Promise<void> {
    await super.init()
    const {flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as typeof this.flags
    process.once('SIGINT', this.onInterrupt)
  }

  /** Loads the config file once per command: path, parsed data (validated, permissions repaired) and resolved settings. */
  protected async loadConfig(): Promise<LoadedConfig> {
    this.loaded ??= (async () => {
      const store = new ConfigStore(defaultConfigPath(), message => {
        this.warnUser(message);
      })
      const snapshot = await store.read()
      if (snapshot.tokenUnusable) this.warnUser(snapshot.tokenUnusable)
      return {settings: resolveSettings(snapshot.data), snapshot, store}
    })()
    return this.loaded
  }

  /** The signed-in session; NotLoggedInError when there are no credentials. */
  protected async session(): Promise<Session> {
    // No token at all: say so before loading the auth modules (the quickest path of `whoami` when signed out).
    if (!settingText((await this.loadConfig()).settings, 'token')) throw new NotLoggedInError()
    const [{currentCredentials, Session}, {settings, snapshot, store}] = await Promise.all([import('./auth/session.js'), this.loadConfig()])
    const credentials = currentCredentials(settings, snapshot)
    if (!credentials) throw new NotLoggedInError()
    return new Session(await this.api(), credentials, store)
  }

  /** Warnings go to stderr, also under --json (stdout stays one JSON document). */
  protected warnUser(message: string): void {
    ux.stderr(`Warning: ${message}`)
  }

  private toCliError(error: Error & {oclif?: {exit?: number}}): Error {
    if (error instanceof PipecatError) {
      const {suggestion} = error
      const text = typeof suggestion === 'function' ? suggestion(id => this.commandRef(id)) : suggestion
      const cliError = new Errors.CLIError(error.message, {exit: error.exit, suggestions: text ? [text] : undefined})
      cliError.name = 'Error'
      return withDebugStack(cliError, error)
    }

    // oclif's own errors (usage, exit) keep their codes; anything else is a bug and says so.
    if (error.oclif?.exit !== undefined) return error
    const cliError = new Errors.CLIError(`Unexpected error: ${error.message}`, {
      exit: ExitCode.failure,
      suggestions: ['Run again with DEBUG=* for details, and report it if it persists.'],
    })
    return withDebugStack(cliError, error)
  }
}

/** Under DEBUG, show where the original failure came from. */
function withDebugStack(cliError: Errors.CLIError, original: Error): Errors.CLIError {
  if (process.env.DEBUG && original.stack) Object.defineProperty(cliError, 'stack', {value: original.stack})
  return cliError
}
