/**
 * The base of every command: it builds the context flows run in (config,
 * API client, session, output, stdin, the signal Ctrl-C aborts), and it is the
 * one place failures become a message, a suggestion and an exit code.
 */
import {
  Command,
  Errors,
  type Interfaces,
  ux,
} from '@oclif/core'

import {type Context, createContext, type FlowResult} from './context.js'
import {ExitCode, InterruptedError, PipecatError} from './errors.js'
import {
  commandRef,
  failureJson,
  failureLines,
  isJsonByEnvironment,
  jsonText,
  usageError,
} from './failure.js'
import {heldSteps, onInterrupt} from './interrupt.js'
import {Spinner} from './spinner.js'
import {oneLine, terminalSafe} from './text.js'
import {unknownCommandError} from './unknown-command.js'

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  // oclif's router then hands the words after a command to it (not `cloud:auth:whoami:extra not found`); init() parses strictly.
  static override strict = false

  /** What every flow gets; built in init(). */
  protected context!: Context
  protected flags!: Interfaces.InferredFlags<T['baseFlags'] & T['flags']>
  private readonly interruption = new AbortController()
  /** The one spinner, on a terminal while requests are slow; cleared before every line printed. */
  private spinner?: Spinner
  private stopListening?: () => void

  protected override async catch(error: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    if (ux.action.running) ux.action.stop('failed')
    this.spinner?.stop()
    const cliError = this.toCliError(error)
    if (!this.jsonEnabled() && cliError instanceof Errors.CLIError) {
      // Our own two lines; oclif then only sets the exit code.
      for (const line of failureLines(cliError)) ux.stderr(line)
      // A stack is many lines, but the message in it came from outside too: no escape sequence reaches the terminal.
      if (process.env.DEBUG) ux.stderr(terminalSafe(cliError.stack ?? ''))
      cliError.skipOclifErrorHandling = true
    }

    return super.catch(cliError)
  }

  /**
   * The one way a command shows its result: the flow's lines for people, its warnings on stderr;
   * the result itself is the --json document.
   */
  protected present<R extends FlowResult>(result: R, render: (result: R) => string[]): R {
    // Under --json the document is the result: the lines for people are not even rendered.
    if (!this.jsonEnabled()) for (const line of render(result)) this.context.output.log(line)
    for (const warning of result.warnings) this.context.output.warn(warning)
    return result
  }

  /** --json, or PIPECAT_OUTPUT=json (the official CLI's variable for the same). */
  override jsonEnabled(): boolean {
    return super.jsonEnabled() || isJsonByEnvironment(process.env)
  }

  /** `pipecat cloud auth login`, in the host's bin and topic separator. */
  protected commandRef(id: string): string {
    return commandRef(this.config, id)
  }

  override async finally(error: Error | undefined): Promise<unknown> {
    this.stopListening?.()
    this.spinner?.stop()
    return super.finally(error)
  }

  override async init(): Promise<void> {
    await super.init()
    const {flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: true,
    })
    this.flags = flags as typeof this.flags
    this.stopListening = onInterrupt(() => {
      this.interrupted()
    })
    this.spinner = Spinner.forTerminal(process.env, process.stderr, this.jsonEnabled())
    const clear = () => this.spinner?.clear()
    this.context = createContext({
      activity: this.spinner,
      env: process.env,
      output: {
        // Every line may carry text from the service or the file: it stays one line, and no terminal escapes get through.
        log: line => {
          clear()
          this.log(oneLine(line))
        },
        // The sign-in address must reach an agent that asked for --json, too.
        notice(line) {
          clear()
          ux.stderr(oneLine(line))
        },
        progress: line => {
          clear()
          this.logToStderr(oneLine(line))
        },
        // Warnings go to stderr, also under --json (stdout stays one JSON document).
        warn(message) {
          clear()
          ux.stderr(`Warning: ${oneLine(message)}`)
        },
      },
      signal: this.interruption.signal,
      stdin: process.stdin,
      userAgent: this.userAgent(),
    })
  }

  /**
   * Ctrl-C: the context's signal aborts, so the wait or request under way
   * stops and its InterruptedError is reported like any failure (exit 130,
   * JSON under --json). A second Ctrl-C does not wait for that.
   */
  private interrupted(): void {
    if (!this.interruption.signal.aborted) {
      const command = this.id ?? 'cloud'
      this.interruption.abort(new InterruptedError('Interrupted.', {suggestion: ref => `Run \`${ref(command)}\` again.`}))
      return
    }

    // Said when stopping cuts a step short that cannot be undone (a renewed session not yet saved).
    const lost = heldSteps().map(step => ` ${step}`).join('')
    this.catch(new InterruptedError(`Interrupted twice; stopped at once.${lost}`))
    .catch(() => {})
    .finally(() => {
      // eslint-disable-next-line unicorn/no-process-exit -- a second Ctrl-C: the user wants out now, whatever step is under way
      process.exit(ExitCode.interrupted)
    })
  }

  private toCliError(error: Error & {oclif?: {exit?: number}}): Error {
    if (error instanceof PipecatError) {
      const {suggestion} = error
      const text = typeof suggestion === 'function' ? suggestion(id => this.commandRef(id)) : suggestion
      const cliError = new Errors.CLIError(error.message, {code: error.code, exit: error.exit, suggestions: text ? [text] : undefined})
      cliError.name = 'Error'
      return withDebugStack(cliError, error)
    }

    const unknown = this.unknownCommand(error)
    if (unknown) return unknown
    // oclif's own: a flag or argument it could not parse. Said in our two lines, without its framing.
    if (error.oclif?.exit === ExitCode.usage) {
      const command = this.commandRef(this.id ?? 'cloud')
      return withDebugStack(usageError(usageMessage(error.message), `Run \`${command} --help\` to see what it accepts.`), error)
    }

    if (error.oclif?.exit !== undefined) return error
    // Anything else is a bug, and says so.
    const cliError = new Errors.CLIError(`Unexpected error: ${error.message}`, {
      code: 'internal',
      exit: ExitCode.failure,
      suggestions: ['Run again with DEBUG=* for details, and report it if it persists.'],
    })
    return withDebugStack(cliError, error)
  }

  /**
   * `cloud auth whomai`: oclif hands the word to the topic's command, whose
   * strict parse finds an unexpected argument where a subcommand was meant.
   */
  private unknownCommand(error: Error): Errors.CLIError | undefined {
    const [word] = (error as {args?: unknown[]}).args ?? []
    if (typeof word !== 'string' || word !== this.argv[0] || !this.id) return undefined
    return unknownCommandError(this.config, this.id, word)
  }

  /** Under --json, every failure is one document. */
  protected override toErrorJson(error: unknown): unknown {
    return failureJson(error)
  }

  override logJson(json: unknown): void {
    ux.stdout(jsonText(json, this.config.theme))
  }

  /** The plugin, then the host CLI when there is one (standalone, the plugin is the CLI: named once). */
  private userAgent(): string {
    const plugin = `${this.ctor.plugin?.name ?? '@pipecat-ai/plugin-cloud'}/${this.ctor.plugin?.version ?? 'dev'}`
    const host = this.config.userAgent
    return host.startsWith(`${plugin} `) ? host : `${plugin} ${host}`
  }
}

/** oclif's parse error on one line: "Parsing --timeout: Expected an integer but received: abc", without "See more help". */
function usageMessage(message: string): string {
  return message
  .replace(/\n?See more help with --help\s*$/v, '')
  .split(/\s*\n\s*/v)
  .filter(Boolean)
  .join(': ')
  .replaceAll(/\s+/gv, ' ')
  .replace(/ : /v, ': ')
  .trim()
}

/** Under DEBUG, show where the original failure came from. */
function withDebugStack(cliError: Errors.CLIError, original: Error): Errors.CLIError {
  if (process.env.DEBUG && original.stack) Object.defineProperty(cliError, 'stack', {value: original.stack})
  return cliError
}
