// A local Pipecat Cloud emulator: speaks the wire protocol described in
// docs/protocol.md (OAuth + PKCE, the earlier token flow, users,
// organizations, Daily key, logout) on 127.0.0.1, with knobs for tests.
//
// This file is the public API, the shared state, the router and the control
// API (/__emulator/*). Each concern reads top to bottom in its own module:
// oauth.ts, token-flow.ts, account.ts, tokens.ts, faults.ts, pages.ts, http.ts.
import type {AddressInfo, Socket} from 'node:net'

import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  dailyKey,
  logout,
  organizations,
  revoke,
  signOutPage,
  users,
} from './account.js'
import {addLatency, injectFailure, takeFailure} from './faults.js'
import {
  BodyTooLargeError,
  type Context,
  parseJsonObject,
  readBody,
  sendError,
  sendJson,
} from './http.js'
import {
  type AuthCode,
  authConfig,
  authorizeDecision,
  authorizePage,
  CLIENT_ID,
  discovery,
  tokenEndpoint,
} from './oauth.js'
import {
  startTokenFlow,
  type TokenFlow,
  tokenFlowDecision,
  tokenFlowStatus,
  tokenFlowWebPage,
} from './token-flow.js'
import {issueTokens, TokenStore} from './tokens.js'

export {dailyApiKey} from './account.js'
export {CLIENT_ID, pkceChallenge, SCOPES} from './oauth.js'

export type Organization = {
  name: string;
  verboseName: string;
}

export type FailureKind = 'bad-json' | 'hang' | 'html' | 'reset' | 'status' | 'truncated' | 'wrong-shape'

export type Failure = {
  /** default 'status' */
  kind?: FailureKind;
  /** seconds, sets Retry-After */
  retryAfter?: number;
  /** default 500 for 'status', 200 for the other kinds */
  status?: number;
  /** fail this many times, then stop failing; default forever */
  times?: number;
}

export type Knobs = {
  /** seconds, OAuth access token lifetime; expires_in reports it */
  accessTokenTtl: number;
  /** GET authorize redirects at once; the earlier flow completes on the first status poll */
  autoApprove: boolean;
  /** override the iss sent on the redirect (null = omit) */
  callbackIss?: null | string;
  /** merged over the discovery document */
  discovery: Record<string, unknown>;
  /** key is a path ('/v1/users'), 'METHOD /path', or a route template ('/v1/organizations/{org}/daily') */
  failures: Record<string, Failure>;
  issueRefreshToken: boolean;
  /** added before every answer */
  latencyMs: number;
  /** /auth/config answers 404 (earlier-generation server) */
  legacyOnly: boolean;
  /** earlier flow: hold a pending status request this long before answering pending */
  longPollMs: number;
  organizations: Organization[];
  /** ms added before answering one route, keyed as `failures` ('POST /oauth/token', '/v1/users', a template) */
  pathLatencyMs: Record<string, number>;
  /** characters added to every access token the token endpoint issues (a provider with large JWTs) */
  tokenPadding: number;
  user: {emails: string[]; userId: string};
}

export type RecordedRequest = {
  at: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  method: string;
  path: string;
  query: Record<string, string>;
}

export type EmulatorStats = {
  codeExchanges: number;
  refreshGrants: number;
  refreshReuseDetected: number;
  revocations: number;
}

export type IssuedTokens = {
  access_token: string;
  expires_in: number;
  refresh_token: string;
}

export type Emulator = {
  /** --tls: the PEM of the certificate authority clients must trust */
  ca?: string;
  /** --tls: a file holding `ca`, for NODE_EXTRA_CA_CERTS / SSL_CERT_FILE; close() removes it */
  caFile?: string;
  clientId: string;
  close(): Promise<void>;
  issueLegacyToken(): string;
  issuePat(): string;
  /** `${url}/oauth` */
  issuer: string;
  issueTokens(opts?: {ttl?: number}): IssuedTokens;
  isValid(token: string): boolean;
  /** A refresh token the token endpoint would still exchange: known, not spent, not revoked. */
  isValidRefresh(token: string): boolean;
  /** mutable live */
  knobs: Knobs;
  requests: RecordedRequest[];
  /** clear requests and stats, knobs back to the ones the emulator started with */
  reset(): void;
  stats: EmulatorStats;
  /** http://127.0.0.1:PORT (https:// with tls), both the API host and the dashboard host */
  url: string;
}

export type StartOptions = {
  knobs?: Partial<Knobs>;
  /** called once per answered (or abandoned) non-control request, e.g. 'GET /v1/users 200 3ms' */
  log?: (line: string) => void;
  port?: number;
  /** serve HTTPS with a certificate for 127.0.0.1 and localhost made now (see tls.ts) */
  tls?: boolean;
}

const CONTROL_PREFIX = '/__emulator/'

export function defaultKnobs(): Knobs {
  return {
    accessTokenTtl: 3600,
    autoApprove: false,
    discovery: {},
    failures: {},
    issueRefreshToken: true,
    latencyMs: 0,
    legacyOnly: false,
    longPollMs: 0,
    organizations: [
      {name: 'user-namespace', verboseName: 'Demo User'},
      {name: 'acme', verboseName: 'Acme Inc'},
    ],
    pathLatencyMs: {},
    tokenPadding: 0,
    user: {emails: ['dev@example.com'], userId: 'user_emulator_01'},
  }
}

/** What every handler works on; the Emulator handed to tests shares its knobs, requests and stats. */
export type State = {
  /** aborted by close(): wakes latency sleeps and long polls */
  closing: AbortSignal;
  /** OAuth authorization codes */
  codes: Map<string, AuthCode>;
  /** earlier token flows by id */
  flows: Map<string, TokenFlow>;
  /** what reset() returns the knobs to */
  initialKnobs: Knobs;
  issuer: string;
  knobs: Knobs;
  requests: RecordedRequest[];
  stats: EmulatorStats;
  tokens: TokenStore;
  url: string;
}

export async function startEmulator(opts: StartOptions = {}): Promise<Emulator> {
  const closing = new AbortController()
  const initialKnobs = structuredClone({...defaultKnobs(), ...opts.knobs})
  const state: State = {
    closing: closing.signal,
    codes: new Map(),
    flows: new Map(),
    initialKnobs,
    issuer: '',
    knobs: structuredClone(initialKnobs),
    requests: [],
    stats: zeroStats(),
    tokens: new TokenStore(),
    url: '',
  }

  const onHttp = (req: IncomingMessage, res: ServerResponse): void => {
    onRequest(state, req, res, opts.log)
  }

  const tls = opts.tls ? await tlsFiles() : undefined
  const server = tls ? createHttpsServer({cert: tls.cert, key: tls.key}, onHttp) : createServer(onHttp)
  // a client that refuses the certificate shows up only here, so say it where the requests are logged
  server.on('tlsClientError', (error: Error & {reason?: string}) => opts.log?.(`TLS handshake failed: ${error.reason ?? error.message}`))
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => {
      sockets.delete(socket)
    })
  })

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    if (tls) await rm(path.dirname(tls.caFile), {force: true, recursive: true})
    throw error
  }

  const {port} = server.address() as AddressInfo
  state.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`
  state.issuer = `${state.url}/oauth`

  return {
    ca: tls?.ca,
    caFile: tls?.caFile,
    clientId: CLIENT_ID,
    async close() {
      if (closing.signal.aborted) return
      closing.abort() // wakes latency sleeps and long polls
      const closed = new Promise<void>(resolve => {
        server.close(() => {
          resolve()
        })
      })
      server.closeAllConnections()
      for (const socket of sockets) socket.destroy() // hanging requests included
      await closed
      if (tls) await rm(path.dirname(tls.caFile), {force: true, recursive: true})
    },
    issueLegacyToken: () => state.tokens.addStandalone('legacy'),
    issuePat: () => state.tokens.addStandalone('pat'),
    issuer: state.issuer,
    issueTokens: (tokenOpts = {}) => issueTokens(state, tokenOpts.ttl),
    isValid: token => state.tokens.isValidBearer(token),
    isValidRefresh: token => state.tokens.isValidRefresh(token),
    knobs: state.knobs,
    requests: state.requests,
    reset() {
      reset(state)
    },
    stats: state.stats,
    url: state.url,
  }
}

/** A fresh certificate authority and server certificate; the authority's certificate in a private temporary folder. */
async function tlsFiles(): Promise<{ca: string; caFile: string; cert: string; key: string}> {
  // loaded here so that plain HTTP runs never load the certificate library
  const {makeCertificates} = await import('./tls.js')
  const certificates = await makeCertificates()
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-emulator-tls-'))
  const caFile = path.join(dir, 'emulator-ca.pem')
  await writeFile(caFile, certificates.ca, {mode: 0o644})
  return {...certificates, caFile}
}

function zeroStats(): EmulatorStats {
  return {
    codeExchanges: 0, refreshGrants: 0, refreshReuseDetected: 0, revocations: 0,
  }
}

function reset(state: State): void {
  state.requests.length = 0
  // mutate in place so references held by callers stay live
  Object.assign(state.stats, zeroStats())
  delete state.knobs.callbackIss // the only optional knob; assign() below overwrites the rest
  Object.assign(state.knobs, structuredClone(state.initialKnobs))
}

// ---------------------------------------------------------------- routing

type Route = {
  handle: (state: State, ctx: Context) => Promise<void> | void;
  method: string;
  pattern: RegExp;
  template: string;
}

function route(method: string, template: string, handle: Route['handle']): Route {
  const pattern = new RegExp('^' + template.replaceAll('.', String.raw`\.`).replaceAll(/\{\w+\}/gv, String.raw`([^\/]+)`) + '$', 'v')
  return {
    handle, method, pattern, template,
  }
}

const ROUTES: Route[] = [
  // OAuth (oauth.ts)
  route('GET', '/auth/config', authConfig),
  route('GET', '/oauth/.well-known/openid-configuration', discovery),
  route('GET', '/oauth/authorize', authorizePage),
  route('POST', '/oauth/authorize', authorizeDecision),
  route('POST', '/oauth/token', tokenEndpoint),
  // the earlier token flow (token-flow.ts)
  route('POST', '/auth/login', startTokenFlow),
  route('GET', '/login/{id}', tokenFlowWebPage),
  route('POST', '/login/{id}', tokenFlowDecision),
  route('GET', '/auth/status', tokenFlowStatus),
  // the account, and ending a session (account.ts)
  route('GET', '/v1/users', users),
  route('GET', '/v1/organizations', organizations),
  route('GET', '/v1/organizations/{org}/daily', dailyKey),
  route('POST', '/auth/logout', logout),
  route('POST', '/oauth/revoke', revoke),
  route('GET', '/sign-out', signOutPage),
]

function findRoute(method: string, pathname: string): undefined | {params: string[]; route: Route} {
  for (const candidate of ROUTES) {
    const match = candidate.method === method ? candidate.pattern.exec(pathname) : null
    if (match) return {params: match.slice(1).map(param => decodeURIComponent(param)), route: candidate}
  }

  return undefined
}

// ---------------------------------------------------------------- one request

function onRequest(state: State, req: IncomingMessage, res: ServerResponse, log?: (line: string) => void): void {
  answer(state, req, res, log).catch((error: unknown) => {
    if (state.closing.aborted) return
    if (res.headersSent) res.destroy()
    else if (error instanceof BodyTooLargeError) sendError(res, 413, 'Request body too large')
    else sendError(res, 500, `Emulator error: ${String(error)}`)
  })
}

/** Control requests skip everything; the rest are recorded, logged, delayed, maybe failed, then routed. */
async function answer(state: State, req: IncomingMessage, res: ServerResponse, log?: (line: string) => void): Promise<void> {
  const url = new URL(req.url ?? '/', state.url)
  const method = req.method ?? 'GET'
  const body = await readBody(req)
  if (url.pathname.startsWith(CONTROL_PREFIX)) {
    control(state, `${method} ${url.pathname}`, body, res)
    return
  }

  state.requests.push({
    at: Date.now(),
    body,
    headers: {...req.headers},
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
  })
  const started = Date.now()
  res.on('close', () => log?.(`${method} ${url.pathname} ${res.headersSent ? res.statusCode : 'no answer'} ${Date.now() - started}ms`))
  const match = findRoute(method, url.pathname)
  await addLatency(state, method, url.pathname, match?.route.template)

  const failure = takeFailure(state, method, url.pathname, match?.route.template)
  if (failure) {
    injectFailure(res, failure)
    return
  }

  if (!match) {
    const isKnown = ROUTES.some(candidate => candidate.pattern.test(url.pathname))
    sendError(res, isKnown ? 405 : 404, isKnown ? 'Method not allowed' : 'Not found')
    return
  }

  await match.route.handle(state, {
    body, params: match.params, req, res, url,
  })
}

// ---------------------------------------------------------------- control API (not recorded, no latency or failures)

/** `request` is 'METHOD /path'. */
function control(state: State, request: string, body: string, res: ServerResponse): void {
  switch (request) {
  case 'GET /__emulator/state': {
    sendJson(res, 200, {
      issuer: state.issuer, knobs: state.knobs, requests: state.requests.length, stats: state.stats, url: state.url,
    })
    return
  }

  case 'GET /__emulator/requests': {
    sendJson(res, 200, {requests: state.requests})
    return
  }

  case 'POST /__emulator/knobs': {
    // a shallow merge: {"failures": {...}} replaces all failures
    const patch = parseJsonObject(body)
    const unknown = patch ? Object.keys(patch).filter(key => !Object.hasOwn(defaultKnobs(), key) && key !== 'callbackIss') : []
    if (!patch || unknown.length > 0) {
      sendError(res, 400, patch ? `Unknown knobs: ${unknown.join(', ')}` : 'Send a JSON object')
      return
    }

    Object.assign(state.knobs, patch)
    sendJson(res, 200, {knobs: state.knobs})
    return
  }

  case 'POST /__emulator/reset': {
    reset(state)
    sendJson(res, 200, {status: 'reset'})
    return
  }

  case 'POST /__emulator/pat': {
    sendJson(res, 200, {token: state.tokens.addStandalone('pat')})
    return
  }

  case 'POST /__emulator/tokens': {
    const ttl = parseJsonObject(body || '{}')?.ttl
    sendJson(res, 200, issueTokens(state, typeof ttl === 'number' ? ttl : undefined))
    return
  }

  default: {
    sendError(res, 404, 'Unknown control endpoint')
  }
  }
}
