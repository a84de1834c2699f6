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
  private refreshing?: Promise<string>

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
      if (!(error instanceof HttpStatusError && error.status === 401)) throw error
      if (!this.canRefresh()) throw this.rejected()
      return request(await this.refresh(token))
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
   * process already rotated the tokens, use its result instead of spending the
   * (now used) refresh token again.
   */
  private async refresh(staleToken: string): Promise<string> {
    this.refreshing ??= this.store
    .update(async ({data}) => {
      const stored = typeof data.token === 'string' ? data.token : undefined
      const storedExpiry = typeof data.token_expires_at === 'number' ? data.token_expires_at : 0
      if (stored && stored !== staleToken && storedExpiry - REFRESH_MARGIN > Date.now() / 1000) return {result: stored}
      const refreshToken = typeof data.refresh_token === 'string' ? data.refresh_token : ''
      if (!refreshToken) throw this.rejected()
      const tokens = await refreshTokens(this.api.http, await this.provider(), refreshToken)
      return {
        data: {
          ...data, refresh_token: tokens.refreshToken ?? '', token: tokens.accessToken, token_expires_at: tokens.expiresAt,
        },
        result: tokens.accessToken,
      }
    })
    .then(token => {
      this.credentials.token = token
      return token
    })
    return this.refreshing
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
