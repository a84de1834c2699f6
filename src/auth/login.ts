/**
 * Signing in, apart from its rendering: OAuth + PKCE with a loopback callback
 * (or the redirect pasted back from a browser on another machine), the earlier
 * token flow when the service has no OAuth config, or a personal access token
 * from stdin; then the account lookups and storing the credentials.
 */
import {createInterface} from 'node:readline'
import {Writable} from 'node:stream'

import type {PipecatApi, RevokeOutcome} from '../api/pipecat.js'

import {HttpStatusError} from '../api/http.js'
import {type ConfigData, type ConfigStore, isTable} from '../config/file.js'
import {type Settings, settingText} from '../config/settings.js'
import {InterruptedError, LoginError, PipecatError} from '../errors.js'
import {browserUnavailable, openBrowser} from './browser.js'
import {type CallbackRequest, loopbackCallback} from './loopback.js'
import {
  authorizationCode,
  authorizationRequest,
  type AuthorizationResponse,
  authorizationResponse,
  discover,
  exchangeCode,
  type Provider,
  type TokenSet,
} from './oauth.js'
import {
  type AuthMethod,
  type Credentials,
  isExpiringSoon,
  PAT_PREFIX,
  storedCredentials,
} from './session.js'
import {startTokenFlow, waitForToken} from './token-flow.js'

/** Where login talks to the user; both go to stderr, stdout is for the result. */
export type LoginOutput = {
  /** What the user (or an agent) must act on: the address, the code, the paste prompt. Shown also under --json. */
  notice(line: string): void;
  /** Progress for people; silent under --json. */
  progress(line: string): void;
}

export type LoginOptions = {
  api: PipecatApi;
  env?: NodeJS.ProcessEnv;
  /** Never open a browser. */
  headless: boolean;
  output: LoginOutput;
  /** The loopback ports to try, in order (tests). */
  ports?: readonly number[];
  settings: Settings;
  stdin?: NodeJS.ReadableStream & {isTTY?: boolean};
  store: ConfigStore;
  /** How long to wait for the sign-in, in seconds. */
  timeoutSeconds: number;
  /** Read a personal access token from stdin instead of signing in through a browser. */
  withToken: boolean;
}

export type LoginResult = {
  authMethod: AuthMethod;
  configPath: string;
  email: null | string;
  /** PIPECAT_TOKEN is set and still overrides the saved credentials. */
  environmentTokenOverrides: boolean;
  organization: {name: string; verboseName: null | string};
  /** What happened to the session the new credentials replaced; null when there was none to revoke. */
  previousSessionRevocation: null | RevokeOutcome;
  /** ISO time; null when the token does not expire. */
  tokenExpiresAt: null | string;
  userId: null | string;
}

type Obtained = {method: AuthMethod; tokens: TokenSet}

/** Top-level keys that can never be an organization table. */
const RESERVED_KEYS = new Set(['org', 'refresh_token', 'token', 'token_expires_at'])
/** Unparseable pasted lines answered with a hint before going quiet. */
const MAX_PASTE_HINTS = 3
const STDIN_LIMIT = 64 * 1024

/**
 * Signs in and stores the credentials. Ctrl-C (InterruptedError), the timeout,
 * a denial or any failure before the credentials are saved leaves the file as
 * it was. Afterwards the session the new credentials replaced is revoked (best effort).
 */
export async function login(options: LoginOptions): Promise<LoginResult> {
  const interrupt = new AbortController()
  const onInterrupt = () => {
    interrupt.abort(new InterruptedError('Sign-in interrupted. Nothing was saved.'))
  }

  process.on('SIGINT', onInterrupt)
  try {
    const api = options.api.withSignal(interrupt.signal)
    const obtained = await withTimeout(options.timeoutSeconds, interrupt.signal, async wait =>
      options.withToken ? personalAccessToken(options, wait, onInterrupt) : signInWithBrowser(api, options, wait),
    )
    const account = await lookUpAccount(api, obtained, options.settings)
    const saved = await saveCredentials(options.store, obtained, account.organizations, interrupt.signal)
    const previousSessionRevocation = await revokePrevious(api, saved.previous, obtained.tokens)
    return {
      authMethod: obtained.method,
      configPath: options.store.path,
      email: account.user?.email ?? null,
      environmentTokenOverrides: Boolean((options.env ?? process.env).PIPECAT_TOKEN),
      organization: {name: saved.organization.name, verboseName: saved.organization.verboseName ?? null},
      previousSessionRevocation,
      tokenExpiresAt: obtained.tokens.expiresAt > 0 ? new Date(obtained.tokens.expiresAt * 1000).toISOString() : null,
      userId: account.user?.userId ?? null,
    }
  } finally {
    process.off('SIGINT', onInterrupt)
  }
}

/** The result's lines for stdout. */
export function renderLogin(result: LoginResult): string[] {
  const {name, verboseName} = result.organization
  return [
    `Logged in as ${result.email ?? result.userId ?? 'an account whose email could not be looked up'}`,
    `Organization: ${verboseName ? `${verboseName} (${name})` : name}`,
    `Credentials saved to ${result.configPath}`,
  ]
}

// ------------------------------------------------------------------ timeout

/** Runs `work` with a signal that also aborts, with a LoginError, after `seconds`. */
async function withTimeout<T>(seconds: number, signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = new AbortController()
  const timer = setTimeout(() => {
    timeout.abort(
      new LoginError(`Timed out after ${seconds} s waiting for the sign-in to complete.`, {
        suggestion: command => `Nothing was saved. Run \`${command('cloud auth login')}\` again (--timeout sets how long to wait, in seconds).`,
      }),
    )
  }, seconds * 1000)
  try {
    return await work(AbortSignal.any([signal, timeout.signal]))
  } finally {
    clearTimeout(timer)
  }
}

// ------------------------------------------------------------------ browser sign-in

async function signInWithBrowser(api: PipecatApi, options: LoginOptions, signal: AbortSignal): Promise<Obtained> {
  const config = await api.authConfig()
  if (!config) return {method: 'token', tokens: await signInWithTokenFlow(api, options, signal)}
  const provider = await discover(api.http, config, signal)
  return {method: 'oauth', tokens: await signInWithOAuth(api, provider, options, signal)}
}

/** Current generation: the browser comes back to the loopback callback, or the user pastes where it ended. */
async function signInWithOAuth(api: PipecatApi, provider: Provider, options: LoginOptions, signal: AbortSignal): Promise<TokenSet> {
  const callback = await loopbackCallback(options.ports)
  const paste = pasteBack(options)
  const session = new AbortController()
  try {
    const request = authorizationRequest(provider, callback.redirectUri)
    const isTerminal = Boolean(options.stdin?.isTTY)
    showAddress(options, request.url, undefined, session.signal)
    if (isTerminal) {
      options.output.notice(
        `If the browser is on another machine, it cannot reach this one: after approving, paste the address it ends on (${callback.redirectUri}?code=...) here and press Enter.`,
      )
    }

    options.output.progress(`Waiting for the sign-in to finish in the browser (up to ${options.timeoutSeconds} s; Ctrl-C to cancel)...`)
    const fromBrowser = callback.next(signal, request.state).then(answer => ({answer, source: 'browser'}) as const)
    const fromPaste = paste.next(signal).then(answer => ({answer, source: 'paste'}) as const)
    // The loser is left waiting until the callback and stdin close; it must not become an unhandled rejection.
    fromBrowser.catch(() => {})
    fromPaste.catch(() => {})
    const first = await Promise.race([fromBrowser, fromPaste])
    paste.stop()
    // State and issuer are checked the same way whichever way the answer came.
    const exchange = async (answer: AuthorizationResponse) => {
      const code = authorizationCode(answer, {issuer: provider.issuer, sendsIss: provider.sendsIss, state: request.state})
      return exchangeCode(api.http, provider, {code, redirectUri: callback.redirectUri, verifier: request.verifier}, signal)
    }

    if (first.source === 'paste') return await exchange(first.answer)
    return await finishInBrowser(first.answer, exchange)
  } finally {
    session.abort()
    paste.stop()
    await callback.close()
  }
}

/** Exchanges the code while the browser waits, so its page tells the truth. */
async function finishInBrowser(request: CallbackRequest, exchange: (answer: AuthorizationResponse) => Promise<TokenSet>): Promise<TokenSet> {
  try {
    const tokens = await exchange(authorizationResponse(request.params))
    request.respond({detail: 'You are signed in to Pipecat Cloud.', ok: true})
    return tokens
  } catch (error) {
    const detail = error instanceof PipecatError && !(error instanceof InterruptedError) ? error.message : 'The sign-in could not be completed.'
    request.respond({detail, ok: false})
    throw error
  }
}

/** Earlier generation: the service's page and a code to compare, then polling until it is approved. */
async function signInWithTokenFlow(api: PipecatApi, options: LoginOptions, signal: AbortSignal): Promise<TokenSet> {
  const flow = await startTokenFlow(api, signal)
  const session = new AbortController()
  try {
    showAddress(options, flow.webUrl, flow.code, session.signal)
    options.output.progress(`Waiting for the sign-in to be approved in the browser (up to ${options.timeoutSeconds} s; Ctrl-C to cancel)...`)
    const token = await waitForToken(api, flow, signal)
    return {accessToken: token, expiresAt: 0}
  } finally {
    session.abort()
  }
}

/** The address (and code) first, always; then the browser, unless headless or there is none to open. */
function showAddress(options: LoginOptions, url: string, code: string | undefined, session: AbortSignal): void {
  const {output} = options
  output.notice('To sign in to Pipecat Cloud, open this address in a browser:')
  output.notice(url)
  if (code) output.notice(`and check that the page shows this code: ${code}`)
  if (options.headless) return
  const unavailable = browserUnavailable(options.env ?? process.env)
  if (unavailable) {
    output.progress(`Not opening a browser: ${unavailable}. Open the address above yourself.`)
    return
  }

  output.progress('Opening the address in your browser...')
  openBrowser(url)
  .then(failure => {
    if (failure && !session.aborted) output.progress(`Could not open a browser: ${failure}. Open the address above yourself.`)
  })
  .catch(() => {})
}

// ------------------------------------------------------------------ paste-back

type PasteReader = {
  /** The first pasted sign-in answer; never settles when stdin ends without one. */
  next(signal: AbortSignal): Promise<AuthorizationResponse>;
  stop(): void;
}

/**
 * Reads pasted redirects from stdin while login waits. On a terminal the user
 * was told they can; from a pipe (an agent relaying what the user's browser
 * showed) lines are read the same way, without a prompt. Stdin at its end
 * (closed, /dev/null, CI) simply leaves the loopback callback as the only way.
 */
function pasteBack(options: LoginOptions): PasteReader {
  const {stdin} = options
  // The first answer pasted; kept even when it comes before anyone waits for it.
  const {promise: answered, resolve: answer} = Promise.withResolvers<AuthorizationResponse>()
  let isStopped = false
  let hints = 0
  const reader = stdin ? createInterface({crlfDelay: Infinity, input: stdin, terminal: false}) : undefined
  reader?.on('line', line => {
    if (isStopped || line.trim() === '') return
    const response = parsePasted(line)
    if (response) answer(response)
    else if (hints++ < MAX_PASTE_HINTS) {
      options.output.notice('That is not a sign-in answer: paste the whole address the browser ended on (it contains code= and state=).')
    }
  })

  return {
    next: async signal => Promise.race([answered, rejectOnAbort(signal)]),
    stop() {
      if (isStopped) return
      isStopped = true
      reader?.close()
      // A paused stdin no longer keeps the process alive.
      stdin?.pause()
    },
  }
}

/** Rejects with the signal's reason when it aborts. */
async function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error)
    else signal.addEventListener('abort', () => {
      reject(signal.reason as Error)
    }, {once: true})
  })
}

/** A pasted redirect: the full address, its query string, or the code and the state separated by a space. */
export function parsePasted(line: string): AuthorizationResponse | undefined {
  const text = line.trim()
  let params: URLSearchParams
  if (/^https?:\/\//iv.test(text)) {
    try {
      params = new URL(text).searchParams
    } catch {
      return undefined
    }
  } else if (text.includes('=')) {
    params = new URLSearchParams(text.replace(/^[^?]*\?/v, ''))
  } else {
    const words = text.split(/\s+/v)
    return words.length === 2 ? {code: words[0], state: words[1]} : undefined
  }

  return params.has('code') || params.has('error') ? authorizationResponse(params) : undefined
}

// ------------------------------------------------------------------ personal access token

/** Read, and checked for its prefix; the service checks it with the account lookups. */
async function personalAccessToken(options: LoginOptions, signal: AbortSignal, onInterrupt: () => void): Promise<Obtained> {
  const {output, stdin} = options
  let token: string
  if (stdin?.isTTY) {
    token = await readHiddenLine(stdin, signal, onInterrupt, () => {
      output.notice('Paste your personal access token (pcc_pat_...) and press Enter:')
    })
  } else {
    token = stdin ? await readFirstLine(stdin, signal) : ''
  }

  if (!token) {
    throw new LoginError('No token was given on stdin.', {
      suggestion: command => `Pipe a personal access token in, e.g. \`${command('cloud auth login')} --with-token < token.txt\`. Nothing was saved.`,
    })
  }

  if (!token.startsWith(PAT_PREFIX)) {
    throw new LoginError(`That is not a personal access token: they start with ${PAT_PREFIX}.`, {
      suggestion: 'Create one in the Pipecat Cloud dashboard and pass it on stdin. Nothing was saved.',
    })
  }

  return {method: 'personal-access-token', tokens: {accessToken: token, expiresAt: 0}}
}

/** The first non-empty line, as soon as it is complete (or at the end of the input). */
async function readFirstLine(stdin: NodeJS.ReadableStream, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const finish = (error?: Error) => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.off('error', onEnd)
      signal.removeEventListener('abort', onAbort)
      stdin.pause()
      if (error === undefined) resolve(text.split(/\r?\n/v).map(line => line.trim()).find(Boolean) ?? '')
      else reject(error)
    }

    const onData = (chunk: Buffer | string) => {
      text += chunk.toString()
      if (text.length > STDIN_LIMIT) finish(new LoginError('The input on stdin is too long to be a token.', {suggestion: 'Pass only the token. Nothing was saved.'}))
      else if (/\S[^\n]*\n/v.test(text)) finish()
    }

    const onEnd = () => {
      finish()
    }

    const onAbort = () => {
      finish(signal.reason as Error)
    }

    if (signal.aborted) {
      onAbort()
      return
    }

    stdin.on('data', onData)
    stdin.once('end', onEnd)
    stdin.once('error', onEnd)
    signal.addEventListener('abort', onAbort, {once: true})
    stdin.resume()
  })
}

/** One line from the terminal without echoing it (it is a secret); the prompt comes once echo is off. */
async function readHiddenLine(stdin: NodeJS.ReadableStream, signal: AbortSignal, onInterrupt: () => void, prompt: () => void): Promise<string> {
  const muted = new Writable({
    write(_chunk, _encoding, done) {
      done()
    },
  })
  const reader = createInterface({input: stdin, output: muted, terminal: true})
  // The terminal is in raw mode while reading: Ctrl-C arrives here, not as a signal.
  reader.on('SIGINT', onInterrupt)
  prompt()
  try {
    return await new Promise<string>((resolve, reject) => {
      signal.addEventListener('abort', () => {
        reject(signal.reason as Error)
      }, {once: true})
      reader.once('line', line => {
        resolve(line.trim())
      })
      reader.once('close', () => {
        resolve('')
      })
    })
  } finally {
    reader.close()
    stdin.pause()
  }
}

// ------------------------------------------------------------------ account and storage

type Account = {
  organizations: Array<{name: string; verboseName?: string}>;
  user?: {email?: string; userId: string};
}

/** The organizations and the user, at once. The token is checked by the organization lookup. */
async function lookUpAccount(api: PipecatApi, {method, tokens}: Obtained, settings: Settings): Promise<Account> {
  const [organizations, user] = await Promise.allSettled([api.organizations(tokens.accessToken), api.user(tokens.accessToken)])
  if (organizations.status === 'rejected') {
    const error: unknown = organizations.reason
    // A 403 web page (not the API's JSON) is a proxy or firewall blocking the request, not a verdict on the token.
    if (error instanceof HttpStatusError && (error.status === 401 || (error.status === 403 && typeof error.body === 'object'))) {
      throw method === 'personal-access-token'
        ? new LoginError('Pipecat Cloud rejected the personal access token.', {
          suggestion: 'Check that it was copied whole and has not been revoked, or create a new one in the dashboard. Nothing was saved.',
        })
        : new LoginError('Pipecat Cloud did not accept the token the sign-in returned.', {suggestion: 'Nothing was saved. Start the sign-in again.'})
    }

    throw error
  }

  if (organizations.value.length === 0) {
    const dashboard = settingText(settings, 'dashboard_host')
    throw new LoginError('This Pipecat Cloud account has no organization yet: its onboarding is not finished.', {
      suggestion: command => `Finish setting up your account at ${dashboard}, then run \`${command('cloud auth login')}\` again. Nothing was saved.`,
    })
  }

  // The email is for the greeting: a failed user lookup does not undo a good sign-in.
  return {organizations: organizations.value, user: user.status === 'fulfilled' ? user.value : undefined}
}

/**
 * Under the lock, on the file as it is now: the new credentials, the stored
 * organization if the account still belongs to it (else the first), a table
 * for it, and everything else as it was.
 */
async function saveCredentials(
  store: ConfigStore,
  {tokens}: Obtained,
  organizations: Account['organizations'],
  signal: AbortSignal,
): Promise<{organization: Account['organizations'][number]; previous?: Credentials}> {
  return store.update(({data}) => {
    signal.throwIfAborted()
    const organization = organizations.find(org => org.name === data.org) ?? organizations[0]
    const next: ConfigData = {
      ...data,
      org: organization.name,
      refresh_token: tokens.refreshToken ?? '',
      token: tokens.accessToken,
      token_expires_at: tokens.expiresAt,
    }
    if (!RESERVED_KEYS.has(organization.name) && !isTable(next[organization.name])) next[organization.name] = {}
    return {data: next, result: {organization, previous: storedCredentials(data)}}
  })
}

/** Best effort, after the new credentials are safe: the replaced session's refresh token should not outlive it. */
async function revokePrevious(api: PipecatApi, previous: Credentials | undefined, tokens: TokenSet): Promise<null | RevokeOutcome> {
  if (!previous?.refreshToken || previous.refreshToken === tokens.refreshToken) return null
  // The old access token speaks for the old session while it is valid; otherwise the new one asks.
  const isOldTokenValid = previous.token !== '' && previous.expiresAt !== undefined && !isExpiringSoon(previous.expiresAt)
  return api.logout(isOldTokenValid ? previous.token : tokens.accessToken, previous.refreshToken)
}
