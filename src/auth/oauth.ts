/**
 * OAuth 2.0 Authorization Code + PKCE against the provider named by the
 * service's auth config: discovery (with its safety checks), the authorization
 * URL, the code exchange and the refresh grant.
 */
import {createHash, randomBytes} from 'node:crypto'

import type {AuthConfig} from '../api/pipecat.js'

import {checkedUrl, type HttpClient, HttpStatusError} from '../api/http.js'
import {LoginError, NotLoggedInError, ServiceError} from '../errors.js'

export type Provider = AuthConfig & {
  authorizationEndpoint: string;
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

export async function discover(http: HttpClient, config: AuthConfig, signal?: AbortSignal): Promise<Provider> {
  const issuer = checkedUrl(config.issuer, 'OAuth issuer').href.replace(/\/$/v, '')
  const {body} = await http.request<Record<string, unknown>>(`${issuer}/.well-known/openid-configuration`, {signal})
  const problem = discoveryProblem(body, config.issuer)
  if (problem) {
    throw new LoginError(`The sign-in provider's configuration is unsafe or incomplete: ${problem}.`, {
      suggestion: 'This is a problem on the service side (or something is intercepting your connection); sign-in was stopped. Try again later.',
    })
  }

  return {...config, authorizationEndpoint: body.authorization_endpoint as string, tokenEndpoint: body.token_endpoint as string}
}

function discoveryProblem(document: Record<string, unknown> | undefined, expectedIssuer: string): string | undefined {
  if (!document || typeof document !== 'object') return 'the discovery document is empty'
  if (document.issuer !== expectedIssuer) return `its issuer is ${JSON.stringify(document.issuer)}, expected ${JSON.stringify(expectedIssuer)}`
  for (const key of ['authorization_endpoint', 'token_endpoint']) {
    const value = document[key]
    if (typeof value !== 'string') return `${key} is missing`
    try {
      checkedUrl(value, key)
    } catch {
      return `${key} ${value} is not https`
    }
  }

  const methods = document.code_challenge_methods_supported
  if (methods !== undefined && !(Array.isArray(methods) && methods.includes('S256'))) return 'it does not support PKCE with S256'
  const types = document.response_types_supported
  if (types !== undefined && !(Array.isArray(types) && types.includes('code'))) return 'it does not support the authorization code flow'
  return undefined
}

/** RFC 7636 S256: BASE64URL(SHA256(verifier)), no padding. */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

export type AuthorizationRequest = {
  state: string;
  url: string;
  verifier: string;
}

export function authorizationRequest(provider: Provider, redirectUri: string): AuthorizationRequest {
  const verifier = randomBytes(32).toString('base64url')
  const state = randomBytes(24).toString('base64url')
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

export async function exchangeCode(
  http: HttpClient,
  provider: Provider,
  grant: {code: string; redirectUri: string; verifier: string},
  signal?: AbortSignal,
): Promise<TokenSet> {
  try {
    return await tokenRequest(http, provider, {
      client_id: provider.clientId,
      code: grant.code,
      code_verifier: grant.verifier,
      grant_type: 'authorization_code',
      redirect_uri: grant.redirectUri,
    }, signal)
  } catch (error) {
    if (error instanceof HttpStatusError && error.status < 500) {
      throw new LoginError(`The sign-in provider did not accept the authorization code (HTTP ${error.status}).`, {
        suggestion: 'Nothing was saved. Start the sign-in again.',
      })
    }

    throw error
  }
}

/** The refresh grant. A rejected refresh token means the session is over: NotLoggedInError. */
export async function refreshTokens(http: HttpClient, provider: Provider, refreshToken: string): Promise<TokenSet> {
  try {
    const tokens = await tokenRequest(http, provider, {client_id: provider.clientId, grant_type: 'refresh_token', refresh_token: refreshToken})
    return {...tokens, refreshToken: tokens.refreshToken ?? refreshToken}
  } catch (error) {
    if (error instanceof HttpStatusError && error.status >= 400 && error.status < 500) {
      throw new NotLoggedInError('Your session has expired and could not be renewed.')
    }

    throw error
  }
}

async function tokenRequest(http: HttpClient, provider: Provider, form: Record<string, string>, signal?: AbortSignal): Promise<TokenSet> {
  // Codes and rotated refresh tokens are single-use: never send the same grant twice.
  const {body} = await http.request<Record<string, unknown>>(provider.tokenEndpoint, {
    form, method: 'POST', retries: 0, signal,
  })
  const {access_token: accessToken, expires_in: expiresIn, refresh_token: refreshToken} = body ?? {}
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new ServiceError(`${new URL(provider.tokenEndpoint).host} answered the token request without an access token.`, {
      suggestion: 'Try again later.',
    })
  }

  const lifetime = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : DEFAULT_EXPIRES_IN
  return {
    accessToken,
    expiresAt: (Date.now() / 1000) + lifetime,
    refreshToken: typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : undefined,
  }
}
