/**
 * The loopback callback: a tiny HTTP server on 127.0.0.1, on the first free
 * port of 8400-8404 (the redirect URIs registered with the provider), that
 * receives the browser's redirect at GET /oauth_callback and shows a
 * self-contained page saying whether sign-in worked.
 *
 * Anything on this machine can reach it: an answer for another sign-in (its
 * state does not match) gets an error page and is ignored, and connections
 * that send nothing for a second are dropped, oldest first, so they cannot
 * crowd out the browser.
 */
import type {AddressInfo, Socket} from 'node:net'

import {readFileSync} from 'node:fs'
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'

import {LoginError} from '../errors.js'
import {isSameSecret} from '../secret.js'
import {abortable} from '../wait.js'

export const CALLBACK_PORTS = [8400, 8401, 8402, 8403, 8404] as const
export const CALLBACK_PATH = '/oauth_callback'

/** What the browser page says. */
export type CallbackPage = {
  /** One sentence; escaped when rendered. */
  detail: string;
  ok: boolean;
}

/** One redirect that reached the callback; `respond` answers the waiting browser. */
export type CallbackRequest = {
  params: URLSearchParams;
  respond(page: CallbackPage): void;
  /** Answers a redirect that will not be used (another sign-in's, or one too many). */
  turnAway(page: ErrorPage): void;
}

type ErrorPage = {detail: string; status: number; title: string}

const alreadyAnswered: ErrorPage = {
  detail: 'This sign-in has already received an answer. Return to your terminal.',
  status: 409,
  title: 'Already answered',
}
const notThisSignIn: ErrorPage = {
  detail: 'This answer does not belong to this sign-in (its state does not match), so it was ignored. '
    + 'The sign-in in your terminal is still waiting for its own answer.',
  status: 400,
  title: 'Not this sign-in',
}

export type LoopbackCallback = {
  /** Stops listening; a browser still waiting gets its page first (briefly). Safe to call twice. */
  close(): Promise<void>;
  /**
   * The first redirect carrying `code` or `error` (and, when `state` is given, that state: others are
   * shown a page saying they do not belong to this sign-in, and ignored); rejects with the signal's reason on abort.
   */
  next(signal?: AbortSignal, state?: string): Promise<CallbackRequest>;
  port: number;
  redirectUri: string;
}

/** How long close() lets a page that is being sent finish. */
const CLOSE_GRACE_MS = 1000
/** Silent connections kept; past this, the oldest one silent for SILENT_MS is dropped (a browser uses a handful). */
const MAX_CONNECTIONS = 32
/** A browser sends its request at once: a connection silent this long may be dropped to make room. */
const SILENT_MS = 1000
/** A browser sends its request at once; a connection still silent after this is dropped. */
const HEADERS_TIMEOUT_MS = 10_000

type Waiter = {deliver(request: CallbackRequest): void; state?: string}

export async function loopbackCallback(ports: readonly number[] = CALLBACK_PORTS): Promise<LoopbackCallback> {
  let isDelivered = false
  let waiter: undefined | Waiter
  // Answers that arrived before anyone waited for them; their state is checked once `next` says which one is expected.
  const queued: CallbackRequest[] = []
  const pending = new Set<ServerResponse>()

  /** Hands `request` to the waiter if it belongs to this sign-in (true); otherwise answers it and keeps waiting. */
  const isHandedOver = (request: CallbackRequest, {deliver, state}: Waiter): boolean => {
    if (isDelivered) {
      request.turnAway(alreadyAnswered)
      return false
    }

    if (state !== undefined && !isSameSecret(request.params.get('state') ?? '', state)) {
      request.turnAway(notThisSignIn)
      return false
    }

    isDelivered = true
    deliver(request)
    return true
  }

  const server = createServer({
    connectionsCheckingInterval: 1000, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: 1000, requestTimeout: 2 * HEADERS_TIMEOUT_MS,
  }, (req, res) => {
    const request = routeCallback(req, res, pending, isDelivered)
    if (!request) return
    if (waiter) isHandedOver(request, waiter)
    else queued.push(request)
  })
  capConnections(server, pending)

  const port = await listenOnFirstFree(server, ports)
  let closing: Promise<void> | undefined
  return {
    async close() {
      closing ??= closeServer(server, pending)
      return closing
    },
    async next(signal, state) {
      const {promise, resolve} = Promise.withResolvers<CallbackRequest>()
      const candidate: Waiter = {
        deliver(request) {
          waiter = undefined
          resolve(request)
        },
        state,
      }
      let isAnswered = false
      while (!isAnswered && queued.length > 0) isAnswered = isHandedOver(queued.shift()!, candidate)
      if (!isAnswered) waiter = candidate
      try {
        return signal ? await abortable(promise, signal) : await promise
      } finally {
        if (waiter === candidate) waiter = undefined
      }
    },
    port,
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
  }
}

/** Answers everything but the first sign-in redirect at once; returns that one for the login to decide on. */
function routeCallback(
  req: IncomingMessage,
  res: ServerResponse,
  pending: Set<ServerResponse>,
  isDelivered: boolean,
): CallbackRequest | undefined {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  if (url.pathname !== CALLBACK_PATH) {
    sendPage(res, {detail: 'There is nothing here.', status: 404, title: 'Not found'})
    return undefined
  }

  if (req.method !== 'GET') {
    sendPage(res, {
      detail: 'Only GET is accepted here.', headers: {allow: 'GET'}, status: 405, title: 'Method not allowed',
    })
    return undefined
  }

  const {searchParams: params} = url
  if (!params.has('code') && !params.has('error')) {
    sendPage(res, {
      detail: 'This address expects the redirect from the Pipecat Cloud sign-in page.', status: 400, title: 'Not a sign-in answer',
    })
    return undefined
  }

  if (isDelivered) {
    sendPage(res, alreadyAnswered)
    return undefined
  }

  pending.add(res)
  res.on('close', () => {
    pending.delete(res)
  })
  let isAnswered = false
  const answer = (page: Parameters<typeof sendPage>[1]) => {
    if (isAnswered) return
    isAnswered = true
    sendPage(res, page)
  }

  return {
    params,
    respond({detail, ok}) {
      answer(ok ? {detail, status: 200, title: 'Signed in to Pipecat Cloud'} : {detail, status: 400, title: 'Sign-in failed'})
    },
    turnAway: answer,
  }
}

/**
 * Silent connections (no request yet) are dropped, oldest first, only when more than MAX_CONNECTIONS are open and
 * they have been silent for SILENT_MS, as seen by two sweeps in a row (so a busy event loop that has not read a
 * request yet does not count as silence). A connection that spoke, or is younger (the browser's, likely), stays;
 * refusing newcomers (`server.maxConnections`) would turn the browser away. Only past a hard cap, half the
 * process's open-file limit, is the oldest silent one dropped at once: running out of files would drop them all.
 */
function capConnections(server: Server, pending: Set<ServerResponse>): void {
  // Silent connections by when they opened, oldest first (a Map keeps insertion order); `seen`: old at the last sweep.
  const silent = new Map<Socket, {openedAt: number; seen: boolean}>()
  const hardCap = Math.max(MAX_CONNECTIONS * 2, Math.floor(openFilesLimit() / 2))
  const drop = (socket: Socket, answering: Set<unknown>) => {
    silent.delete(socket)
    if (!answering.has(socket)) socket.destroy()
  }

  const sweep = () => {
    const now = Date.now()
    const answering = new Set([...pending].map(res => res.socket))
    for (const [socket, entry] of silent) {
      if (silent.size <= MAX_CONNECTIONS || now - entry.openedAt < SILENT_MS) break
      if (entry.seen) drop(socket, answering)
      else entry.seen = true
    }
  }

  const timer = setInterval(sweep, SILENT_MS / 4)
  timer.unref()
  server.on('close', () => {
    clearInterval(timer)
  })
  server.on('connection', (socket: Socket) => {
    silent.set(socket, {openedAt: Date.now(), seen: false})
    socket.once('close', () => {
      silent.delete(socket)
    })
    if (silent.size <= hardCap) return
    const answering = new Set([...pending].map(res => res.socket))
    for (const [old] of silent) {
      if (silent.size <= hardCap) break
      if (old !== socket) drop(old, answering)
    }
  })
  // A whole request arrived: this connection speaks, whatever it asks.
  server.on('request', (req: IncomingMessage) => {
    silent.delete(req.socket)
  })
}

/** The soft limit on open files (Linux: /proc/self/limits); a small default elsewhere (macOS allows 256). */
function openFilesLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8')
    const soft = Number(/^Max open files\s+(\d+)/mv.exec(limits)?.[1])
    return Number.isFinite(soft) && soft > 0 ? soft : 256
  } catch {
    return 256
  }
}

async function listenOnFirstFree(server: Server, ports: readonly number[]): Promise<number> {
  for (const port of ports) {
    // eslint-disable-next-line no-await-in-loop -- one port after another, in order
    const error = await new Promise<NodeJS.ErrnoException | undefined>(resolve => {
      const onError = (failure: NodeJS.ErrnoException) => {
        resolve(failure)
      }

      server.once('error', onError)
      server.listen({host: '127.0.0.1', port}, () => {
        server.off('error', onError)
        resolve(undefined)
      })
    })
    if (!error) return (server.address() as AddressInfo).port
    if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') {
      throw new LoginError(`Could not listen for the sign-in answer on 127.0.0.1:${port}: ${error.message}`, {cause: error})
    }
  }

  throw new LoginError(`Could not listen for the sign-in answer: ports ${listPorts(ports)} on 127.0.0.1 are all in use.`, {
    suggestion: 'Another sign-in may still be running; finish or stop it (or whatever else uses those ports), then try again.',
  })
}

function listPorts(ports: readonly number[]): string {
  return ports.length > 1 ? `${ports.slice(0, -1).join(', ')} and ${ports.at(-1)}` : String(ports[0])
}

async function closeServer(server: Server, pending: Set<ServerResponse>): Promise<void> {
  for (const res of pending) {
    sendPage(res, {detail: 'The sign-in was stopped in the terminal. Nothing was saved.', status: 400, title: 'Sign-in stopped'})
  }

  const closed = new Promise<void>(resolve => {
    server.close(() => {
      resolve()
    })
  })
  server.closeIdleConnections()
  // Pages already sent are finishing; a browser holding a connection open does not keep us waiting.
  const grace = setTimeout(() => {
    server.closeAllConnections()
  }, CLOSE_GRACE_MS)
  await closed
  clearTimeout(grace)
}

/** Self-contained HTML: no scripts, no external resources, everything echoed escaped. */
function sendPage(
  res: ServerResponse,
  {detail, headers = {}, status, title}: {detail: string; headers?: Record<string, string>; status: number; title: string},
): void {
  if (res.headersSent) return
  const isSuccess = status === 200
  const hint = isSuccess ? 'You can close this tab and return to your terminal.' : 'Return to your terminal for details.'
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#111}
h1{font-size:1.5rem;color:${isSuccess ? '#0a6b2e' : '#a1141b'}}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(detail)}</p>
<p>${hint}</p></main></body></html>
`
  res.writeHead(status, {
    'cache-control': 'no-store',
    connection: 'close',
    'content-length': Buffer.byteLength(body),
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'content-type': 'text/html; charset=utf-8',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    ...headers,
  })
  res.end(body)
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}
