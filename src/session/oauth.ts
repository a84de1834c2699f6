/**
 * OAuth 2.0 Authorization Code + PKCE against the provider named by the
 * service's auth config: discovery (with its safety checks), the authorization
 * URL, the code exchange and the refresh grant. docs/protocol.md says why
 * each check exists.
 */

import type {AuthConfig} from '../api/pipecat.js'

import {
  checkedUrl,
  type HttpClient,
  HttpStatusError,
  serviceDetail,
} from '../api/http.js'
import {nodeCrypto} from '../builtins.js'
import {LoginError, NotLoggedInError, ServiceError} from '../errors.js'
import {isSameSecret} from '../secret.js'
import {printable} from '../text.js'

export type Provider = AuthConfig & {
  authorizationEndpoint: string;
  /** The provider says every answer to the redirect URI carries `iss` (RFC 9207), so one without it is refused. */
  sendsIss?: boolean;
  tokenEndpoint: string;
}

export type TokenSet = {
  accessToken: string;
  /** Unix seconds. */
  expiresAt: number;
  refreshToken?: string;
}

/** The access token lifetime to assume when the provider does not say (seconds). */
const DEFAULT_EXPIRES_IN = 86_400
/** The longest access token lifetime believed (seconds). */
const MAX_EXPIRES_IN = 366 * 86_400

export async function discover(http: HttpClient, config: AuthConfig): Promise<Provider> {
  const issuer = checkedUrl(config.issuer, 'OAuth issuer').href.replace(/\/$/v, '')
  const {body} = await http.request<Record<string, unknown>>(`${issuer}/.well-known/openid-configuration`)
  const problem = discoveryProblem(body, config.issuer)
  if (problem) {
    throw new LoginError(`The sign-in provider's configuration is unsafe or incomplete: ${problem}.`, {
      suggestion: 'Try again later: this is a problem on the service side, or something is intercepting your connection.',
    })
  }

  return {
    ...config,
    authorizationEndpoint: body.authorization_endpoint as string,
    sendsIss: body.authorization_response_iss_parameter_supported === true,
    tokenEndpoint: body.token_endpoint as string,
  }
}

function discoveryProblem(document: Record<string, unknown> | undefined, expectedIssuer: string): string | undefined {
  if (!document || typeof document !== 'object') return 'the discovery document is empty'
  if (document.issuer !== expectedIssuer) {
    return `its issuer is ${JSON.stringify(document.issuer)}, expected ${JSON.stringify(expectedIssuer)}`
  }

  for (const key of ['authorization_endpoint', 'token_endpoint']) {
    const value = document[key]
    if (typeof value !== 'string') return `${key} is missing`
    try {
      checkedUrl(value, key)
    } catch {
      return `${key} ${value} is not https`
    }
  }

  // RFC 8414: an absent list means the provider supports no PKCE at all.
  const methods = document.code_challenge_methods_supported
  if (methods === undefined) return 'it does not say it supports PKCE with S256 (code_challenge_methods_supported is missing)'
  if (!(Array.isArray(methods) && methods.includes('S256'))) return 'it does not support PKCE with S256'
  const types = document.response_types_supported
  if (types !== undefined && !(Array.isArray(types) && types.includes('code'))) return 'it does not support the authorization code flow'
  return undefined
}

/** RFC 7636 S256: BASE64URL(SHA256(verifier)), no padding. */
export function codeChallenge(verifier: string): string {
  return nodeCrypto().createHash('sha256').update(verifier).digest('base64url')
}

export type AuthorizationRequest = {
  state: string;
  url: string;
  verifier: string;
}

export function authorizationRequest(provider: Provider, redirectUri: string): AuthorizationRequest {
  const verifier = nodeCrypto().randomBytes(32).toString('base64url')
  const state = nodeCrypto().randomBytes(24).toString('base64url')
  const url = new URL(provider.authorizationEndpoint)
  const params = {
    client_id: provider.clientId,
    code_challenge: codeChallenge(verifier),
    code_challenge_method: 'S256',
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: provider.scopes,
    state,
  }
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  return {state, url: url.href, verifier}
}

/** What came back to the redirect URI: from the loopback callback, or pasted by the user. */
export type AuthorizationResponse = {
  code?: string;
  error?: string;
  errorDescription?: string;
  iss?: string;
  state?: string;
}

export function authorizationResponse(params: URLSearchParams): AuthorizationResponse {
  const get = (name: string) => params.get(name) ?? undefined
  return {
    code: get('code'), error: get('error'), errorDescription: get('error_description'), iss: get('iss'), state: get('state'),
  }
}

const restartAdvice = 'Start the sign-in again.'

/**
 * The authorization code, once the answer is known to belong to this sign-in:
 * the state matches (CSRF), and `iss`, when present (and it must be when the
 * provider says it sends it), is our issuer (RFC 9207 mix-up defence).
 * Otherwise, and for an `error` answer, LoginError.
 */
export function authorizationCode(response: AuthorizationResponse, expected: {issuer: string; sendsIss?: boolean; state: string}): string {
  if (response.state === undefined || !isSameSecret(response.state, expected.state)) {
    throw new LoginError('The sign-in answer does not belong to this sign-in: its state does not match.', {
      suggestion: 'Start the sign-in again, and finish it in the browser tab it opens.',
    })
  }

  if (response.iss === undefined && expected.sendsIss) {
    throw new LoginError('The sign-in answer carries no issuer (iss), though the provider always sends one.', {
      suggestion: 'Start the sign-in again; if you paste the answer, paste the whole address the browser ended on.',
    })
  }

  if (response.iss !== undefined && response.iss !== expected.issuer) {
    throw new LoginError(`The sign-in answer came from another issuer (${printable(response.iss)}, expected ${expected.issuer}).`, {
      suggestion: 'Start the sign-in again; if this keeps happening, something is interfering with it.',
    })
  }

  if (response.error !== undefined) {
    if (response.error === 'access_denied') {
      throw new LoginError('The sign-in was denied in the browser.', {suggestion: 'Start the sign-in again and approve it.'})
    }

    const description = response.errorDescription ? `: ${printable(response.errorDescription)}` : ''
    throw new LoginError(`The sign-in provider reported an error (${printable(response.error)})${description}.`, {
      suggestion: restartAdvice,
    })
  }

  if (!response.code) throw new LoginError('The sign-in answer carries no authorization code.', {suggestion: restartAdvice})
  return response.code
}

export async function exchangeCode(
  http: HttpClient,
  provider: Provider,
  grant: {code: string; redirectUri: string; verifier: string},
): Promise<TokenSet> {
  try {
    return await tokenRequest(http, provider, {
      client_id: provider.clientId,
      code: grant.code,
      code_verifier: grant.verifier,
      grant_type: 'authorization_code',
      redirect_uri: grant.redirectUri,
    })
  } catch (error) {
    // 400/401 reject the code (RFC 6749 5.2); anything else (429, a proxy's 403 page) is the failure itself, naming the host.
    if (error instanceof HttpStatusError && (error.status === 400 || error.status === 401)) {
      // The provider's own words, minus anything secret it might echo.
      const detail = serviceDetail(error.body)?.replaceAll(grant.code, '****').replaceAll(grant.verifier, '****')
      const status = `${error.status}${detail ? `: ${detail}` : ''}`
      throw new LoginError(`The sign-in provider did not accept the authorization code (HTTP ${status}).`, {
        suggestion: restartAdvice,
      })
    }

    throw error
  }
}

/** The refresh grant, waiting `timeoutMs` for its answer. A rejected refresh token means the session is over: NotLoggedInError. */
export async function refreshTokens(http: HttpClient, provider: Provider, refreshToken: string, timeoutMs?: number): Promise<TokenSet> {
  try {
    const form = {client_id: provider.clientId, grant_type: 'refresh_token', refresh_token: refreshToken}
    const tokens = await tokenRequest(http, provider, form, timeoutMs)
    return {...tokens, refreshToken: tokens.refreshToken ?? refreshToken}
  } catch (error) {
    // 400/401 (invalid_grant, invalid_client) end the session; a 429 or a proxy's 403 page does not.
    if (error instanceof HttpStatusError && (error.status === 400 || error.status === 401)) {
      throw new NotLoggedInError('Your session has expired and could not be renewed.')
    }

    throw error
  }
}

/** One token request, sent once; `timeoutMs` overrides the client's time limit for it. */
async function tokenRequest(http: HttpClient, provider: Provider, form: Record<string, string>, timeoutMs?: number): Promise<TokenSet> {
  // Codes and rotated refresh tokens are single-use: never send the same grant twice.
  // The grant goes to the token endpoint discovery vouched for, and nowhere else.
  const {body} = await http.request<Record<string, unknown>>(provider.tokenEndpoint, {
    audience: new URL(provider.tokenEndpoint).origin, form, method: 'POST', retries: 0, timeoutMs,
  })
  const {access_token: accessToken, expires_in: expiresIn, refresh_token: refreshToken} = body ?? {}
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new ServiceError(`${new URL(provider.tokenEndpoint).host} answered the token request without an access token.`, {
      suggestion: 'Try again later.',
    })
  }

  // A lifetime past any date (1e300) would make an expiry no date can show; a year is more than any provider gives.
  const lifetime = typeof expiresIn === 'number' && expiresIn > 0 ? Math.min(expiresIn, MAX_EXPIRES_IN) : DEFAULT_EXPIRES_IN
  return {
    accessToken,
    expiresAt: (Date.now() / 1000) + lifetime,
    refreshToken: typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : undefined,
  }
}
