/**
 * The shape of the config document and the edits commands make to it. The
 * file is shared with the official CLI: a handful of known top-level keys (the
 * credentials and the active organization), one table per organization, and
 * anything else kept as found. Sign-in saves credentials and logout removes
 * them, each under the lock, on the file as it is at that moment.
 */
import type {ConfigStore} from './file.js'

import {BINDING_TABLE, boundIssuer, withBinding} from './binding.js'
import {type ConfigData, isTable} from './data.js'

export {type ConfigData, isTable} from './data.js'

/** Top-level keys that are not organization tables, with the type each must have. */
export const TOP_LEVEL_KEYS = {
  org: 'string',
  refresh_token: 'string',
  token: 'string',
  token_expires_at: 'number',
  /**
   * Read, never written: where earlier versions recorded the issuer. The official CLI refuses the file while it is there;
   * the next write moves it into the binding table (binding.ts).
   */
  token_issuer: 'string',
} as const

export type TopLevelKey = keyof typeof TOP_LEVEL_KEYS

/** What logout removes (the binding of the credentials goes with them). */
export const CREDENTIAL_KEYS = ['token', 'refresh_token', 'token_expires_at', 'token_issuer'] as const

export function isReservedKey(key: string): key is TopLevelKey {
  return Object.hasOwn(TOP_LEVEL_KEYS, key)
}

/** Organization tables: every top-level table but the plugin's binding. */
export function organizationTables(data: ConfigData): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, Record<string, unknown>] =>
    entry[0] !== BINDING_TABLE && isTable(entry[1])))
}

export type StoredCredentials = {
  /** Unix seconds; undefined when the token does not expire. */
  expiresAt?: number;
  /** The API host they are bound to; undefined when unbound (written or replaced by another program, see binding.ts). */
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
  return {
    expiresAt: expiryFrom(data.token_expires_at), issuer: boundIssuer(data), refreshToken, token,
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
    const next: ConfigData = withBinding({
      ...data,
      org: organization.name,
      refresh_token: credentials.refreshToken ?? '',
      token: credentials.accessToken,
      token_expires_at: credentials.expiresAt,
    }, credentials.issuer)
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
    return {data: withBinding(rest, undefined), result: 'removed'}
  })
}
