import type {AuthMethod} from '../account.js'
/**
 * The signed-in session: which token to use and where it came from, and the one
 * place tokens are refreshed. Every authenticated request goes through `call`.
 */
import type {ConfigSnapshot, ConfigStore} from '../config/file.js'

import {HttpStatusError} from '../api/http.js'
import {type PipecatApi} from '../api/pipecat.js'
import {LEGACY_ISSUER_KEY, serviceId, withBinding} from '../config/binding.js'
import {
  type ConfigData,
  expiryFrom,
  type StoredCredentials,
  storedCredentials,
} from '../config/document.js'
import {type Settings, settingText} from '../config/settings.js'
import {
  ConfigFileError,
  LoginError,
  NetworkError,
  NotLoggedInError,
} from '../errors.js'
import {holdInterrupts} from '../interrupt.js'
import {
  discover,
  type Provider,
  refreshTokens,
  type TokenSet,
} from './oauth.js'

export type {AuthMethod} from '../account.js'

export type Credentials = StoredCredentials & {
  method: AuthMethod;
  source: 'environment' | 'file';
}

/** Refresh a token this close to its expiry (seconds). */
const REFRESH_MARGIN = 60
/** How long a refresh grant's answer is waited for once it is sent, at least (ms): Ctrl-C and PIPECAT_HTTP_TIMEOUT do not abandon it. */
const GRANT_ANSWER_MS = 30_000

export const PAT_PREFIX = 'pcc_pat_'

/**
 * How credentials were obtained: as recorded when the plugin obtained them,
 * else told by their shape (the official CLI records nothing).
 */
export function authMethod({expiresAt, method, refreshToken, token}: StoredCredentials): AuthMethod {
  if (method) return method
  if (token.startsWith(PAT_PREFIX)) return 'personal-access-token'
  return expiresAt !== undefined || Boolean(refreshToken) ? 'oauth' : 'token'
}

/** Credentials the file holds, with how they were obtained. */
export function fileCredentials(stored: StoredCredentials): Credentials {
  return {...stored, method: authMethod(stored), source: 'file'}
}

/** The credentials in effect: PIPECAT_TOKEN wins over the file. Undefined when there are none. */
export function currentCredentials(settings: Settings, snapshot: ConfigSnapshot): Credentials | undefined {
  const token = settingText(settings, 'token')
  if (!token) return undefined
  if (settings.token.source === 'environment') return {method: authMethod({token}), source: 'environment', token}
  if (snapshot.tokenUnusable) {
    throw new ConfigFileError(snapshot.tokenUnusable, {
      suggestion: 'Fix its permissions as the line above says, then try again (until then the stored token is not used).',
    })
  }

  return fileCredentials({
    expiresAt: expiryFrom(settings.token_expires_at.value),
    issuer: storedCredentials(snapshot.data)?.issuer,
    method: storedCredentials(snapshot.data)?.method,
    refreshToken: settingText(settings, 'refresh_token') || undefined,
    token,
  })
}

/**
 * Whether stored credentials may be sent to the configured API host: only to
 * the service that issued them (when that was recorded), or another service
 * could replay them at their issuer.
 */
export function isIssuedBy(credentials: StoredCredentials, settings: Settings): boolean {
  return credentials.issuer === undefined || serviceId(credentials.issuer) === serviceId(settingText(settings, 'api_host'))
}

/** Credentials the configured service did not issue: exit 4, naming both services and what to do. */
export function issuerMismatch(credentials: StoredCredentials, settings: Settings): NotLoggedInError {
  const configured = serviceId(settingText(settings, 'api_host'))
  const {source} = settings.api_host
  const where = source === 'environment' ? ' (PIPECAT_API_HOST)' : (source === 'default' ? '' : ' (in the config file)')
  return new NotLoggedInError(
    `The stored credentials were issued by ${credentials.issuer}, but the configured API host is ${configured}${where}; `
    + 'they are not sent to another service.',
    {
      suggestion: command =>
        `Run \`${command('cloud auth login')}\` to sign in to ${configured}, `
        + `or point PIPECAT_API_HOST at ${credentials.issuer} to use the stored credentials.`,
    },
  )
}

/**
 * Credentials from the file that are not bound to a host (the official CLI or
 * an earlier version wrote them) are bound to the configured one, the first
 * host that accepts them, as ssh records a host key on first use (a host that
 * cannot be reached, or refuses them, is not recorded: a mistyped host must
 * not lock the user out of their session). A binding
 * an earlier version kept at the top level is moved where the official CLI
 * accepts it. When the file cannot be written they are still used, as the
 * official CLI would use them; they stay unbound.
 */
export async function bindOnFirstUse(
  credentials: Credentials,
  settings: Settings,
  store: ConfigStore,
  snapshot: ConfigSnapshot,
): Promise<void> {
  if (credentials.source !== 'file') return
  if (credentials.issuer !== undefined && !Object.hasOwn(snapshot.data, LEGACY_ISSUER_KEY)) return
  const configured = serviceId(settingText(settings, 'api_host'))
  let issuer: string | undefined
  try {
    issuer = await store.update(({data}) => {
      const stored = storedCredentials(data)
      // Replaced meanwhile (another sign-in): those are not the credentials about to be used.
      if (stored?.token !== credentials.token) return {result: undefined}
      const bound = stored.issuer ?? configured
      return {data: withBinding(data, bound, credentials.method), result: bound}
    })
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error
  }

  credentials.issuer = issuer ?? credentials.issuer
  if (!isIssuedBy(credentials, settings)) throw issuerMismatch(credentials, settings)
}

/** Whether a token with this expiry (Unix seconds; undefined: none) should be refreshed before use. */
export function isExpiringSoon(expiresAt: number | undefined): boolean {
  return expiresAt !== undefined && expiresAt - REFRESH_MARGIN <= Date.now() / 1000
}

export class Session {
  /** Every token a refresh grant of this session returned (logout removes what it revoked, not a newer sign-in). */
  readonly issued = new Set<string>()
  /** Refreshes in flight, by the token they replace: concurrent callers share one grant. */
  private readonly refreshes = new Map<string, Promise<string>>()

  /** Binding the credentials once the service has accepted them (bindOnFirstUse), at most once. */
  private binding?: Promise<void>

  constructor(
    readonly api: PipecatApi,
    readonly credentials: Credentials,
    private readonly store: ConfigStore,
    private readonly bind?: () => Promise<void>,
  ) {}

  /** Runs an authenticated call with a fresh token; after a 401 it refreshes once and retries. */
  async call<T>(request: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token()
    try {
      return await this.accepted(await request(token))
    } catch (error) {
      if (!isUnauthorized(error)) throw error
      if (!this.canRefresh()) throw this.rejected()
    }

    const renewed = await this.refresh(token)
    try {
      return await this.accepted(await request(renewed))
    } catch (error) {
      throw isUnauthorized(error) ? this.rejected() : error
    }
  }

  /** After the service accepted the credentials: bound to it if they were not (once per command). */
  private async accepted<T>(result: T): Promise<T> {
    if (this.bind) {
      this.binding ??= this.bind()
      await this.binding
    }

    return result
  }

  /** The access token to use now, refreshed first when it expires within a minute. */
  async token(): Promise<string> {
    const {expiresAt, token} = this.credentials
    return isExpiringSoon(expiresAt) && this.canRefresh() ? this.refresh(token) : token
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
      pending = this.renew(staleToken).then(renewed => {
        Object.assign(this.credentials, fileCredentials(renewed))
        return renewed.token
      })
      this.refreshes.set(staleToken, pending)
    }

    return pending
  }

  /**
   * The grant spends the stored refresh token (the service rotates it), so
   * from the moment it is sent until its answer is saved nothing may cut in:
   * Ctrl-C waits (a second one does not), the answer has its own timeout, and
   * the file's room was made before. If the file changed meanwhile (a lock
   * broken while this process was stopped), the answer is saved over it only
   * if it still holds the session renewed; a newer sign-in there wins.
   */
  private async renew(staleToken: string): Promise<StoredCredentials> {
    let granted: undefined | {spent: string; tokens: TokenSet}
    let resume: (() => void) | undefined
    try {
      return await this.store.update<StoredCredentials>(async ({data}) => {
        const stored = storedCredentials(data)
        // Another sign-in meanwhile, with another service: its credentials are not sent here.
        const issuer = stored?.issuer ?? this.credentials.issuer
        if (
          stored?.issuer !== undefined
          && this.credentials.issuer !== undefined
          && serviceId(stored.issuer) !== serviceId(this.credentials.issuer)
        ) {
          throw new NotLoggedInError(
            `The stored credentials were replaced meanwhile by a sign-in to ${stored.issuer}; `
            + `they are not sent to ${this.credentials.issuer}.`,
          )
        }

        if (granted) {
          if (stored?.refreshToken === granted.spent) return renewedDocument(data, granted.tokens, issuer)
          if (!stored) throw new NotLoggedInError('You were logged out (by another command) while your session was being renewed.')
          return {result: {...stored, issuer}}
        }

        if (stored?.token && stored.token !== staleToken && !isExpiringSoon(stored.expiresAt)) return {result: {...stored, issuer}}
        if (!stored?.refreshToken) throw this.rejected()
        const provider = await this.provider()
        resume = holdInterrupts('Your renewed session may not have been saved; if the next command says it has expired, sign in again.')
        granted = {spent: stored.refreshToken, tokens: await this.grant(provider, stored.refreshToken)}
        for (const token of [granted.tokens.accessToken, granted.tokens.refreshToken]) if (token) this.issued.add(token)
        return renewedDocument(data, granted.tokens, issuer)
      })
    } catch (error) {
      if (granted && error instanceof ConfigFileError) throw this.unsaved(error)
      throw error
    } finally {
      resume?.()
    }
  }

  /** Sends the grant and waits for its answer, whatever Ctrl-C or PIPECAT_HTTP_TIMEOUT say (a bounded wait still). */
  private async grant(provider: Provider, refreshToken: string): Promise<TokenSet> {
    const {http} = this.api
    const timeoutMs = Math.max(GRANT_ANSWER_MS, http.timeoutMs)
    try {
      return await refreshTokens(http.unbound(), provider, refreshToken, timeoutMs)
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error
      // Sent but unanswered: the service may have renewed the session, and spent the stored refresh token.
      const lost = 'The session renewal got no answer; if the service renewed it anyway, the stored session no longer works.'
      throw new NetworkError(`${error.message} ${lost}`, {
        cause: error,
        suggestion: command => `Try again; if it says your session has expired, run \`${command('cloud auth login')}\`.`,
      })
    }
  }

  /** The session was renewed (the stored one is spent) but the renewal could not be saved: say it is gone, and why. */
  private unsaved(error: ConfigFileError): ConfigFileError {
    const reason = error.message.replace(/^Could not save the config file [^:]*: /v, '').replace(/\.$/v, '')
    const file = this.store.path
    const what = `Your session was renewed, but it could not be saved to ${file} (${reason}); the session stored there no longer works.`
    return new ConfigFileError(what, {
      cause: error,
      suggestion: command =>
        `Free some disk space or fix the file's folder, then run \`${command('cloud auth login')}\` to sign in again.`,
    })
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

/** The document with renewed tokens, bound to their issuer: the one place a refresh builds what it writes. */
export function renewedDocument(data: ConfigData, tokens: TokenSet, issuer?: string): {data: ConfigData; result: StoredCredentials} {
  const renewed = {
    expiresAt: tokens.expiresAt, issuer, refreshToken: tokens.refreshToken, token: tokens.accessToken,
  }
  const document = {
    ...data, refresh_token: renewed.refreshToken ?? data.refresh_token, token: renewed.token, token_expires_at: renewed.expiresAt,
  }
  return {data: withBinding(document, issuer), result: renewed}
}

function isUnauthorized(error: unknown): boolean {
  return error instanceof HttpStatusError && error.status === 401
}
