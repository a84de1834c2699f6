/**
 * `logout`: revoke the session when a refresh token is stored (10 s at most),
 * then remove token, refresh_token and token_expires_at under the lock, keeping
 * `org` and the organization tables. A malformed file is moved aside instead.
 */
import type {Context, FlowResult} from '../context.js'

import {removeCredentials} from '../config/credentials.js'
import {
  CREDENTIAL_KEYS,
  credentialTables,
  type StoredCredentials,
  storedCredentials,
  TABLE_CREDENTIAL_KEYS,
} from '../config/document.js'
import {type LoadedConfig} from '../config/load.js'
import {type Settings, settingText} from '../config/settings.js'
import {MalformedConfigError, NotLoggedInError} from '../errors.js'
import {type Revocation, type RevocationResult, revokeSession} from '../session/revoke.js'
import {fileCredentials, isIssuedBy, Session} from '../session/session.js'

export type LogoutResult = FlowResult & {
  /** Where a malformed config file was moved. */
  backup: null | string;
  configPath: string;
  /** Whether credentials were removed from the file. */
  credentialsRemoved: boolean;
  /** PIPECAT_TOKEN is set and still authenticates commands. */
  environmentToken: boolean;
  /** A sign-in saved while logging out (other credentials than the ones revoked) was left in the file. */
  newerSignInKept: boolean;
  revocation: Revocation;
  /** Why the revocation was not confirmed, in a line. */
  revocationDetail: null | string;
  /** The dashboard's sign-out page, when the service could not end the session. */
  signOutUrl: string;
  /** The service that issued the removed credentials, when recorded. */
  tokenIssuer: null | string;
  /** Whether the file held credentials; null when it could not be read to tell. */
  wasLoggedIn: boolean | null;
}

type Outcome = Omit<LogoutResult, 'warnings'>

export async function logout(context: Context): Promise<LogoutResult> {
  const outcome = await signOut(context)
  return {...outcome, warnings: logoutWarnings(outcome)}
}

/** What the user should be warned about after a logout: an unconfirmed revocation, a backup, PIPECAT_TOKEN. */
export function logoutWarnings(outcome: Outcome): string[] {
  return describe(outcome).stderr
}

/** The result's lines for people (the warnings are in the result). */
export function renderLogout(result: LogoutResult): string[] {
  return describe(result).stdout
}

async function signOut(context: Context): Promise<Outcome> {
  let loaded: LoadedConfig
  try {
    loaded = await context.loadConfig()
  } catch (error) {
    if (!(error instanceof MalformedConfigError)) throw error
    return resetMalformed(context)
  }

  const {settings, snapshot, store} = loaded
  const base = {
    backup: null, configPath: store.path, environmentToken: settings.token.source === 'environment', signOutUrl: signOutUrl(settings),
  }
  const envOrg = context.env.PIPECAT_ORG
  // The top level, else the active organization's table, where the official CLI also reads a token.
  const tables = credentialTables(snapshot.data, envOrg)
  const stored = storedCredentials(snapshot.data) ?? tables.map(([, table]) => storedCredentials(table)).find(Boolean)
  const tokenIssuer = stored?.issuer ?? null
  if (!stored) {
    // Leftovers such as `token = ""` go too; a missing file (or folder) is not created.
    const hasLeftovers = CREDENTIAL_KEYS.some(key => Object.hasOwn(snapshot.data, key))
      || tables.some(([, table]) => TABLE_CREDENTIAL_KEYS.some(key => Object.hasOwn(table, key)))
    const removal = hasLeftovers ? await removeCredentials(store, found => !found, envOrg) : 'none'
    return {
      ...base, ...removed(removal), revocation: 'not-attempted', revocationDetail: null, tokenIssuer, wasLoggedIn: false,
    }
  }

  // The credentials this logout ends: the ones read, and the ones a refresh on the way replaced them with.
  const ours = new Set([stored.token, stored.refreshToken].filter(Boolean))
  let revoked: RevocationResult = {detail: null, revocation: 'not-attempted'}
  if (stored.refreshToken && !isIssuedBy(stored, settings)) {
    // Another service issued them: they go to no one else.
    revoked = {detail: `issued by ${stored.issuer}, not by the configured ${settingText(settings, 'api_host')}`, revocation: 'not-sent'}
  } else if (stored.refreshToken && snapshot.tokenUnusable) {
    // Credentials others could have written are not sent anywhere.
    revoked = {detail: 'the stored token was not sent: the config file is accessible to other users', revocation: 'not-confirmed'}
  } else if (stored.refreshToken) {
    const api = await context.api()
    const {refreshToken} = stored
    // An expiring or rejected access token is refreshed first, all within the 10 s.
    revoked = await revokeSession(async signal => {
      const session = new Session(api.withSignal(signal), fileCredentials(stored), store)
      try {
        if (!stored.token) throw new NotLoggedInError('No access token is stored.')
        await session.call(async token => session.api.revokeSession(token, session.credentials.refreshToken ?? refreshToken))
      } finally {
        for (const token of session.issued) ours.add(token)
      }
    })
  }

  // A sign-in saved meanwhile (another command) is not the session revoked: it stays.
  const isOurs = (found?: StoredCredentials) => found === undefined || ours.has(found.token) || ours.has(found.refreshToken ?? '')
  const removal = await removeCredentials(store, isOurs, envOrg)
  return {
    ...base, ...removed(removal), revocation: revoked.revocation, revocationDetail: revoked.detail, tokenIssuer, wasLoggedIn: true,
  }
}

/** What removeCredentials did, as the result says it. */
function removed(removal: 'kept' | 'none' | 'removed'): {credentialsRemoved: boolean; newerSignInKept: boolean} {
  return {credentialsRemoved: removal === 'removed', newerSignInKept: removal === 'kept'}
}

/** What the user must know (stdout), and what they should be warned about (stderr). */
function describe(result: Outcome): {stderr: string[]; stdout: string[]} {
  const stdout: string[] = []
  const stderr: string[] = []
  if (result.backup) {
    stdout.push(
      `The config file ${result.configPath} could not be read; it was moved to ${result.backup}.`,
      'You are logged out: no credentials are stored. Its settings and organization tables are in the backup.',
    )
    stderr.push(
      `If it held a session, that session was not revoked on the service; to end it everywhere, sign out at ${result.signOutUrl}`,
    )
  } else if (result.newerSignInKept) {
    stdout.push(
      revocationLine(result),
      `A newer sign-in was saved to ${result.configPath} while logging out; it was kept. Run logout again to end it too.`,
    )
    const warning = revocationWarning(result)
    if (warning) stderr.push(warning)
  } else if (result.wasLoggedIn) {
    stdout.push(
      revocationLine(result),
      `Logged out: removed the credentials from ${result.configPath} (the organization settings were kept).`,
    )
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
function revocationLine({revocation, signOutUrl: url}: Outcome): string {
  const lines: Record<Revocation, string> = {
    'not-attempted': 'There was no session to revoke on the service (no refresh token was stored). '
      + `To sign out of the dashboard too, visit ${url}`,
    'not-confirmed': '',
    'not-sent': '',
    revoked: 'Your session was revoked on Pipecat Cloud.',
    'service-unavailable': '',
    'session-ended': 'Your session had already ended on Pipecat Cloud.',
  }
  return lines[revocation]
}

function revocationWarning({revocation, revocationDetail, signOutUrl: url}: Outcome): string | undefined {
  if (revocation === 'service-unavailable') {
    return 'Pipecat Cloud could not revoke your session right now (503, the revocation service is down); '
      + 'it will expire on its own within 24 hours.'
  }

  if (revocation === 'not-sent') {
    return `Your session was not revoked: it was ${revocationDetail ?? 'issued by another service'}, `
      + 'and its tokens are not sent to another service. '
      + 'It stays valid until it expires (within 24 hours); to end it now, sign out on the service that issued it.'
  }

  if (revocation === 'not-confirmed') {
    return `Pipecat Cloud did not confirm that your session was revoked (${revocationDetail ?? 'no answer'}); `
      + `it stays valid until it expires (within 24 hours). To end it now, sign out at ${url}`
  }

  return undefined
}

/** A malformed file: moved aside (under the lock), leaving no file, so nothing is lost and the next login starts clean. */
async function resetMalformed(context: Context): Promise<Outcome> {
  const backup = await context.store.resetMalformed()
  const settings = context.environmentSettings()
  return {
    backup,
    configPath: context.store.path,
    credentialsRemoved: backup !== null,
    environmentToken: settings.token.source === 'environment',
    newerSignInKept: false,
    revocation: 'not-attempted',
    revocationDetail: null,
    signOutUrl: signOutUrl(settings),
    tokenIssuer: null,
    wasLoggedIn: null,
  }
}

function signOutUrl(settings: Settings): string {
  return `${settingText(settings, 'dashboard_host').replace(/\/+$/v, '')}/sign-out`
}
