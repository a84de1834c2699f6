/**
 * The signed-in session: which token to use and where it came from, and the one
 * place tokens are refreshed. Every authenticated request goes through `call`.
 */
import type {ConfigSnapshot, ConfigStore} from '../config/file.js'

import {HttpStatusError} from '../api/http.js'
import {type PipecatApi} from '../api/pipecat.js'
import {type Settings, settingText} from '../config/settings.js'
import {ConfigFileError, LoginError, NotLoggedInError} from '../errors.js'
import {discover, type Provider, refreshTokens} from './oauth.js'

export type AuthMethod = 'oauth' | 'personal-access-token' | 'token'

export type Credentials = {
  /** Unix seconds; undefined when the token does not expire. */
  expiresAt?: number;
  method: AuthMethod;
  refreshToken?: string;
  source: 'environment' | 'file';
  token: string;
}

/** Refresh a token this close to its expiry (seconds). */
const REFRESH_MARGIN = 60

export const PAT_PREFIX = 'pcc_pat_'

export function authMethod(token: string, refreshToken?: string, expiresAt?: number): AuthMethod {
  if (token.startsWith(PAT_PREFIX)) return 'personal-access-token'
  return Boolean(refreshToken) || (expiresAt ?? 0) > 0 ? 'oauth' : 'token'
}

/** The credentials in effect: PIPECAT_TOKEN wins over the file. Undefined when there are none. */
export function currentCredentials(settings: Settings, snapshot: ConfigSnapshot): Credentials | undefined {
  const token = settingText(settings, 'token')
  if (!token) return undefined
  if (settings.token.source === 'environment') return {method: authMethod(token), source: 'environment', token}
  if (snapshot.tokenUnusable) throw new ConfigFileError(snapshot.tokenUnusable, {suggestion: 'The stored token was not used.'})
  const refreshToken = settingText(settings, 'refresh_token') || undefined
  const expires = Number(settings.token_expires_at.value ?? 0)
  const expiresAt = Number.isFinite(expires) && expires > 0 ? expires : undefined
  return {
    expiresAt, method: authMethod(token, refreshToken, expiresAt), refreshToken, source: 'file', token,
  }
}

export class Session {
  /** Refreshes in flight, by the token they replace: concurrent callers share one grant. */
  private readonly refreshes = new Map<string, Promise<string>>()

  constructor(
    readonly api: PipecatApi,
    readonly credentials: Credentials,
    private readonly store: ConfigStore,
  ) {}

  /** Runs an authenticated call with a fresh token; after a 401 it refreshes once and retries. */
  async call<T>(request: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token()
    try {
      return await request(token)
    } catch (error) {
      if (!isUnauthorized(error)) throw error
      if (!this.canRefresh()) throw this.rejected()
    }

    const renewed = await this.refresh(token)
    try {
      return await request(renewed)
    } catch (error) {
      throw isUnauthorized(error) ? this.rejected() : error
    }
  }

  /** The access token to use now, refreshed first when it expires within a minute. */
  async token(): Promise<string> {
    const {expiresAt, token} = this.credentials
    if (expiresAt !== undefined && expiresAt - REFRESH_MARGIN <= Date.now() / 1000 && this.canRefresh()) return this.refresh(token)
    return token
  }

  private canRefresh(): boolean {
    return this.credentials.source === 'file' && this.credentials.method === 'oauth' && Boolean(this.credentials.refreshToken)
  }

  private async provider(): Promise<Provider> {
    const config = await this.api.authConfig()
    if (!config) throw new NotLoggedInError('Your session has expired and this service cannot renew it.')
    try {
      return await discover(this.api.http, config)
    } catch (error) {
      if (error instanceof LoginError) throw new NotLoggedInError(error.message)
      throw error
    }
  }

  /**
   * One refresh grant for all concurrent callers, in this process and across
   * processes: under the config lock, re-reading the file first. If another
   * process already replaced the token, use its result instead of spending the
   * (now used) refresh token again. A failed refresh writes nothing.
   */
  private async refresh(staleToken: string): Promise<string> {
    // Another call in this process already replaced it: use that token.
    if (this.credentials.token !== staleToken) return this.credentials.token
    let pending = this.refreshes.get(staleToken)
    if (!pending) {
      pending = this.store
      .update<Pick<Credentials, 'expiresAt' | 'refreshToken' | 'token'>>(async ({data}) => {
        const stored = storedCredentials(data)
        if (stored?.token && stored.token !== staleToken && !isExpiringSoon(stored.expiresAt)) return {result: stored}
        if (!stored?.refreshToken) throw this.rejected()
        const tokens = await refreshTokens(this.api.http, await this.provider(), stored.refreshToken)
        const renewed = {expiresAt: tokens.expiresAt, refreshToken: tokens.refreshToken ?? stored.refreshToken, token: tokens.accessToken}
        return {
          data: {
            ...data, refresh_token: renewed.refreshToken, token: renewed.token, token_expires_at: renewed.expiresAt,
          },
          result: renewed,
        }
      })
      .then(renewed => {
        Object.assign(this.credentials, {
          expiresAt: renewed.expiresAt,
          method: authMethod(renewed.token, renewed.refreshToken, renewed.expiresAt),
          refreshToken: renewed.refreshToken,
          token: renewed.token,
        })
        return renewed.token
      })
      this.refreshes.set(staleToken, pending)
    }

    return pending
  }

  private rejected(): NotLoggedInError {
    if (this.credentials.source === 'environment') {
      return new NotLoggedInError('The token in PIPECAT_TOKEN was rejected by Pipecat Cloud.', {
        suggestion: command => `Set PIPECAT_TOKEN to a valid token, or unset it and run \`${command('cloud auth login')}\`.`,
      })
    }

    return new NotLoggedInError('Your session has expired or was revoked.')
  }
}

function isUnauthorized(error: unknown): boolean {
  return error instanceof HttpStatusError && error.status === 401
}

/** Whether a token with this expiry (Unix seconds; undefined: none) should be refreshed before use. */
export function isExpiringSoon(expiresAt: number | undefined): boolean {
  return expiresAt !== undefined && expiresAt - REFRESH_MARGIN <= Date.now() / 1000
}

/**
 * The credentials the file itself holds (not PIPECAT_TOKEN's), read from the
 * document as it is now; undefined when it holds neither a token nor a refresh token.
 */
export function storedCredentials(data: ConfigSnapshot['data']): Credentials | undefined {
  const token = typeof data.token === 'string' ? data.token : ''
  const refreshToken = typeof data.refresh_token === 'string' && data.refresh_token !== '' ? data.refresh_token : undefined
  if (!token && !refreshToken) return undefined
  const expires = typeof data.token_expires_at === 'number' ? data.token_expires_at : 0
  const expiresAt = Number.isFinite(expires) && expires > 0 ? expires : undefined
  return {
    expiresAt, method: authMethod(token, refreshToken, expiresAt), refreshToken, source: 'file', token,
  }
}
