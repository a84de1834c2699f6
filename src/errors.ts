/**
 * Typed failures. Library code throws these; the base command's catch() turns
 * them into one line of what went wrong, one line of what to do, and an exit code.
 */

/** Exit codes, the same with and without --json. */
export const ExitCode = {
  failure: 1,
  interrupted: 130,
  notLoggedIn: 4,
  success: 0,
  usage: 2,
} as const

/** A suggestion may name one of our commands; the base class renders it with the host's bin and separator. */
export type Suggestion = ((command: (id: string) => string) => string) | string

/**
 * The stable, machine-readable kinds of failure, as `--json` reports them in
 * `error.code`, each with its exit status and when it is given: the one
 * record the README's table and the man page are generated from
 * (scripts/error-codes.ts, scripts/man.ts).
 */
export const ERROR_CODES = [
  {code: 'usage', exit: ExitCode.usage, when: 'an unknown command, or a flag or argument that could not be parsed'},
  {
    code: 'not_logged_in',
    exit: ExitCode.notLoggedIn,
    when: 'no credentials, or the service rejected them and they could not be refreshed',
  },
  {code: 'config', exit: ExitCode.failure, when: 'the config file cannot be read, trusted, parsed or written'},
  {code: 'network', exit: ExitCode.failure, when: 'the service could not be reached, or the connection broke'},
  {code: 'service', exit: ExitCode.failure, when: 'the service answered with an error or something unexpected'},
  {code: 'login', exit: ExitCode.failure, when: 'the sign-in did not complete: denied, timed out, state or issuer mismatch'},
  {code: 'organization', exit: ExitCode.failure, when: "the organization named is not one of the account's, or none was chosen"},
  {code: 'interrupted', exit: ExitCode.interrupted, when: 'Ctrl-C'},
  {code: 'internal', exit: ExitCode.failure, when: 'a bug: an error nobody expected'},
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]['code']

export class PipecatError extends Error {
  get code(): ErrorCode {
    return 'internal'
  }

  readonly exit: number
  /** What to do; extended with note(). */
  suggestion?: Suggestion

  constructor(message: string, options: {cause?: unknown; exit?: number; suggestion?: Suggestion} = {}) {
    super(message, {cause: options.cause})
    this.name = new.target.name
    this.exit = options.exit ?? ExitCode.failure
    this.suggestion = options.suggestion
  }

  /** Ends the suggestion with one more sentence (a fact the user should know whatever went wrong). */
  note(sentence: string): void {
    const {suggestion} = this
    if (suggestion === undefined) this.suggestion = sentence
    else if (typeof suggestion === 'string') this.suggestion = `${suggestion} ${sentence}`
    else this.suggestion = command => `${suggestion(command)} ${sentence}`
  }
}

const loginAdvice: Suggestion = command => `Run \`${command('cloud auth login')}\` to sign in.`

/** No credentials, or credentials the service rejected and that could not be refreshed. */
export class NotLoggedInError extends PipecatError {
  override get code(): ErrorCode {
    return 'not_logged_in'
  }

  constructor(message = 'You are not logged in.', options: {cause?: unknown; suggestion?: Suggestion} = {}) {
    super(message, {cause: options.cause, exit: ExitCode.notLoggedIn, suggestion: options.suggestion ?? loginAdvice})
  }
}

/** The config file cannot be read, parsed or written. */
export class ConfigFileError extends PipecatError {
  override get code(): ErrorCode {
    return 'config'
  }
}

/** The config file was read but its content is not a valid config (what `cloud auth logout` resets). */
export class MalformedConfigError extends ConfigFileError {}

/** The service answered, but not with success (or not with what the protocol promises). */
export class ServiceError extends PipecatError {
  override get code(): ErrorCode {
    return 'service'
  }

  readonly status?: number

  constructor(message: string, options: {cause?: unknown; status?: number; suggestion?: Suggestion} = {}) {
    super(message, {cause: options.cause, suggestion: options.suggestion})
    this.status = options.status
  }
}

/** The service could not be reached at all. */
export class NetworkError extends PipecatError {
  override get code(): ErrorCode {
    return 'network'
  }
}

/** Sign-in did not complete (denied, state mismatch, timeout, no organization, ...). */
export class LoginError extends PipecatError {
  override get code(): ErrorCode {
    return 'login'
  }
}

/** The command line asks for something the command cannot do as given (exit 2, like oclif's own parse errors). */
export class UsageError extends PipecatError {
  override get code(): ErrorCode {
    return 'usage'
  }

  constructor(message: string, options: {suggestion?: Suggestion} = {}) {
    super(message, {exit: ExitCode.usage, suggestion: options.suggestion})
  }
}

/** The organization named is not one of the account's, or none was chosen. */
export class OrganizationError extends PipecatError {
  override get code(): ErrorCode {
    return 'organization'
  }
}

/** Ctrl-C. */
export class InterruptedError extends PipecatError {
  override get code(): ErrorCode {
    return 'interrupted'
  }

  constructor(message = 'Interrupted.', options: {suggestion?: Suggestion} = {}) {
    super(message, {exit: ExitCode.interrupted, suggestion: options.suggestion ?? 'Run the command again to finish what it was doing.'})
  }
}
