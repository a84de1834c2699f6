/**
 * The one HTTP client. Every call to the service and to the OAuth provider goes
 * through `request`: user agent, bearer token, timeouts, retries with backoff
 * on 429/5xx honouring Retry-After, proxies from the environment, JSON parsing
 * and the mapping of failures to typed errors that name the host.
 */
import type {Got, RequestError} from 'got'

import {Agent as HttpAgent} from 'node:http'
import {Agent as HttpsAgent} from 'node:https'

import {NetworkError, ServiceError} from '../errors.js'

export type RequestOptions = {
  /** Bearer token. */
  bearer?: string;
  form?: Record<string, string>;
  json?: unknown;
  method?: 'GET' | 'POST';
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
    readonly status: number,
    readonly body: unknown,
    readonly retryAfter?: string,
  ) {
    super(message, {status, suggestion: suggestionFor(status)})
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname)
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
  throw new ServiceError(`Refusing to use the ${what} ${url.origin}: only https is allowed (plain http only for 127.0.0.1, localhost and [::1]).`, {
    suggestion: 'Use an https:// address.',
  })
}

export type HttpClientOptions = {
  /** Default timeout of one attempt, in milliseconds. */
  timeoutMs?: number;
  userAgent: string;
}

export class HttpClient {
  private constructor(
    private readonly got: Got,
    private readonly timeoutMs: number,
  ) {}

  static async create({timeoutMs = 15_000, userAgent}: HttpClientOptions): Promise<HttpClient> {
    const {default: got} = await import('got')
    const instance = got.extend({
      agent: {
        // Node's own proxy support: HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
        http: new HttpAgent({keepAlive: true, proxyEnv: process.env} as ConstructorParameters<typeof HttpAgent>[0]),
        https: new HttpsAgent({keepAlive: true, proxyEnv: process.env} as ConstructorParameters<typeof HttpsAgent>[0]),
      },
      followRedirect: false,
      headers: {accept: 'application/json', 'user-agent': userAgent},
      retry: {
        backoffLimit: 4000,
        errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENETUNREACH', 'EAI_AGAIN'],
        maxRetryAfter: 20_000,
        methods: ['GET', 'POST'],
        noise: 100,
        statusCodes: [429, 500, 502, 503, 504],
      },
      throwHttpErrors: false,
    })
    return new HttpClient(instance, timeoutMs)
  }

  /** Sends one request (with retries) and returns the parsed JSON body of a 2xx answer. */
  async request<T = unknown>(input: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const url = checkedUrl(input, 'service address')
    const {host} = url
    const {bearer, form, json, method = 'GET', retries = 2, searchParams, signal} = options
    let response
    try {
      response = await this.got(url, {
        form,
        headers: bearer ? {authorization: `Bearer ${bearer}`} : {},
        json,
        method,
        responseType: 'text',
        retry: {limit: retries},
        searchParams,
        signal,
        timeout: {request: options.timeoutMs ?? this.timeoutMs},
      })
    } catch (error) {
      throw networkError(error as RequestError, host, signal)
    }

    const body = parseBody(response.body)
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
}

const notJson = Symbol('not JSON')

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
  return detail ? `${base}: ${detail}` : `${base}.`
}

/** The service's own explanation, when it sent one (`{"error": "...", "error_description": "..."}`), kept short and on one line. */
export function serviceDetail(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const {error, error_description: description} = body as Record<string, unknown>
  const text = [error, description].filter(part => typeof part === 'string' && part).join(': ')
  return text ? text.replaceAll(/\s+/gv, ' ').slice(0, 200) : undefined
}

function suggestionFor(status: number): string | undefined {
  if (status === 429 || status >= 500) return 'The service is busy or having trouble; try again in a minute.'
  return undefined
}

function networkError(error: RequestError, host: string, signal?: AbortSignal): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : error
  const code = error.code ?? ''
  const reasons: Record<string, string> = {
    EAI_AGAIN: 'the name could not be resolved',
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'the connection was reset',
    ENETUNREACH: 'the network is unreachable',
    ENOTFOUND: 'the host name could not be resolved',
    ERR_GOT_REQUEST_ERROR: 'the request failed',
    ETIMEDOUT: 'no answer in time',
  }
  const reason = error.name === 'TimeoutError' ? 'no answer in time' : (reasons[code] ?? error.message.split('\n', 1)[0])
  return new NetworkError(`Could not reach ${host}: ${reason}.`, {
    suggestion: 'Check your network connection and proxy settings (HTTPS_PROXY, NO_PROXY), then try again.',
  })
}
