/**
 * `whoami`: who is signed in. The user, the organizations and (when the
 * organization is known) the Daily API key are looked up at once: one round
 * trip. Without a stored organization, the service's first one is used and
 * the Daily key lookup follows.
 */
import type {Context, FlowResult} from '../context.js'
import type {AuthMethod, Credentials} from '../session/session.js'

import {settingText} from '../config/settings.js'
import {NotLoggedInError} from '../errors.js'
import {organizationLabel, reasonText} from '../text.js'
import {type Expiry, expiryOf} from '../time.js'

export type WhoamiReport = FlowResult & {
  authMethod: AuthMethod;
  dailyApiKey: null | string;
  /** Why the Daily API key is not available, when it is not. */
  dailyApiKeyError: null | string;
  email: null | string;
  organization: null | {name: string; verboseName: null | string};
  tokenExpiry: Expiry | null;
  /** The API host that issued the stored credentials; null for PIPECAT_TOKEN, or when not recorded. */
  tokenIssuer: null | string;
  /** Where the token came from: the config file's path, or the PIPECAT_TOKEN variable. */
  tokenSource: {configPath: string; type: 'file'} | {type: 'environment'; variable: 'PIPECAT_TOKEN'};
  userId: string;
}

export async function whoami(context: Context): Promise<WhoamiReport> {
  const session = await context.session()
  const {settings} = await context.loadConfig()
  const {api} = session
  const storedOrg = settingText(settings, 'org') || undefined
  const user = session.call(async token => api.user(token))
  const organizations = session.call(async token => api.organizations(token))
  const dailyKey = storedOrg
    ? session.call(async token => api.dailyKey(token, storedOrg))
    : organizations.then(async list =>
      (list[0] ? session.call(async token => api.dailyKey(token, list[0]!.name)) : Promise.reject(new Error('no organization'))))
  const [userResult, organizationsResult, dailyKeyResult] = await Promise.allSettled([user, organizations, dailyKey])

  // The user and the organizations are the answer; a rejected token outranks any other failure.
  if (userResult.status === 'rejected' || organizationsResult.status === 'rejected') {
    const failures = [userResult, organizationsResult]
    .filter(result => result.status === 'rejected')
    .map(result => result.reason as unknown)
    throw failures.find(reason => reason instanceof NotLoggedInError) ?? failures[0]
  }

  const me = userResult.value
  const list = organizationsResult.value
  const orgName = storedOrg ?? list[0]?.name
  const found = list.find(org => org.name === orgName)
  const warnings: string[] = []
  if (storedOrg && !found) warnings.push(`The active organization "${storedOrg}" is not among this account's organizations.`)
  if (!orgName) warnings.push('This account has no organization yet; finish the onboarding in the Pipecat Cloud dashboard.')

  return {
    ...credentialFields(session.credentials, context.configPath),
    dailyApiKey: dailyKeyResult.status === 'fulfilled' ? dailyKeyResult.value : null,
    dailyApiKeyError: dailyKeyResult.status === 'rejected' ? reasonText(dailyKeyResult.reason) : null,
    email: me.email ?? null,
    organization: orgName ? {name: orgName, verboseName: found?.verboseName ?? null} : null,
    userId: me.userId,
    warnings,
  }
}

/** What the report says of the credentials themselves (`cloud auth token --json` says the same). */
export function credentialFields(
  credentials: Credentials,
  configPath: string,
): Pick<WhoamiReport, 'authMethod' | 'tokenExpiry' | 'tokenIssuer' | 'tokenSource'> {
  return {
    authMethod: credentials.method,
    tokenExpiry: credentials.expiresAt === undefined ? null : (expiryOf(credentials.expiresAt) ?? null),
    tokenIssuer: credentials.issuer ?? null,
    tokenSource: credentials.source === 'environment' ? {type: 'environment', variable: 'PIPECAT_TOKEN'} : {configPath, type: 'file'},
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
    ['Organization', report.organization ? organizationLabel(report.organization) : '(none)'],
    ['Auth method', METHOD_LABELS[report.authMethod]],
    ['Token source', report.tokenSource.type === 'file' ? report.tokenSource.configPath : 'PIPECAT_TOKEN (environment)'],
    ['Token expires', expiryText(report)],
    ...(report.tokenSource.type === 'file' ? [['Issued by', report.tokenIssuer ?? '(not recorded)'] as [string, string]] : []),
    ['Daily API key', report.dailyApiKey ?? `not available (${report.dailyApiKeyError ?? 'unknown reason'})`],
  ]
  const width = Math.max(...rows.map(([label]) => label.length)) + 1
  return [
    `Logged in to Pipecat Cloud as ${report.email ?? report.userId}`,
    '',
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`),
  ]
}

function expiryText({authMethod: method, tokenExpiry, tokenSource}: WhoamiReport): string {
  if (tokenExpiry) return `${tokenExpiry.at} (${tokenExpiry.relative})`
  if (method === 'personal-access-token') return 'never (valid until revoked in the dashboard)'
  return tokenSource.type === 'environment' ? 'unknown (set by PIPECAT_TOKEN)' : 'never'
}
