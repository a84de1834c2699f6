/**
 * The one HTTP client. Every call to the service and to the OAuth provider goes
 * through `request`: user agent, bearer token, timeouts, retries with backoff
 * on 429/5xx honouring Retry-After, proxies from the environment (never for
 * this machine), a cap on the size of answers, JSON parsing and the mapping of
 * failures to typed errors that name the host.
 */
import type {Got, RequestError} from 'got'
import type {Agent as HttpAgent} from 'node:http'
import type {Agent as HttpsAgent} from 'node:https'

import type {NetworkActivity} from '../spinner.js'

import {NetworkError, ServiceError, type Suggestion} from '../errors.js'
import {Secrets} from './redact.js'

export type RequestOptions = {
  /**
   * The origin the request's credentials belong to (the API host they are bound to, or the token endpoint
   * discovery vouched for). A request carrying a bearer, a form, a JSON body or a query goes nowhere else.
   */
  audience?: string;
  /** Bearer token. */
  bearer?: string;
  form?: Record<string, string>;
  json?: unknown;
  method?: 'GET' | 'POST';
  /** Not reported as network activity (no spinner): a wait for the user, such as the earlier flow's long poll. */
  quiet?: boolean;
  /** Retries on 429/5xx and network failures; POSTs that must not repeat pass 0. */
  retries?: number;
  searchParams?: Record<string, string>;
  signal?: AbortSignal;
  /** Overall time for one attempt, in milliseconds. */
  timeoutMs?: number;
}

export type HttpResponse<T> = {
  body: T;
  status: number;
}

/** Non-2xx answers surface as this, so callers can branch on status (401, 404, 503). */
export class HttpStatusError extends ServiceError {
  constructor(
    message: string,
    override readonly status: number,
    readonly body: unknown,
    readonly retryAfter?: string,
  ) {
    super(message, {status, suggestion: suggestionFor(status, body, retryAfter)})
  }
}

/** The answers of this protocol are a few KB; a service sending more than this is broken or hostile, and is not read further. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024

/**
 * This machine: 127.0.0.0/8 (also IPv4-mapped), [::1] and localhost.
 * URL has already normalised the spelling (127.1, [0::1], LOCALHOST).
 */
const LOOPBACK_HOST = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|\[::ffff:7f[\da-f]{2}:[\da-f]{1,4}\])$/v

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOST.test(url.hostname)
}

/** Only https, except plain http to this machine (local test servers). TLS verification is never turned off. */
export function checkedUrl(input: string, what: string): URL {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new ServiceError(`The ${what} "${input}" is not a valid URL.`, {
      suggestion: 'Check PIPECAT_API_HOST and the other PIPECAT_* settings (`cloud config` shows them).',
    })
  }

  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return url
  const message = `Refusing to use the ${what} ${url.origin}: only https is allowed `
    + '(plain http only for this machine: 127.0.0.1, localhost and [::1]).'
  throw new ServiceError(message, {
    suggestion: 'Use an https:// address.',
  })
}

export type HttpClientOptions = {
  /** Told when requests start and end (the spinner). */
  activity?: NetworkActivity;
  /** Default timeout of one attempt, in milliseconds. */
  timeoutMs?: number;
  userAgent: string;
}

/** One pair of agents per way out: through the proxy the environment names, or straight to the host. */
type Agents = {direct: {http: HttpAgent; https: HttpsAgent}; proxied: {http: HttpAgent; https: HttpsAgent}}

export class HttpClient {
  private constructor(
    private readonly got: Got,
    private readonly agents: Agents,
    /** Default time for one attempt, in milliseconds. */
    readonly timeoutMs: number,
    /** `signal` aborts every request made through this client (e.g. logout's overall cap); `activity` is told of each (the spinner). */
    private readonly scope: {activity?: NetworkActivity; signal?: AbortSignal} = {},
  ) {}

  static async create({activity, timeoutMs = 15_000, userAgent}: HttpClientOptions): Promise<HttpClient> {
    // node:http(s) too, not at module load: error types from here are used by commands that never send a request.
    // Their default exports: the bundle (scripts/bundle.ts) require()s these two, and then has no named exports.
    const [{default: got}, {default: {Agent: HttpAgent}}, {default: {Agent: HttpsAgent}}] = await Promise.all([
      import('got'),
      import('node:http'),
      import('node:https'),
    ])
    checkProxyVariables(process.env)
    const agents: Agents = {
      // This machine is never reached through a proxy: a plaintext one would see the bearer token of a local service.
      direct: {http: new HttpAgent({keepAlive: true}), https: new HttpsAgent({keepAlive: true})},
      // Node's own proxy support: HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
      proxied: {
        http: new HttpAgent({keepAlive: true, proxyEnv: process.env} as ConstructorParameters<typeof HttpAgent>[0]),
        https: new HttpsAgent({keepAlive: true, proxyEnv: process.env} as ConstructorParameters<typeof HttpsAgent>[0]),
      },
    }
    const instance = got.extend({
      followRedirect: false,
      headers: {accept: 'application/json', 'user-agent': userAgent},
      retry: {
        backoffLimit: 4000,
        // Dropped connections are worth another try; a refused connection or a timeout
        // would only make the user wait the same again before the same error.
        errorCodes: ['ECONNRESET', 'EPIPE', 'EAI_AGAIN', 'ERR_HTTP_CONTENT_LENGTH_MISMATCH'],
        // got waits for Retry-After on every status below; a longer wait than this fails at once instead.
        maxRetryAfter: 20_000,
        methods: ['GET', 'POST'],
        noise: 100,
        statusCodes: [429, 500, 502, 503, 504],
      },
      throwHttpErrors: false,
    })
    return new HttpClient(instance, agents, timeoutMs, {activity})
  }

  /** Sends one request (with retries) and returns the parsed JSON body of a 2xx answer. */
  async request<T = unknown>(input: string | URL, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const url = checkedUrl(String(input), 'service address')
    const {host} = url
    const {bearer, form, json, method = 'GET', retries = 2, searchParams} = options
    checkAudience(url, options)
    // Whatever the service answers, at any status, these never reach a message or an error.
    const secrets = Secrets.of(options)
    const {activity, signal: ownSignal} = this.scope
    const caller = ownSignal && options.signal ? AbortSignal.any([options.signal, ownSignal]) : (options.signal ?? ownSignal)
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    caller?.throwIfAborted()
    // Aborts the download once the decoded answer passes the cap, so a gzip bomb is never inflated past it.
    const tooLarge = new AbortController()
    const signal = caller ? AbortSignal.any([caller, tooLarge.signal]) : tooLarge.signal
    let response
    const ended = options.quiet ? undefined : activity?.begin()
    try {
      const pending = this.got(url, {
        agent: isLoopback(url) ? this.agents.direct : this.agents.proxied,
        form,
        headers: bearer ? {authorization: `Bearer ${bearer}`} : {},
        json,
        method,
        responseType: 'text',
        retry: {limit: retries},
        searchParams,
        signal,
        timeout: {request: timeoutMs},
      })
      // `transferred` counts the body after decompression; `total` is the announced length when it is not compressed.
      void pending.on('downloadProgress', ({total, transferred}) => {
        if (transferred > MAX_ANSWER_BYTES || (total ?? 0) > MAX_ANSWER_BYTES) tooLarge.abort(answerTooLarge(host))
      })
      response = await pending
    } catch (error) {
      throw networkError(error as RequestError, {
        host, secrets, signal, timeoutMs,
      })
    } finally {
      ended?.()
    }

    const parsed = parseBody(response.body)
    const body = response.statusCode < 200 || response.statusCode > 299 ? secrets.scrubValue(parsed) : parsed
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new HttpStatusError(statusMessage(host, response.statusCode, body), response.statusCode, body, response.headers['retry-after'])
    }

    if (body === notJson) {
      throw new ServiceError(`${host} answered with something that is not JSON.`, {
        suggestion: 'A proxy or captive portal may be in the way; check your network, then try again.',
      })
    }

    return {body: body as T, status: response.statusCode}
  }

  /** The same client, its requests aborted by nothing but their own timeout (a refresh grant's answer must be waited for). */
  unbound(): HttpClient {
    return new HttpClient(this.got, this.agents, this.timeoutMs)
  }

  /** The same client, with every request also aborted by `signal`. */
  withSignal(signal: AbortSignal): HttpClient {
    const {activity, signal: ownSignal} = this.scope
    return new HttpClient(this.got, this.agents, this.timeoutMs, {
      activity,
      signal: ownSignal ? AbortSignal.any([ownSignal, signal]) : signal,
    })
  }
}

const notJson = Symbol('not JSON')

/** The variables Node's proxy support reads, each of which it refuses (with its value, password and all) when it is not a URL. */
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const

/** A proxy variable that is not a URL: named, and shown without the user and password it may carry. */
function checkProxyVariables(env: NodeJS.ProcessEnv): void {
  for (const name of PROXY_VARIABLES) {
    const value = env[name]
    if (!value || URL.canParse(value)) continue
    // Everything up to the last @ may be credentials (a password can hold / or @ itself).
    const at = value.lastIndexOf('@')
    const shown = at === -1 ? value : `${/^[a-z][\w+.\-]*:\/\//iv.exec(value)?.[0] ?? ''}****${value.slice(at)}`
    throw new NetworkError(`The proxy variable ${name} is not a valid URL (${shown}).`, {
      suggestion: `Fix or unset ${name}: it should look like https://proxy.example.com:8080, `
        + 'with user:password@ before the host if the proxy asks for them.',
    })
  }
}

/** Credentials go only to the origin they belong to: a request that carries any must name it, and be addressed there. */
function checkAudience(url: URL, {audience, bearer, form, json, searchParams}: RequestOptions): void {
  const isCarries = Boolean(bearer) || form !== undefined || json !== undefined || searchParams !== undefined
  if (!isCarries) return
  const expected = audience === undefined ? undefined : new URL(audience).origin
  if (expected === url.origin) return
  const message = `Refusing to send credentials to ${url.origin}: they belong to ${expected ?? 'no known service'}. Nothing was sent.`
  throw new ServiceError(message, {
    suggestion: command => `Check the PIPECAT_*_PATH settings and the organization tables (\`${command('cloud config')}\` shows them).`,
  })
}

function answerTooLarge(host: string): ServiceError {
  const message = `${host} answered with more than ${MAX_ANSWER_BYTES / 1024 / 1024} MB, `
    + 'far more than any answer this CLI expects; the answer was not read further.'
  return new ServiceError(message, {
    suggestion: command => `Check that PIPECAT_API_HOST points at Pipecat Cloud (\`${command('cloud config')}\` shows it); `
      + 'a proxy or captive portal in the way can do this too.',
  })
}

function parseBody(text: string): typeof notJson | unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return notJson
  }
}

function statusMessage(host: string, status: number, body: unknown): string {
  const detail = serviceDetail(body)
  const base = status === 429 ? `${host} is rate limiting requests (429)` : `${host} answered with HTTP ${status}`
  if (detail) return `${base}: ${detail}`
  // A web page instead of the API's JSON: usually a proxy or firewall (e.g. Cloudflare) in the way.
  return body === notJson ? `${base} and a web page, not the API's JSON (a proxy or firewall may have blocked the request).` : `${base}.`
}

/** The service's own explanation, when it sent one (`{"error": "...", "error_description": "..."}`), kept short and on one line. */
export function serviceDetail(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const {error, error_description: description} = body as Record<string, unknown>
  const text = [error, description].filter(part => typeof part === 'string' && part).join(': ')
  return text ? text.replaceAll(/\s+/gv, ' ').slice(0, 200) : undefined
}

/** What to do about a status; every failure the user sees says what to do (401/404 are mostly handled by the callers). */
function suggestionFor(status: number, body: unknown, retryAfter?: string): Suggestion {
  if (status === 429 || status >= 500) {
    const wait = retryAfterSeconds(retryAfter)
    // Retries already waited for short delays; a long one is the service telling the user when to come back.
    if (wait !== undefined && wait > 60) return `The service asks to wait about ${Math.ceil(wait / 60)} min before trying again.`
    return 'The service is busy or having trouble; try again in a minute.'
  }

  if (body === notJson) {
    return 'Something between you and the service (a proxy, firewall or VPN) may be blocking it; '
      + 'check your network and HTTPS_PROXY / NO_PROXY, then try again.'
  }

  return command => `Check the service settings (\`${command('cloud config')}\` shows them), then try again; `
    + 'if it keeps happening, update the plugin.'
}

/** Retry-After as seconds from now: a number of seconds or an HTTP date. */
function retryAfterSeconds(header?: string): number | undefined {
  if (!header) return undefined
  const seconds = /^\d+$/v.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000
  return Number.isFinite(seconds) ? Math.max(0, seconds) : undefined
}

/** TLS failures that mean "nobody this machine trusts vouches for this certificate" (verification itself is never turned off). */
const UNTRUSTED_CERTIFICATE = new Set([
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
])

type Attempt = {host: string; secrets: Secrets; signal?: AbortSignal; timeoutMs: number}

function networkError(error: RequestError, {host, secrets, signal, timeoutMs}: Attempt): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : error
  const suggestion = 'Check your network connection and proxy settings (HTTPS_PROXY, NO_PROXY), then try again.'
  const code = error.code ?? ''
  if (code === 'ERR_HTTP_CONTENT_LENGTH_MISMATCH' || error.name === 'ReadError') {
    return new NetworkError(`The connection to ${host} broke before its answer was complete.`, {suggestion})
  }

  if (UNTRUSTED_CERTIFICATE.has(code)) {
    const detail = secrets.scrub(error.message.split('\n', 1)[0] ?? '')
    return new NetworkError(`Could not reach ${host}: its certificate is not trusted (${detail}).`, {
      suggestion: 'If this host, or a proxy in the way, uses its own certificate authority, '
        + 'set NODE_EXTRA_CA_CERTS to that authority\'s certificate (a PEM file), then try again.',
    })
  }

  const reasons: Record<string, string> = {
    EAI_AGAIN: 'the host name could not be resolved',
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    ENOTFOUND: 'the host name could not be resolved',
    ERR_GOT_REQUEST_ERROR: 'the request failed',
  }
  const isTimedOut = error.name === 'TimeoutError' || code === 'ETIMEDOUT'
  const reason = isTimedOut
    ? `no answer within ${formatSeconds(timeoutMs)}`
    : ((Object.hasOwn(reasons, code) ? reasons[code] : undefined) ?? secrets.scrub(error.message.split('\n', 1)[0] ?? ''))
  return new NetworkError(`Could not reach ${host}: ${reason}.`, {suggestion})
}

function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 100) / 10
  return `${seconds} s`
}
