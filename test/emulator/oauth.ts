// OAuth 2.0 with PKCE, in the order a login walks through it: the CLI asks
// /auth/config and the discovery document, the browser opens the authorize
// page and approves or denies, the callback carries a code, the CLI exchanges
// it at the token endpoint, and later trades its refresh token for new tokens.
import type {ServerResponse} from 'node:http'

import {createHash, randomBytes} from 'node:crypto'

import type {State} from './server.js'

import {
  type Context,
  isForm,
  oauthError,
  redirect,
  sendError,
  sendHtml,
  sendJson,
} from './http.js'
import {authorizeErrorPage, signInPage} from './pages.js'

export const CLIENT_ID = 'pipecat-cli'
export const SCOPES = 'openid profile email offline_access'
const CODE_TTL_MS = 5 * 60_000
const REDIRECT_URI = /^http:\/\/127\.0\.0\.1:840[0-4]\/oauth_callback$/v
const PKCE_VALUE = /^[\w.~\-]{43,128}$/v

export type AuthorizeRequest = {
  clientId: string;
  codeChallenge: string;
  redirectUri: string;
  scope: string;
  state: string;
}

export type AuthCode = AuthorizeRequest & {
  expiresAt: number;
  /** family issued for this code, revoked if the code is replayed */
  family?: string;
  used: boolean;
}

// ---------------------------------------------------------------- finding the issuer

/** GET /auth/config: where the CLI learns the issuer and its client_id; an earlier-generation server has no such route. */
export function authConfig(state: State, {res}: Context): void {
  if (state.knobs.legacyOnly) sendError(res, 404, 'Not found')
  else sendJson(res, 200, {client_id: CLIENT_ID, issuer: state.issuer, scopes: SCOPES})
}

/** GET /oauth/.well-known/openid-configuration, with the `discovery` knob merged over it. */
export function discovery(state: State, {res}: Context): void {
  const {issuer} = state
  sendJson(res, 200, {
    authorization_endpoint: `${issuer}/authorize`,
    code_challenge_methods_supported: ['S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    issuer,
    response_types_supported: ['code'],
    revocation_endpoint: `${issuer}/revoke`,
    scopes_supported: SCOPES.split(' '),
    token_endpoint: `${issuer}/token`,
    token_endpoint_auth_methods_supported: ['none'],
    ...state.knobs.discovery,
  })
}

// ---------------------------------------------------------------- the browser: authorize

/** GET /oauth/authorize: the sign-in page, or straight back to the CLI with a code under `autoApprove`. */
export function authorizePage(state: State, {res, url}: Context): void {
  const request = checkAuthorizeRequest(url.searchParams)
  if (typeof request === 'string') sendHtml(res, 400, authorizeErrorPage(request))
  else if (state.knobs.autoApprove) redirect(res, approve(state, request))
  else sendHtml(res, 200, signInPage(request, url.searchParams, state.knobs.user.emails[0] ?? state.knobs.user.userId))
}

/** The validated request, or why it is invalid. Invalid requests are never redirected (the redirect_uri may be hostile). */
function checkAuthorizeRequest(params: URLSearchParams): AuthorizeRequest | string {
  const get = (name: string) => params.get(name) ?? ''
  if (get('response_type') !== 'code') return `response_type must be "code" (got "${get('response_type')}")`
  if (get('client_id') !== CLIENT_ID) return `unknown client_id "${get('client_id')}"`
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

/** POST /oauth/authorize: the Approve or Deny button; the sign-in page re-sends the whole request as hidden fields. */
export function authorizeDecision(state: State, {body, res}: Context): void {
  const form = new URLSearchParams(body)
  const request = checkAuthorizeRequest(form)
  if (typeof request === 'string') {
    sendHtml(res, 400, authorizeErrorPage(request))
    return
  }

  const decision = form.get('decision')
  if (decision === 'approve') redirect(res, approve(state, request))
  else if (decision === 'deny') redirect(res, callbackUrl(state, request, {error: 'access_denied', error_description: 'The user denied the request'}))
  else sendHtml(res, 400, authorizeErrorPage('decision must be approve or deny'))
}

/** Records a fresh authorization code and returns the redirect that carries it. */
function approve(state: State, request: AuthorizeRequest): string {
  const code = 'emu_code_' + randomBytes(24).toString('base64url')
  state.codes.set(code, {...request, expiresAt: Date.now() + CODE_TTL_MS, used: false})
  return callbackUrl(state, request, {code})
}

/** The CLI's loopback callback with `params`, the request's state and (unless the `callbackIss` knob says otherwise) iss. */
function callbackUrl(state: State, request: AuthorizeRequest, params: Record<string, string>): string {
  const url = new URL(request.redirectUri)
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  url.searchParams.set('state', request.state)
  const iss = state.knobs.callbackIss
  if (iss !== null) url.searchParams.set('iss', iss ?? state.issuer)
  return url.href
}

// ---------------------------------------------------------------- the CLI: token endpoint

/** POST /oauth/token: a code exchange or a refresh grant. */
export function tokenEndpoint(state: State, {body, req, res}: Context): void {
  if (!isForm(req)) {
    oauthError(res, 400, 'invalid_request', 'send application/x-www-form-urlencoded')
    return
  }

  const form = new URLSearchParams(body)
  const grantType = form.get('grant_type')
  if (grantType === 'authorization_code') exchangeCode(state, res, form)
  else if (grantType === 'refresh_token') refreshGrant(state, res, form)
  else if (grantType) oauthError(res, 400, 'unsupported_grant_type', `grant_type "${grantType}" is not supported`)
  else oauthError(res, 400, 'invalid_request', 'grant_type is required')
}

function exchangeCode(state: State, res: ServerResponse, form: URLSearchParams): void {
  state.stats.codeExchanges++
  const [code, verifier, redirectUri, clientId] = ['code', 'code_verifier', 'redirect_uri', 'client_id'].map(name => form.get(name))
  if (!code || !verifier || !redirectUri || !clientId) {
    oauthError(res, 400, 'invalid_request', 'code, code_verifier, redirect_uri and client_id are required')
    return
  }

  if (clientId !== CLIENT_ID) {
    oauthError(res, 401, 'invalid_client', `unknown client_id "${clientId}"`)
    return
  }

  const grant = state.codes.get(code)
  // RFC 6749 4.1.2: a replayed code revokes the tokens it already issued
  if (grant?.used && grant.family) state.tokens.revokeFamily(grant.family)
  const problem = grant ? codeProblem(grant, clientId, redirectUri, verifier) : 'unknown authorization code'
  if (problem !== undefined || !grant) {
    oauthError(res, 400, 'invalid_grant', problem ?? 'unknown authorization code')
    return
  }

  grant.used = true
  grant.family = state.tokens.newFamily(grant.scope)
  sendTokens(state, res, grant.family)
}

function codeProblem(grant: AuthCode, clientId: string, redirectUri: string, verifier: string): string | undefined {
  if (grant.used) return 'authorization code already used'
  if (Date.now() > grant.expiresAt) return 'authorization code expired'
  if (grant.clientId !== clientId) return 'authorization code was issued to another client'
  if (grant.redirectUri !== redirectUri) return 'redirect_uri does not match the authorization request'
  if (!PKCE_VALUE.test(verifier)) return 'code_verifier is malformed'
  if (pkceChallenge(verifier) !== grant.codeChallenge) return 'PKCE verification failed'
  return undefined
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** Each refresh token works once (rotation); a used one coming back means a copy exists, so the whole login is revoked. */
function refreshGrant(state: State, res: ServerResponse, form: URLSearchParams): void {
  state.stats.refreshGrants++
  const refreshToken = form.get('refresh_token')
  const clientId = form.get('client_id')
  if (!refreshToken || !clientId) {
    oauthError(res, 400, 'invalid_request', 'refresh_token and client_id are required')
    return
  }

  if (clientId !== CLIENT_ID) {
    oauthError(res, 401, 'invalid_client', `unknown client_id "${clientId}"`)
    return
  }

  const record = state.tokens.get(refreshToken)
  if (record?.kind !== 'refresh' || !record.family || record.revoked) {
    oauthError(res, 400, 'invalid_grant', 'refresh token is unknown or revoked')
    return
  }

  if (record.used) {
    state.tokens.revokeFamily(record.family)
    state.stats.refreshReuseDetected++
    oauthError(res, 400, 'invalid_grant', 'refresh token reuse detected; the session was revoked')
    return
  }

  if (state.knobs.issueRefreshToken) record.used = true // without a new refresh token the old one stays usable
  sendTokens(state, res, record.family)
}

/** The token response both grants end with; `issueRefreshToken: false` leaves the refresh token out. */
function sendTokens(state: State, res: ServerResponse, family: string): void {
  const ttl = state.knobs.accessTokenTtl
  const body: Record<string, number | string> = {
    access_token: state.tokens.addAccess(family, ttl, state.knobs.tokenPadding), expires_in: ttl, token_type: 'Bearer',
  }
  if (state.knobs.issueRefreshToken) body.refresh_token = state.tokens.addRefresh(family)
  body.scope = state.tokens.scopeOf(family)
  sendJson(res, 200, body, {'cache-control': 'no-store', pragma: 'no-cache'})
}
