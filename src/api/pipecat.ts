import type {Organization, User} from '../account.js'

/**
 * The Pipecat Cloud endpoints the auth commands use, with the answers checked
 * against the shapes the protocol promises (docs/protocol.md, "Endpoints").
 */
import {type Settings, settingText} from '../config/settings.js'
import {ServiceError} from '../errors.js'
import {apiHost, type PathSetting, serviceUrl} from './address.js'
import {type HttpClient, HttpStatusError, type RequestOptions} from './http.js'

/** The protocol's cap on the logout call. */
export const LOGOUT_TIMEOUT_MS = 10_000

export type {Organization, User} from '../account.js'

export type AuthConfig = {
  clientId: string;
  issuer: string;
  scopes: string;
}

export type TokenFlow = {
  code?: string;
  tokenFlowId: string;
  waitSecret: string;
  webUrl: string;
}

export type TokenFlowStatus = {status: 'complete'; token: string} | {status: 'failure'} | {status: 'pending'}

export class PipecatApi {
  constructor(
    readonly http: HttpClient,
    private readonly settings: Settings,
  ) {}

  /** OAuth client settings; undefined when the service predates OAuth (404). */
  async authConfig(): Promise<AuthConfig | undefined> {
    try {
      const body = await this.get('auth_config_path')
      const {client_id: clientId, issuer, scopes} = body as Record<string, unknown>
      if (typeof issuer !== 'string' || typeof clientId !== 'string') throw this.unexpected('auth_config_path')
      return {clientId, issuer, scopes: typeof scopes === 'string' ? scopes : 'openid profile email offline_access'}
    } catch (error) {
      if (error instanceof HttpStatusError && error.status === 404) return undefined
      throw error
    }
  }

  async dailyKey(token: string, org: string): Promise<string> {
    const body = await this.get('daily_key_path', token, {org})
    const {apiKey} = (body ?? {}) as Record<string, unknown>
    if (typeof apiKey !== 'string') throw this.unexpected('daily_key_path')
    return apiKey
  }

  async organizations(token: string): Promise<Organization[]> {
    const body = await this.get('organization_path', token)
    const list = (body as Record<string, unknown> | undefined)?.organizations
    if (!Array.isArray(list)) throw this.unexpected('organization_path')
    return list.map(entry => {
      const {name, verboseName} = (entry ?? {}) as Record<string, unknown>
      if (typeof name !== 'string' || name === '') throw this.unexpected('organization_path')
      return {name, verboseName: typeof verboseName === 'string' ? verboseName : undefined}
    })
  }

  /**
   * Revokes a refresh token's session (the logout endpoint); throws what the
   * service answered. Sent once, within 10 s at most.
   */
  async revokeSession(token: string, refreshToken: string): Promise<void> {
    await this.http.request(this.url('logout_path'), {
      audience: this.origin(),
      bearer: token,
      json: {refresh_token: refreshToken},
      method: 'POST',
      retries: 0,
      timeoutMs: Math.min(LOGOUT_TIMEOUT_MS, this.http.timeoutMs),
    })
  }

  /** Earlier login generation: starts a token flow with a code. */
  async startTokenFlow(): Promise<TokenFlow> {
    const {body} = await this.http.request(this.url('login_path'), {
      audience: this.origin(),
      method: 'POST',
      retries: 0,
      searchParams: {use_code: 'true'},
    })
    const {code, token_flow_id: tokenFlowId, wait_secret: waitSecret, web_url: webUrl} = (body ?? {}) as Record<string, unknown>
    // The address is shown to the user to open: only a web page, never another scheme (javascript:, file:, an app link).
    if (typeof tokenFlowId !== 'string' || typeof waitSecret !== 'string' || typeof webUrl !== 'string' || !isWebUrl(webUrl)) {
      throw this.unexpected('login_path')
    }

    return {
      code: typeof code === 'string' ? code : undefined, tokenFlowId, waitSecret, webUrl,
    }
  }

  /** Earlier login generation: one (possibly long-held) status poll. */
  async tokenFlowStatus(flow: TokenFlow): Promise<TokenFlowStatus> {
    const {body} = await this.http.request(this.url('login_status_path'), {
      audience: this.origin(),
      // Held open while the user signs in: a wait for them, not for the network.
      quiet: true,
      searchParams: {token_flow_id: flow.tokenFlowId, wait_secret: flow.waitSecret},
      timeoutMs: 60_000,
    })
    const {status, token} = (body ?? {}) as Record<string, unknown>
    if (status === 'complete') {
      if (typeof token !== 'string' || token === '') throw this.unexpected('login_status_path')
      return {status, token}
    }

    return status === 'failure' ? {status} : {status: 'pending'}
  }

  /** The origin every request carrying credentials goes to: the API host's. */
  origin(): string {
    return apiHost(this.settings).origin
  }

  /** `{api_host}{path}`, with `{org}` filled in; a path setting that is not a plain path is refused. */
  url(path: PathSetting, params: Record<string, string> = {}): URL {
    return serviceUrl(this.settings, path, params)
  }

  async user(token: string): Promise<User> {
    const body = await this.get('whoami_path', token)
    const user = (body as Record<string, unknown> | undefined)?.user as Record<string, unknown> | undefined
    if (typeof user?.userId !== 'string') throw this.unexpected('whoami_path')
    const emails = Array.isArray(user.emails) ? user.emails : []
    const first = emails
    .map(entry => (entry as Record<string, unknown> | undefined)?.emailAddress)
    .find(email => typeof email === 'string')
    return {email: first, userId: user.userId}
  }

  /** The same endpoints, every request also aborted by `signal`. */
  withSignal(signal: AbortSignal): PipecatApi {
    return new PipecatApi(this.http.withSignal(signal), this.settings)
  }

  private async get(
    path: Parameters<PipecatApi['url']>[0],
    token?: string,
    params?: Record<string, string>,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const {body} = await this.http.request(this.url(path, params), {...options, audience: this.origin(), bearer: token})
    return body
  }

  private unexpected(path: string): ServiceError {
    const {host} = new URL(settingText(this.settings, 'api_host'))
    const setting = settingText(this.settings, path as 'whoami_path')
    return new ServiceError(`${host} answered ${setting} with something this version does not understand.`, {
      suggestion: 'Try again; if it keeps happening, update the plugin.',
    })
  }
}

function isWebUrl(text: string): boolean {
  try {
    const {protocol} = new URL(text)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}
