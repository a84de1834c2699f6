/**
 * The shape of the config document and the edits commands make to it. The
 * file is shared with the official CLI: a handful of known top-level keys (the
 * credentials and the active organization), one table per organization, and
 * anything else kept as found. Sign-in saves credentials and logout removes
 * them, each under the lock, on the file as it is at that moment.
 */
import type {ConfigStore} from './file.js'

/** The whole TOML document. */
export type ConfigData = Record<string, unknown>

/** Top-level keys that are not organization tables, with the type each must have. */
export const TOP_LEVEL_KEYS = {
  org: 'string',
  refresh_token: 'string',
  token: 'string',
  token_expires_at: 'number',
  /** The API host that issued the credentials: they are never sent anywhere else. The official CLI keeps it as an unknown key. */
  token_issuer: 'string',
} as const

export type TopLevelKey = keyof typeof TOP_LEVEL_KEYS

/** What logout removes. */
export const CREDENTIAL_KEYS = ['token', 'refresh_token', 'token_expires_at', 'token_issuer'] as const

export function isReservedKey(key: string): key is TopLevelKey {
  return Object.hasOwn(TOP_LEVEL_KEYS, key)
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/** Organization tables: every top-level table. */
export function organizationTables(data: ConfigData): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, Record<string, unknown>] => isTable(entry[1])))
}

export type StoredCredentials = {
  /** Unix seconds; undefined when the token does not expire. */
  expiresAt?: number;
  /** The API host that issued them; undefined when not recorded (written by the official CLI). */
  issuer?: string;
  refreshToken?: string;
  token: string;
}

/** An expiry as the file or the environment gives it, in Unix seconds; undefined when it means "does not expire" (0, empty, garbage). */
export function expiryFrom(value: unknown): number | undefined {
  const seconds = typeof value === 'number' ? value : (typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN)
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined
}

/** The credentials the document holds; undefined when it holds neither a token nor a refresh token. */
export function storedCredentials(data: ConfigData): StoredCredentials | undefined {
  const token = typeof data.token === 'string' ? data.token : ''
  const refreshToken = typeof data.refresh_token === 'string' && data.refresh_token !== '' ? data.refresh_token : undefined
  if (!token && !refreshToken) return undefined
  const issuer = typeof data.token_issuer === 'string' && data.token_issuer !== '' ? data.token_issuer : undefined
  return {
    expiresAt: expiryFrom(data.token_expires_at), issuer, refreshToken, token,
  }
}

export type NewCredentials = {
  accessToken: string;
  /** Unix seconds; 0 when the token does not expire (what the official CLI writes then). */
  expiresAt: number;
  /** The API host that issued them. */
  issuer: string;
  refreshToken?: string;
}

/** An API host as it is recorded and compared: scheme, host, port and path, without a trailing slash. */
export function serviceId(apiHost: string): string {
  try {
    const url = new URL(apiHost)
    return `${url.origin}${url.pathname.replace(/\/+$/v, '')}`
  } catch {
    return apiHost.replace(/\/+$/v, '')
  }
}

type Organization = {name: string; verboseName?: string}

/**
 * Stores new credentials: the stored organization if the account still
 * belongs to it (else the account's first), a table for it, and everything
 * else as it was. Returns that organization and the credentials replaced.
 */
export async function saveCredentials<O extends Organization>(
  store: ConfigStore,
  credentials: NewCredentials,
  organizations: readonly [O, ...O[]],
): Promise<{organization: O; previous?: StoredCredentials}> {
  return store.update(({data}) => {
    const organization = organizations.find(org => org.name === data.org) ?? organizations[0]
    const next: ConfigData = {
      ...data,
      org: organization.name,
      refresh_token: credentials.refreshToken ?? '',
      token: credentials.accessToken,
      token_expires_at: credentials.expiresAt,
      token_issuer: serviceId(credentials.issuer),
    }
    if (!isReservedKey(organization.name) && !isTable(next[organization.name])) next[organization.name] = {}
    return {data: next, result: {organization, previous: storedCredentials(data)}}
  })
}

/**
 * Removes the credential keys, keeping everything else: 'removed', or 'none' when there were none (a
 * missing file is not created), or 'kept' when `isOurs` says the file now holds other credentials (a newer
 * sign-in saved meanwhile, which only its own logout may remove).
 */
export async function removeCredentials(
  store: ConfigStore,
  isOurs: (stored: StoredCredentials | undefined) => boolean = () => true,
): Promise<'kept' | 'none' | 'removed'> {
  return store.update(({data, exists}) => {
    if (!exists || CREDENTIAL_KEYS.every(key => !Object.hasOwn(data, key))) return {result: 'none'}
    if (!isOurs(storedCredentials(data))) return {result: 'kept'}
    const rest = Object.fromEntries(Object.entries(data).filter(([key]) => !(CREDENTIAL_KEYS as readonly string[]).includes(key)))
    return {data: rest, result: 'removed'}
  })
}
