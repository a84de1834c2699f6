/**
 * The account commands' flows, apart from their rendering: who is signed in
 * (`whoami`: the lookups, run at once) and signing out (`logout`: revoke,
 * then remove the credentials, keeping the organization tables; or reset a
 * malformed file).
 */
import type {LoadedConfig} from '../base-command.js'

import {HttpStatusError} from '../api/http.js'
import {LOGOUT_TIMEOUT_MS, type PipecatApi} from '../api/pipecat.js'
import {ConfigStore, CREDENTIAL_KEYS} from '../config/file.js'
import {expiryOf} from '../config/report.js'
import {resolveSettings, type Settings, settingText} from '../config/settings.js'
import {MalformedConfigError, NotLoggedInError} from '../errors.js'
import {
  type AuthMethod,
  type Credentials,
  Session,
  storedCredentials,
} from './session.js'

// ------------------------------------------------------------------ whoami

export type WhoamiReport = {
  authMethod: AuthMethod;
  dailyApiKey: null | string;
  /** Why the Daily API key is not available, when it is not. */
  dailyApiKeyError: null | string;
  email: null | string;
  organization: null | {name: string; verboseName: null | string};
  tokenExpiry: null | {at: string; expired: boolean; relative: string};
  /** Where the token came from: the config file's path, or the PIPECAT_TOKEN variable. */
  tokenSource: {path: string; type: 'file'} | {type: 'environment'; variable: 'PIPECAT_TOKEN'};
  userId: string;
}

/**
 * The user, the organizations and (when the organization is known) the Daily
 * API key, all at once: one round trip. Without a stored organization, the
 * service's first one is used and the Daily key lookup follows.
 */
export async function whoami(session: Session, settings: Settings, configPath: string, warn: (message: string) => void): Promise<WhoamiReport> {
  const {api} = session
  const storedOrg = settingText(settings, 'org') || undefined
  const user = session.call(async token => api.user(token))
  const organizations = session.call(async token => api.organizations(token))
  const dailyKey = storedOrg
    ? session.call(async token => api.dailyKey(token, storedOrg))
    : organizations.then(async list => (list[0] ? session.call(async token => api.dailyKey(token, list[0].name)) : Promise.reject(new Error('no organization'))))
  const [userResult, organizationsResult, dailyKeyResult] = await Promise.allSettled([user, organizations, dailyKey])

  // The user and the organizations are the answer; a rejected token outranks any other failure.
  const failures = [userResult, organizationsResult].filter(result => result.status === 'rejected').map(result => result.reason as unknown)
  if (failures.length > 0) throw failures.find(reason => reason instanceof NotLoggedInError) ?? failures[0]
  const me = (userResult as PromiseFulfilledResult<Awaited<typeof user>>).value
  const list = (organizationsResult as PromiseFulfilledResult<Awaited<typeof organizations>>).value

  const orgName = storedOrg ?? list[0]?.name
  const found = list.find(org => org.name === orgName)
  if (storedOrg && !found) warn(`The active organization "${storedOrg}" is not among this account's organizations.`)
  if (!orgName) warn('This account has no organization yet; finish the onboarding in the Pipecat Cloud dashboard.')

  const {credentials} = session
  return {
    authMethod: credentials.method,
    dailyApiKey: dailyKeyResult.status === 'fulfilled' ? dailyKeyResult.value : null,
    dailyApiKeyError: dailyKeyResult.status === 'rejected' ? reasonText(dailyKeyResult.reason) : null,
    email: me.email ?? null,
    organization: orgName ? {name: orgName, verboseName: found?.verboseName ?? null} : null,
    tokenExpiry: expiry(credentials),
    tokenSource: credentials.source === 'environment' ? {type: 'environment', variable: 'PIPECAT_TOKEN'} : {path: configPath, type: 'file'},
    userId: me.userId,
  }
}

const METHOD_LABELS: Record<AuthMethod, string> = {
  oauth: 'OAuth',
  'personal-access-token': 'personal access token',
  token: 'token',
}

/** The human form, as lines. The Daily API key is shown in full (it is what whoami is for); the Pipecat token never. */
export function renderWhoami(report: WhoamiReport): string[] {
  const rows: Array<[string, string]> = [
    ['Email', report.email ?? '(none)'],
    ['User ID', report.userId],
    ['Organization', organizationText(report.organization)],
    ['Auth method', METHOD_LABELS[report.authMethod]],
    ['Token source', report.tokenSource.type === 'file' ? report.tokenSource.path : 'PIPECAT_TOKEN (environment)'],
    ['Token expires', expiryText(report)],
    ['Daily API key', report.dailyApiKey ?? `not available (${report.dailyApiKeyError ?? 'unknown reason'})`],
  ]
  const width = Math.max(...rows.map(([label]) => label.length)) + 1
  return [`Logged in to Pipecat Cloud as ${report.email ?? report.userId}`, '', ...rows.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`)]
}

function organizationText(organization: WhoamiReport['organization']): string {
  if (!organization) return '(none)'
  return organization.verboseName ? `${organization.verboseName} (${organization.name})` : organization.name
}

function expiryText({authMethod: method, tokenExpiry, tokenSource}: WhoamiReport): string {
  if (tokenExpiry) return `${tokenExpiry.at} (${tokenExpiry.relative})`
  if (method === 'personal-access-token') return 'never (valid until revoked in the dashboard)'
  return tokenSource.type === 'environment' ? 'unknown (set by PIPECAT_TOKEN)' : 'never'
}

function expiry({expiresAt}: Credentials, now = Date.now() / 1000): WhoamiReport['tokenExpiry'] {
  if (expiresAt === undefined) return null
  return expiryOf(expiresAt, now) ?? null
}

function reasonText(reason: unknown): string {
  const text = reason instanceof Error ? reason.message : String(reason)
  return text.replace(/\.$/v, '')
}

// ------------------------------------------------------------------ logout

/**
 * What happened to the session on the service's side:
 * - `revoked`: the service confirmed (2xx);
 * - `service-unavailable`: 503, the revocation service is down; the session expires on its own;
 * - `not-confirmed`: any other answer, no answer within 10 s, or the service could not be reached;
 * - `session-ended`: the service no longer accepts the session (it had already ended);
 * - `not-attempted`: no refresh token stored, so nothing to revoke server-side.
 */
export type Revocation = 'not-attempted' | 'not-confirmed' | 'revoked' | 'service-unavailable' | 'session-ended'

export type LogoutResult = {
  /** Where a malformed config file was moved. */
  backup: null | string;
  configPath: string;
  /** Whether credentials were removed from the file. */
  credentialsRemoved: boolean;
  /** PIPECAT_TOKEN is set and still authenticates commands. */
  environmentToken: boolean;
  revocation: Revocation;
  /** Why the revocation was not confirmed, in a line. */
  revocationDetail: null | string;
  /** The dashboard's sign-out page, when the service could not end the session. */
  signOutUrl: string;
  /** Whether the file held credentials; null when it could not be read to tell. */
  wasLoggedIn: boolean | null;
}

export type LogoutContext = {
  /** The API client (the same settings as loadConfig's). */
  api: () => Promise<PipecatApi>;
  configPath: string;
  env?: NodeJS.ProcessEnv;
  /** The base command's loader; throws MalformedConfigError when the file is malformed. */
  loadConfig: () => Promise<LoadedConfig>;
  warn: (message: string) => void;
}

/**
 * Signs out: revokes the session when a refresh token is stored (10 s at most),
 * then removes token, refresh_token and token_expires_at under the lock,
 * keeping `org` and the organization tables. A malformed file is moved aside.
 */
export async function logout(context: LogoutContext): Promise<LogoutResult> {
  const env = context.env ?? process.env
  const isEnvironmentToken = Boolean(env.PIPECAT_TOKEN)
  let loaded: LoadedConfig
  try {
    loaded = await context.loadConfig()
  } catch (error) {
    if (!(error instanceof MalformedConfigError)) throw error
    return resetMalformed(new ConfigStore(context.configPath, context.warn), env, isEnvironmentToken)
  }

  const {settings, snapshot, store} = loaded
  const base = {
    backup: null, configPath: store.path, environmentToken: isEnvironmentToken, revocationDetail: null, signOutUrl: signOutUrl(settings),
  }
  const stored = storedCredentials(snapshot.data)
  if (!stored) {
    // Leftovers such as `token = ""` go too; a missing file (or folder) is not created.
    const hasLeftovers = CREDENTIAL_KEYS.some(key => Object.hasOwn(snapshot.data, key))
    const isCredentialsRemoved = hasLeftovers && (await removeCredentials(store))
    return {
      ...base, credentialsRemoved: isCredentialsRemoved, revocation: 'not-attempted', wasLoggedIn: false,
    }
  }

  let revocation: Revocation = 'not-attempted'
  let revocationDetail: null | string = null
  if (stored.refreshToken && snapshot.tokenUnusable) {
    // Credentials others could have written are not sent anywhere.
    revocation = 'not-confirmed'
    revocationDetail = 'the stored token was not sent: the config file is accessible to other users'
  } else if (stored.refreshToken) {
    ({revocation, revocationDetail} = await revoke(await context.api(), stored, store))
  }

  const isCredentialsRemoved = await removeCredentials(store)
  return {
    ...base, credentialsRemoved: isCredentialsRemoved, revocation, revocationDetail, wasLoggedIn: true,
  }
}

/** The result's lines: what the user must know on stdout, what they should be warned about on stderr. */
export function renderLogout(result: LogoutResult): {stderr: string[]; stdout: string[]} {
  const stdout: string[] = []
  const stderr: string[] = []
  if (result.backup) {
    stdout.push(
      `The config file ${result.configPath} could not be read; it was moved to ${result.backup}.`,
      'You are logged out: no credentials are stored. Its settings and organization tables are in the backup.',
    )
    stderr.push(`If it held a session, that session was not revoked on the service; to end it everywhere, sign out at ${result.signOutUrl}`)
  } else if (result.wasLoggedIn) {
    stdout.push(revocationLine(result), `Logged out: removed the credentials from ${result.configPath} (the organization settings were kept).`)
    const warning = revocationWarning(result)
    if (warning) stderr.push(warning)
  } else if (result.environmentToken) {
    stdout.push(`No credentials are stored in ${result.configPath}; there was nothing to remove.`)
  } else {
    stdout.push('You are not logged in.')
  }

  if (result.environmentToken) {
    stderr.push('PIPECAT_TOKEN is set in the environment and still authenticates every command; unset it to sign out completely.')
  }

  return {stderr, stdout: stdout.filter(Boolean)}
}

/** The stdout line for each outcome; the unconfirmed ones are warnings, on stderr. */
function revocationLine({revocation, signOutUrl: url}: LogoutResult): string {
  const lines: Record<Revocation, string> = {
    'not-attempted': `There was no session to revoke on the service (no refresh token was stored). To sign out of the dashboard too, visit ${url}`,
    'not-confirmed': '',
    revoked: 'Your session was revoked on Pipecat Cloud.',
    'service-unavailable': '',
    'session-ended': 'Your session had already ended on Pipecat Cloud.',
  }
  return lines[revocation]
}

function revocationWarning({revocation, revocationDetail, signOutUrl: url}: LogoutResult): string | undefined {
  if (revocation === 'service-unavailable') {
    return 'Pipecat Cloud could not revoke your session right now (503, the revocation service is down); it will expire on its own within 24 hours.'
  }

  if (revocation === 'not-confirmed') {
    return `Pipecat Cloud did not confirm that your session was revoked (${revocationDetail ?? 'no answer'}); it stays valid until it expires (within 24 hours). To end it now, sign out at ${url}`
  }

  return undefined
}

/** The protocol's logout call, with an expiring or rejected access token refreshed first, all within 10 s. */
async function revoke(api: PipecatApi, credentials: Credentials, store: ConfigStore): Promise<{revocation: Revocation; revocationDetail: null | string}> {
  const signal = AbortSignal.timeout(LOGOUT_TIMEOUT_MS)
  const session = new Session(api.withSignal(signal), {...credentials}, store)
  try {
    if (!credentials.token) throw new NotLoggedInError('No access token is stored.')
    await session.call(async token => session.api.revokeSession(token, session.credentials.refreshToken ?? ''))
    return {revocation: 'revoked', revocationDetail: null}
  } catch (error) {
    if (signal.aborted) return {revocation: 'not-confirmed', revocationDetail: `no answer within ${LOGOUT_TIMEOUT_MS / 1000} s`}
    if (error instanceof HttpStatusError && error.status === 503) return {revocation: 'service-unavailable', revocationDetail: null}
    if (error instanceof NotLoggedInError) return {revocation: 'session-ended', revocationDetail: null}
    return {revocation: 'not-confirmed', revocationDetail: reasonText(error)}
  }
}

/** Removes the credential keys under the lock, re-reading the file; keeps everything else. */
async function removeCredentials(store: ConfigStore): Promise<boolean> {
  return store.update(({data, exists}) => {
    if (!exists || CREDENTIAL_KEYS.every(key => !Object.hasOwn(data, key))) return {result: false}
    const rest = Object.fromEntries(Object.entries(data).filter(([key]) => !(CREDENTIAL_KEYS as readonly string[]).includes(key)))
    return {data: rest, result: true}
  })
}

/** A malformed file: moved aside (under the lock), leaving no file, so nothing is lost and the next login starts clean. */
async function resetMalformed(store: ConfigStore, env: NodeJS.ProcessEnv, hasEnvironmentToken: boolean): Promise<LogoutResult> {
  // Re-read under the lock: move it aside only if it is still malformed (not fixed or removed meanwhile).
  const backup = await store.withLock(async () => {
    try {
      await store.read()
      return null
    } catch (error) {
      if (error instanceof MalformedConfigError) return store.backUp()
      throw error
    }
  })
  return {
    backup,
    configPath: store.path,
    credentialsRemoved: backup !== null,
    environmentToken: hasEnvironmentToken,
    revocation: 'not-attempted',
    revocationDetail: null,
    signOutUrl: signOutUrl(resolveSettings({}, env)),
    wasLoggedIn: null,
  }
}

function signOutUrl(settings: Settings): string {
  return `${settingText(settings, 'dashboard_host').replace(/\/+$/v, '')}/sign-out`
}
