// A local Pipecat Cloud emulator: speaks the wire protocol described in
// docs/pipecat-cloud-api.md (OAuth + PKCE, the earlier token flow, users,
// organizations, Daily key, logout) on 127.0.0.1, with knobs for tests.
import type {AddressInfo, Socket} from 'node:net'

import {Buffer} from 'node:buffer'
import {
  createHash,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto'
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http'
import {setTimeout as delay} from 'node:timers/promises'

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
  clientId: string;
  close(): Promise<void>;
  issueLegacyToken(): string;
  issuePat(): string;
  /** `${url}/oauth` */
  issuer: string;
  issueTokens(opts?: {ttl?: number}): IssuedTokens;
  isValid(token: string): boolean;
  /** mutable live */
  knobs: Knobs;
  requests: RecordedRequest[];
  /** clear requests and stats, knobs back to the ones the emulator started with */
  reset(): void;
  stats: EmulatorStats;
  /** http://127.0.0.1:PORT, both the API host and the dashboard host */
  url: string;
}

export type StartOptions = {
  knobs?: Partial<Knobs>;
  /** called once per answered (or abandoned) non-control request, e.g. 'GET /v1/users 200 3ms' */
  log?: (line: string) => void;
  port?: number;
}

export const CLIENT_ID = 'pipecat-cli'
export const SCOPES = 'openid profile email offline_access'
const CODE_TTL_MS = 5 * 60_000
const MAX_BODY_BYTES = 1_000_000
const CONTROL_PREFIX = '/__emulator/'
const REDIRECT_URI = /^http:\/\/127\.0\.0\.1:840[0-4]\/oauth_callback$/v
const PKCE_VALUE = /^[\w.~\-]{43,128}$/v
const AUTHORIZE_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge', 'code_challenge_method', 'state']

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
    user: {emails: ['dev@example.com'], userId: 'user_emulator_01'},
  }
}

export async function startEmulator(opts: StartOptions = {}): Promise<Emulator> {
  const emulator = new EmulatorServer(opts)
  await emulator.listen(opts.port ?? 0)
  return emulator
}

// ---------------------------------------------------------------- tokens

type TokenKind = 'access' | 'legacy' | 'pat' | 'refresh'

type TokenRecord = {
  /** ms since epoch; absent = never expires */
  expiresAt?: number;
  family?: string;
  kind: TokenKind;
  revoked: boolean;
  /** refresh tokens: already exchanged once */
  used: boolean;
}

/** Opaque tokens; an OAuth login's access and refresh tokens share a family so a reuse or logout can revoke them all. */
class TokenStore {
  private readonly families = new Map<string, {scope: string; tokens: Set<string>}>()
  private readonly records = new Map<string, TokenRecord>()

  addAccess(family: string, ttlSeconds: number): string {
    const expiresAt = Date.now() + (ttlSeconds * 1000)
    return this.add('emu_at_', {
      expiresAt, family, kind: 'access', revoked: false, used: false,
    })
  }

  addRefresh(family: string): string {
    return this.add('emu_rt_', {
      family, kind: 'refresh', revoked: false, used: false,
    })
  }

  addStandalone(kind: 'legacy' | 'pat'): string {
    return this.add(kind === 'pat' ? 'pcc_pat_' : 'emu_lt_', {kind, revoked: false, used: false})
  }

  get(token: string): TokenRecord | undefined {
    return this.records.get(token)
  }

  isValidBearer(token: string): boolean {
    const record = this.records.get(token)
    if (!record || record.revoked || record.kind === 'refresh') return false
    return record.expiresAt === undefined || Date.now() < record.expiresAt
  }

  newFamily(scope: string): string {
    const id = randomUUID()
    this.families.set(id, {scope, tokens: new Set()})
    return id
  }

  /** A refresh token revokes its whole family; any other token only itself. Returns whether the token was known. */
  revoke(token: string): boolean {
    const record = this.records.get(token)
    if (!record) return false
    if (record.kind === 'refresh' && record.family) this.revokeFamily(record.family)
    else record.revoked = true
    return true
  }

  revokeFamily(family: string): void {
    for (const token of this.families.get(family)?.tokens ?? []) {
      const record = this.records.get(token)
      if (record) record.revoked = true
    }
  }

  scopeOf(family: string): string {
    return this.families.get(family)?.scope ?? SCOPES
  }

  private add(prefix: string, record: TokenRecord): string {
    const token = prefix + randomBytes(24).toString('base64url')
    this.records.set(token, record)
    if (record.family) this.families.get(record.family)?.tokens.add(token)
    return token
  }
}

// ---------------------------------------------------------------- state of the two login flows

type AuthorizeRequest = {
  clientId: string;
  codeChallenge: string;
  redirectUri: string;
  scope: string;
  state: string;
}

type AuthCode = AuthorizeRequest & {
  expiresAt: number;
  /** family issued for this code, revoked if the code is replayed */
  family?: string;
  used: boolean;
}

type TokenFlow = {
  code?: string;
  state: 'approved' | 'consumed' | 'denied' | 'pending';
  /** long polls waiting for a decision */
  waiters: Set<() => void>;
  waitSecret: string;
}

// ---------------------------------------------------------------- routing

type Context = {
  body: string;
  params: string[];
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

type Route = {
  handle: (ctx: Context) => Promise<void> | void;
  method: string;
  pattern: RegExp;
  template: string;
}

class BodyTooLargeError extends Error {}

// Members are sorted (lint): public API first, then handlers and helpers A-Z; buildRoutes() maps endpoints to handlers.
class EmulatorServer implements Emulator {
  readonly clientId = CLIENT_ID
  issuer = ''
  readonly knobs: Knobs
  readonly requests: RecordedRequest[] = []
  readonly stats: EmulatorStats = {
    codeExchanges: 0, refreshGrants: 0, refreshReuseDetected: 0, revocations: 0,
  }

  url = ''
  private readonly closing = new AbortController()
  private readonly codes = new Map<string, AuthCode>()
  private readonly flows = new Map<string, TokenFlow>()
  private readonly initialKnobs: Knobs
  private readonly log?: (line: string) => void
  private readonly routes: Route[]
  private readonly server = createServer((req, res) => {
    this.handle(req, res)
  })

  private readonly sockets = new Set<Socket>()
  private readonly tokens = new TokenStore()

  constructor(opts: StartOptions) {
    this.initialKnobs = structuredClone({...defaultKnobs(), ...opts.knobs})
    this.knobs = structuredClone(this.initialKnobs)
    this.log = opts.log
    this.routes = this.buildRoutes()
    this.server.on('connection', socket => {
      this.sockets.add(socket)
      socket.on('close', () => {
        this.sockets.delete(socket)
      })
    })
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return
    this.closing.abort() // wakes latency sleeps and long polls
    const closed = new Promise<void>(resolve => {
      this.server.close(() => {
        resolve()
      })
    })
    this.server.closeAllConnections()
    for (const socket of this.sockets) socket.destroy() // hanging requests included
    await closed
  }

  issueLegacyToken(): string {
    return this.tokens.addStandalone('legacy')
  }

  issuePat(): string {
    return this.tokens.addStandalone('pat')
  }

  issueTokens(opts: {ttl?: number} = {}): IssuedTokens {
    const ttl = opts.ttl ?? this.knobs.accessTokenTtl
    const family = this.tokens.newFamily(SCOPES)
    return {access_token: this.tokens.addAccess(family, ttl), expires_in: ttl, refresh_token: this.tokens.addRefresh(family)}
  }

  isValid(token: string): boolean {
    return this.tokens.isValidBearer(token)
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    const {port: actual} = this.server.address() as AddressInfo
    this.url = `http://127.0.0.1:${actual}`
    this.issuer = `${this.url}/oauth`
  }

  reset(): void {
    this.requests.length = 0
    Object.assign(this.stats, {
      codeExchanges: 0, refreshGrants: 0, refreshReuseDetected: 0, revocations: 0,
    })
    // mutate in place so references held by callers stay live
    delete this.knobs.callbackIss // the only optional knob; assign() below overwrites the rest
    Object.assign(this.knobs, structuredClone(this.initialKnobs))
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    const method = req.method ?? 'GET'
    const body = await readBody(req)
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      this.handleControl(method, url, body, res)
      return
    }

    this.record(method, url, req, body)
    const started = Date.now()
    res.on('close', () => this.log?.(`${method} ${url.pathname} ${res.headersSent ? res.statusCode : 'no answer'} ${Date.now() - started}ms`))
    if (this.knobs.latencyMs > 0) await delay(this.knobs.latencyMs, undefined, {signal: this.closing.signal})

    const match = this.findRoute(method, url.pathname)
    const failure = this.takeFailure(method, url.pathname, match?.route.template)
    if (failure) {
      injectFailure(res, failure)
      return
    }

    if (!match) {
      const isKnown = this.routes.some(route => route.pattern.test(url.pathname))
      sendError(res, isKnown ? 405 : 404, isKnown ? 'Method not allowed' : 'Not found')
      return
    }

    await match.route.handle({
      body, params: match.params, req, res, url,
    })
  }

  private answerFlowStatus(res: ServerResponse, flow: TokenFlow): void {
    switch (flow.state) {
    case 'approved': {
      flow.state = 'consumed' // the token is handed out once
      sendJson(res, 200, {status: 'complete', token: this.issueLegacyToken()})
      break
    }

    case 'consumed': {
      sendError(res, 404, 'Unknown token flow') // a concurrent poll took it
      break
    }

    case 'denied': {
      sendJson(res, 200, {status: 'failure'})
      break
    }

    case 'pending': {
      sendJson(res, 200, {status: 'pending'})
    }
    }
  }

  /** Records a fresh authorization code and returns the redirect that carries it. */
  private approve(request: AuthorizeRequest): string {
    const code = 'emu_code_' + randomBytes(24).toString('base64url')
    this.codes.set(code, {...request, expiresAt: Date.now() + CODE_TTL_MS, used: false})
    return this.callbackUrl(request, {code})
  }

  private authConfig({res}: Context): void {
    if (this.knobs.legacyOnly) sendError(res, 404, 'Not found')
    else sendJson(res, 200, {client_id: this.clientId, issuer: this.issuer, scopes: SCOPES})
  }

  private authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const token = /^bearer\s+(\S+)\s*$/iv.exec(req.headers.authorization ?? '')?.[1]
    if (token && this.tokens.isValidBearer(token)) return true
    sendJson(res, 401, {code: '401', error: 'Unauthorized'}, {'www-authenticate': 'Bearer'})
    return false
  }

  private authorizeDecision({body, res}: Context): void {
    const form = new URLSearchParams(body)
    const request = this.checkAuthorizeRequest(form)
    if (typeof request === 'string') {
      sendHtml(res, 400, authorizeErrorPage(request))
      return
    }

    const decision = form.get('decision')
    if (decision === 'approve') redirect(res, this.approve(request))
    else if (decision === 'deny') redirect(res, this.callbackUrl(request, {error: 'access_denied', error_description: 'The user denied the request'}))
    else sendHtml(res, 400, authorizeErrorPage('decision must be approve or deny'))
  }

  private authorizePage({res, url}: Context): void {
    const request = this.checkAuthorizeRequest(url.searchParams)
    if (typeof request === 'string') sendHtml(res, 400, authorizeErrorPage(request))
    else if (this.knobs.autoApprove) redirect(res, this.approve(request))
    else sendHtml(res, 200, signInPage(request, url.searchParams, this.knobs.user.emails[0] ?? this.knobs.user.userId))
  }

  private buildRoutes(): Route[] {
    const route = (method: string, template: string, handle: Route['handle']): Route => ({
      handle: handle.bind(this),
      method,
      pattern: new RegExp('^' + template.replaceAll('.', String.raw`\.`).replaceAll(/\{\w+\}/gv, String.raw`([^\/]+)`) + '$', 'v'),
      template,
    })
    return [
      route('GET', '/auth/config', this.authConfig),
      route('GET', '/oauth/.well-known/openid-configuration', this.discovery),
      route('GET', '/oauth/authorize', this.authorizePage),
      route('POST', '/oauth/authorize', this.authorizeDecision),
      route('POST', '/oauth/token', this.token),
      route('POST', '/oauth/revoke', this.revoke),
      route('GET', '/v1/users', this.users),
      route('GET', '/v1/organizations', this.organizations),
      route('GET', '/v1/organizations/{org}/daily', this.dailyKey),
      route('POST', '/auth/logout', this.logout),
      route('POST', '/auth/login', this.startTokenFlow),
      route('GET', '/auth/status', this.tokenFlowStatus),
      route('GET', '/login/{id}', this.tokenFlowPage),
      route('POST', '/login/{id}', this.tokenFlowDecision),
      route('GET', '/sign-out', this.signOutPage),
    ]
  }

  private callbackUrl(request: AuthorizeRequest, params: Record<string, string>): string {
    const url = new URL(request.redirectUri)
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
    url.searchParams.set('state', request.state)
    const iss = this.knobs.callbackIss
    if (iss !== null) url.searchParams.set('iss', iss ?? this.issuer)
    return url.href
  }

  /** The validated request, or why it is invalid. Invalid requests are never redirected (the redirect_uri may be hostile). */
  private checkAuthorizeRequest(params: URLSearchParams): AuthorizeRequest | string {
    const get = (name: string) => params.get(name) ?? ''
    if (get('response_type') !== 'code') return `response_type must be "code" (got "${get('response_type')}")`
    if (get('client_id') !== this.clientId) return `unknown client_id "${get('client_id')}"`
    if (!REDIRECT_URI.test(get('redirect_uri'))) return `redirect_uri "${get('redirect_uri')}" is not registered (http://127.0.0.1:8400-8404/oauth_callback)`
    if (!PKCE_VALUE.test(get('code_challenge'))) return 'code_challenge is missing or malformed'
    if (get('code_challenge_method') !== 'S256') return `code_challenge_method must be "S256" (got "${get('code_challenge_method')}")`
    if (!get('state')) return 'state is missing'
    return {
      clientId: get('client_id'),
      codeChallenge: get('code_challenge'),
      redirectUri: get('redirect_uri'),
      scope: get('scope') === '' ? SCOPES : get('scope'),
      state: get('state'),
    }
  }

  private codeProblem(grant: AuthCode, clientId: string, redirectUri: string, verifier: string): string | undefined {
    if (grant.used) return 'authorization code already used'
    if (Date.now() > grant.expiresAt) return 'authorization code expired'
    if (grant.clientId !== clientId) return 'authorization code was issued to another client'
    if (grant.redirectUri !== redirectUri) return 'redirect_uri does not match the authorization request'
    if (!PKCE_VALUE.test(verifier)) return 'code_verifier is malformed'
    if (pkceChallenge(verifier) !== grant.codeChallenge) return 'PKCE verification failed'
    return undefined
  }

  private dailyKey({params, req, res}: Context): void {
    if (!this.authorized(req, res)) return
    const [org] = params
    if (this.knobs.organizations.some(o => o.name === org)) sendJson(res, 200, {apiKey: dailyApiKey(org)})
    else sendError(res, 404, 'Organization not found')
  }

  private decideFlow(flow: TokenFlow, decision: 'approved' | 'denied'): void {
    flow.state = decision
    for (const wake of flow.waiters) wake()
  }

  private discovery({res}: Context): void {
    sendJson(res, 200, {
      authorization_endpoint: `${this.issuer}/authorize`,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      issuer: this.issuer,
      response_types_supported: ['code'],
      revocation_endpoint: `${this.issuer}/revoke`,
      scopes_supported: SCOPES.split(' '),
      token_endpoint: `${this.issuer}/token`,
      token_endpoint_auth_methods_supported: ['none'],
      ...this.knobs.discovery,
    })
  }

  private exchangeCode(res: ServerResponse, form: URLSearchParams): void {
    this.stats.codeExchanges++
    const [code, verifier, redirectUri, clientId] = ['code', 'code_verifier', 'redirect_uri', 'client_id'].map(name => form.get(name))
    if (!code || !verifier || !redirectUri || !clientId) {
      oauthError(res, 400, 'invalid_request', 'code, code_verifier, redirect_uri and client_id are required')
      return
    }

    if (clientId !== this.clientId) {
      oauthError(res, 401, 'invalid_client', `unknown client_id "${clientId}"`)
      return
    }

    const grant = this.codes.get(code)
    // RFC 6749 4.1.2: a replayed code revokes the tokens it already issued
    if (grant?.used && grant.family) this.tokens.revokeFamily(grant.family)
    const problem = grant ? this.codeProblem(grant, clientId, redirectUri, verifier) : 'unknown authorization code'
    if (problem !== undefined || !grant) {
      oauthError(res, 400, 'invalid_grant', problem ?? 'unknown authorization code')
      return
    }

    grant.used = true
    grant.family = this.tokens.newFamily(grant.scope)
    this.sendTokens(res, grant.family)
  }

  private findRoute(method: string, path: string): undefined | {params: string[]; route: Route} {
    for (const route of this.routes) {
      const match = route.method === method ? route.pattern.exec(path) : null
      if (match) return {params: match.slice(1).map(param => decodeURIComponent(param)), route}
    }

    return undefined
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.answer(req, res).catch((error: unknown) => {
      if (this.closing.signal.aborted) return
      if (res.headersSent) res.destroy()
      else if (error instanceof BodyTooLargeError) sendError(res, 413, 'Request body too large')
      else sendError(res, 500, `Emulator error: ${String(error)}`)
    })
  }

  private handleControl(method: string, url: URL, body: string, res: ServerResponse): void {
    switch (`${method} ${url.pathname}`) {
    case 'GET /__emulator/requests': {
      sendJson(res, 200, {requests: this.requests})
      return
    }

    case 'GET /__emulator/state': {
      sendJson(res, 200, {
        issuer: this.issuer, knobs: this.knobs, requests: this.requests.length, stats: this.stats, url: this.url,
      })
      return
    }

    case 'POST /__emulator/knobs': {
      const patch = parseJsonObject(body)
      const unknown = patch ? Object.keys(patch).filter(key => !Object.hasOwn(defaultKnobs(), key) && key !== 'callbackIss') : []
      if (!patch || unknown.length > 0) {
        sendError(res, 400, patch ? `Unknown knobs: ${unknown.join(', ')}` : 'Send a JSON object')
        return
      }

      Object.assign(this.knobs, patch)
      sendJson(res, 200, {knobs: this.knobs})
      return
    }

    case 'POST /__emulator/pat': {
      sendJson(res, 200, {token: this.issuePat()})
      return
    }

    case 'POST /__emulator/reset': {
      this.reset()
      sendJson(res, 200, {status: 'reset'})
      return
    }

    case 'POST /__emulator/tokens': {
      const ttl = parseJsonObject(body || '{}')?.ttl
      sendJson(res, 200, this.issueTokens({ttl: typeof ttl === 'number' ? ttl : undefined}))
      return
    }

    default: {
      sendError(res, 404, 'Unknown control endpoint')
    }
    }
  }

  private logout({body, req, res}: Context): void {
    if (!this.authorized(req, res)) return
    const json = parseJsonObject(body)
    if (!json) {
      sendError(res, 400, 'Send a JSON object with refresh_token')
      return
    }

    const refreshToken = json.refresh_token
    if (typeof refreshToken === 'string' && this.tokens.get(refreshToken)?.kind === 'refresh') this.tokens.revoke(refreshToken)
    this.stats.revocations++ // counted even for an unknown token: the server said "revoked"
    sendJson(res, 200, {status: 'revoked'})
  }

  private organizations({req, res}: Context): void {
    if (this.authorized(req, res)) sendJson(res, 200, {organizations: this.knobs.organizations})
  }

  private record(method: string, url: URL, req: IncomingMessage, body: string): void {
    this.requests.push({
      at: Date.now(),
      body,
      headers: {...req.headers},
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
    })
  }

  private refreshGrant(res: ServerResponse, form: URLSearchParams): void {
    this.stats.refreshGrants++
    const token = form.get('refresh_token')
    const clientId = form.get('client_id')
    if (!token || !clientId) {
      oauthError(res, 400, 'invalid_request', 'refresh_token and client_id are required')
      return
    }

    if (clientId !== this.clientId) {
      oauthError(res, 401, 'invalid_client', `unknown client_id "${clientId}"`)
      return
    }

    const record = this.tokens.get(token)
    if (record?.kind !== 'refresh' || !record.family || record.revoked) {
      oauthError(res, 400, 'invalid_grant', 'refresh token is unknown or revoked')
      return
    }

    if (record.used) {
      // a rotated-out token came back: someone has a copy, end the whole session
      this.tokens.revokeFamily(record.family)
      this.stats.refreshReuseDetected++
      oauthError(res, 400, 'invalid_grant', 'refresh token reuse detected; the session was revoked')
      return
    }

    if (this.knobs.issueRefreshToken) record.used = true // rotation; without a new token the old one stays usable
    this.sendTokens(res, record.family)
  }

  private revoke({body, req, res}: Context): void {
    if (!isForm(req)) {
      oauthError(res, 400, 'invalid_request', 'send application/x-www-form-urlencoded')
      return
    }

    const token = new URLSearchParams(body).get('token')
    if (!token) {
      oauthError(res, 400, 'invalid_request', 'token is required')
      return
    }

    this.tokens.revoke(token) // RFC 7009: unknown tokens are not an error
    this.stats.revocations++
    sendJson(res, 200, {})
  }

  private sendTokens(res: ServerResponse, family: string): void {
    const ttl = this.knobs.accessTokenTtl
    const body: Record<string, number | string> = {access_token: this.tokens.addAccess(family, ttl), expires_in: ttl, token_type: 'Bearer'}
    if (this.knobs.issueRefreshToken) body.refresh_token = this.tokens.addRefresh(family)
    body.scope = this.tokens.scopeOf(family)
    sendJson(res, 200, body, {'cache-control': 'no-store', pragma: 'no-cache'})
  }

  private signOutPage({res}: Context): void {
    sendHtml(res, 200, page('Signed out', '<p>You are signed out of Pipecat Cloud (emulator).</p>'))
  }

  private startTokenFlow({res, url}: Context): void {
    const id = randomUUID()
    const flow: TokenFlow = {state: 'pending', waiters: new Set(), waitSecret: randomBytes(24).toString('base64url')}
    if (url.searchParams.get('use_code') === 'true') flow.code = userCode()
    this.flows.set(id, flow)
    sendJson(res, 200, {
      token_flow_id: id,
      wait_secret: flow.waitSecret,
      web_url: `${this.url}/login/${id}`,
      ...(flow.code && {code: flow.code}),
    })
  }

  /** The failure configured for this request, if any; counts down `times`. */
  private takeFailure(method: string, path: string, template?: string): Failure | undefined {
    const keys = [`${method} ${path}`, ...(template ? [`${method} ${template}`] : []), path, ...(template ? [template] : [])]
    for (const key of keys) {
      const failure = this.knobs.failures[key]
      if (!failure || (failure.times !== undefined && failure.times <= 0)) continue
      if (failure.times !== undefined) failure.times--
      return failure
    }

    return undefined
  }

  private token({body, req, res}: Context): void {
    if (!isForm(req)) {
      oauthError(res, 400, 'invalid_request', 'send application/x-www-form-urlencoded')
      return
    }

    const form = new URLSearchParams(body)
    const grantType = form.get('grant_type')
    if (grantType === 'authorization_code') this.exchangeCode(res, form)
    else if (grantType === 'refresh_token') this.refreshGrant(res, form)
    else if (grantType) oauthError(res, 400, 'unsupported_grant_type', `grant_type "${grantType}" is not supported`)
    else oauthError(res, 400, 'invalid_request', 'grant_type is required')
  }

  private tokenFlowDecision({body, params, res}: Context): void {
    const flow = this.flows.get(params[0])
    const decision = new URLSearchParams(body).get('decision')
    if (!flow) sendHtml(res, 404, page('Sign-in request not found', '<p>This sign-in link is unknown or has expired.</p>'))
    else if (flow.state !== 'pending') sendHtml(res, 409, page('Already answered', '<p>This sign-in request was already answered.</p>'))
    else if (decision !== 'approve' && decision !== 'deny') sendHtml(res, 400, page('Bad request', '<p>decision must be approve or deny.</p>'))
    else {
      this.decideFlow(flow, decision === 'approve' ? 'approved' : 'denied')
      const text = decision === 'approve' ? 'You are signed in. Return to your terminal.' : 'Sign-in denied. You can close this window.'
      sendHtml(res, 200, page(decision === 'approve' ? 'Signed in' : 'Sign-in denied', `<p>${text}</p>`))
    }
  }

  private tokenFlowPage({params, res}: Context): void {
    const [id] = params
    const flow = this.flows.get(id)
    if (flow) {
      sendHtml(res, 200, tokenFlowPage(id, flow))
    } else {
      sendHtml(res, 404, page('Sign-in request not found', '<p>This sign-in link is unknown or has expired.</p>'))
    }
  }

  private async tokenFlowStatus({res, url}: Context): Promise<void> {
    const id = url.searchParams.get('token_flow_id')
    const secret = url.searchParams.get('wait_secret')
    if (!id || !secret) {
      sendError(res, 400, 'token_flow_id and wait_secret are required')
      return
    }

    const flow = this.flows.get(id)
    if (!flow || flow.state === 'consumed') {
      sendError(res, 404, 'Unknown token flow')
      return
    }

    if (!isSameSecret(secret, flow.waitSecret)) {
      sendError(res, 403, 'Forbidden')
      return
    }

    if (flow.state === 'pending' && this.knobs.autoApprove) this.decideFlow(flow, 'approved')
    if (flow.state === 'pending' && this.knobs.longPollMs > 0) await this.waitForDecision(flow, this.knobs.longPollMs)
    if (this.closing.signal.aborted) return
    this.answerFlowStatus(res, flow)
  }

  private users({req, res}: Context): void {
    if (!this.authorized(req, res)) return
    const {emails, userId} = this.knobs.user
    const user = emails.length > 0 ? {emails: emails.map(emailAddress => ({emailAddress})), userId} : {userId}
    sendJson(res, 200, {user})
  }

  /** Resolves after `ms`, or earlier when the flow is decided or the emulator closes. */
  private async waitForDecision(flow: TokenFlow, ms: number): Promise<void> {
    return new Promise(resolve => {
      const done = () => {
        clearTimeout(timer)
        flow.waiters.delete(done)
        this.closing.signal.removeEventListener('abort', done)
        resolve()
      }

      const timer = setTimeout(done, ms)
      flow.waiters.add(done)
      this.closing.signal.addEventListener('abort', done, {once: true})
    })
  }
}

// ---------------------------------------------------------------- helpers

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** Deterministic per organization so tests can predict it. */
export function dailyApiKey(org: string): string {
  return 'emu-daily-' + createHash('sha256').update(`daily:${org}`).digest('hex').slice(0, 24)
}

function userCode(): string {
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ'
  const pick = (alphabet: string) => alphabet[randomBytes(1)[0] % alphabet.length]
  const part = (alphabet: string) => Array.from({length: 4}, () => pick(alphabet)).join('')
  return `${part(letters)}-${part('0123456789')}`
}

function isSameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError()
    chunks.push(chunk)
  }

  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders): void {
  res.writeHead(status, {'content-length': Buffer.byteLength(body), ...headers})
  res.end(body)
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, JSON.stringify(body), {'content-type': 'application/json', ...headers})
}

function sendError(res: ServerResponse, status: number, error: string): void {
  sendJson(res, status, {code: String(status), error})
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, {error, error_description: description}, {'cache-control': 'no-store'})
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  send(res, status, html, {'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8'})
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, {'cache-control': 'no-store', 'content-length': 0, location})
  res.end()
}

function injectFailure(res: ServerResponse, failure: Failure): void {
  const kind = failure.kind ?? 'status'
  const headers: OutgoingHttpHeaders = failure.retryAfter === undefined ? {} : {'retry-after': String(failure.retryAfter)}
  const status = failure.status ?? (kind === 'status' ? 500 : 200)
  switch (kind) {
  case 'bad-json': {
    send(res, status, '{not json', {...headers, 'content-type': 'application/json'})
    break
  }

  case 'hang': {
    break // never answer; close() destroys the socket
  }

  case 'html': {
    sendHtml(res, status, cloudflarePage(status))
    break
  }

  case 'reset':
  case 'truncated': {
    const body = Buffer.from(JSON.stringify({detail: 'x'.repeat(200), error: 'this body is cut short'}))
    res.writeHead(status, {...headers, 'content-length': body.length, 'content-type': 'application/json'})
    // truncated: half the promised bytes then a clean end; reset: fewer bytes then a TCP reset
    const cut = kind === 'truncated' ? body.length / 2 : body.length / 4
    res.write(body.subarray(0, Math.floor(cut)), () => {
      if (kind === 'truncated') {
        res.socket?.end()
        return
      }

      // resetting right here still ends with a FIN; a moment later the kernel sends a real RST (ECONNRESET)
      setTimeout(() => {
        res.socket?.resetAndDestroy()
      }, 10)
    })
    break
  }

  case 'status': {
    sendJson(res, status, {code: String(status), error: `Injected failure (${status})`}, headers)
    break
  }

  case 'wrong-shape': {
    sendJson(res, status, {unexpected: true}, headers)
    break
  }
  }
}

// ---------------------------------------------------------------- pages

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#111}
button{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem;cursor:pointer}
code,.code{font-family:ui-monospace,monospace}.code{font-size:2rem;letter-spacing:.2rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${content}
</body></html>
`
}

function decisionButtons(): string {
  return `<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>`
}

function signInPage(request: AuthorizeRequest, query: URLSearchParams, account: string): string {
  const hidden = AUTHORIZE_FIELDS.filter(name => query.has(name))
  .map(name => `<input type="hidden" name="${name}" value="${escapeHtml(query.get(name) ?? '')}">`)
  .join('\n')
  return page(
    'Sign in to Pipecat Cloud (emulator)',
    `<p>The application <code>${escapeHtml(request.clientId)}</code> asks to sign in as <b>${escapeHtml(account)}</b>.</p>
<p>Scopes: <code>${escapeHtml(request.scope)}</code></p>
<form method="post" action="/oauth/authorize">
${hidden}
${decisionButtons()}
</form>`,
  )
}

function authorizeErrorPage(reason: string): string {
  return page('Invalid sign-in request', `<p>The sign-in request was rejected: ${escapeHtml(reason)}.</p>`)
}

function tokenFlowPage(id: string, flow: TokenFlow): string {
  const code = flow.code ? `<p>Check that your terminal shows this code:</p><p class="code">${escapeHtml(flow.code)}</p>` : ''
  const form =
    flow.state === 'pending'
      ? `<form method="post" action="/login/${encodeURIComponent(id)}">\n${decisionButtons()}\n</form>`
      : '<p>This sign-in request was already answered.</p>'
  return page('Sign in to Pipecat Cloud (emulator)', `<p>Approve the sign-in from the Pipecat CLI.</p>\n${code}\n${form}`)
}

function cloudflarePage(status: number): string {
  return `<!DOCTYPE html>
<html><head><title>Attention Required! | Cloudflare</title></head>
<body><div id="cf-wrapper"><h1>Sorry, you have been blocked</h1>
<p>Error ${status}. This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: <strong>${randomBytes(8).toString('hex')}</strong> &bull; Performance &amp; security by Cloudflare</p>
</div></body></html>
`
}
