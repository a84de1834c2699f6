import {createHash} from 'node:crypto'

// The account API a signed-in CLI calls (user, organizations, Daily key),
// then the ways a session ends: Pipecat's logout, OAuth revocation, and the
// dashboard's sign-out page.
import type {State} from './server.js'

import {
  type Context,
  isForm,
  oauthError,
  parseJsonObject,
  sendError,
  sendHtml,
  sendJson,
} from './http.js'
import {page} from './pages.js'
import {authorized} from './tokens.js'

/** GET /v1/users; a user without emails is sent without the field. */
export function users(state: State, {req, res}: Context): void {
  if (!authorized(state, req, res)) return
  const {emails, userId} = state.knobs.user
  const user = emails.length > 0 ? {emails: emails.map(emailAddress => ({emailAddress})), userId} : {userId}
  sendJson(res, 200, {user})
}

/** GET /v1/organizations */
export function organizations(state: State, {req, res}: Context): void {
  if (authorized(state, req, res)) sendJson(res, 200, {organizations: state.knobs.organizations})
}

/** GET /v1/organizations/{org}/daily */
export function dailyKey(state: State, {params, req, res}: Context): void {
  if (!authorized(state, req, res)) return
  const [org = ''] = params
  if (state.knobs.organizations.some(o => o.name === org)) sendJson(res, 200, {apiKey: dailyApiKey(org)})
  else sendError(res, 404, 'Organization not found')
}

/** Deterministic per organization so tests can predict it. */
export function dailyApiKey(org: string): string {
  return 'emu-daily-' + createHash('sha256').update(`daily:${org}`).digest('hex').slice(0, 24)
}

// ---------------------------------------------------------------- ending a session

/** POST /auth/logout {refresh_token}: bearer-authenticated; revokes the refresh token's whole login. */
export function logout(state: State, {body, req, res}: Context): void {
  if (!authorized(state, req, res)) return
  const json = parseJsonObject(body)
  if (!json) {
    sendError(res, 400, 'Send a JSON object with refresh_token')
    return
  }

  const refreshToken = json.refresh_token
  if (typeof refreshToken === 'string' && state.tokens.get(refreshToken)?.kind === 'refresh') state.tokens.revoke(refreshToken)
  state.stats.revocations++ // counted even for an unknown token: the server said "revoked"
  sendJson(res, 200, {status: 'revoked'})
}

/** POST /oauth/revoke (RFC 7009): a refresh token takes its whole login with it. */
export function revoke(state: State, {body, req, res}: Context): void {
  if (!isForm(req)) {
    oauthError(res, 400, 'invalid_request', 'send application/x-www-form-urlencoded')
    return
  }

  const token = new URLSearchParams(body).get('token')
  if (!token) {
    oauthError(res, 400, 'invalid_request', 'token is required')
    return
  }

  state.tokens.revoke(token) // RFC 7009: unknown tokens are not an error
  state.stats.revocations++
  sendJson(res, 200, {})
}

/** GET /sign-out: the dashboard page logout points to when the service could not end the session. */
export function signOutPage(_state: State, {res}: Context): void {
  sendHtml(res, 200, page('Signed out', '<p>You are signed out of Pipecat Cloud (emulator).</p>'))
}
