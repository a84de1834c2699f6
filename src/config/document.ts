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
    // Defined, not assigned: an organization named "__proto__" is a table like any other.
    const {name} = organization
    if (!isReservedKey(name) && !(Object.hasOwn(next, name) && isTable(next[name]))) {
      Object.defineProperty(next, name, {
        configurable: true, enumerable: true, value: {}, writable: true,
      })
    }

    return {data: next, result: {organization, previous: storedCredentials(data)}}
  })
}

/** Credential keys the official CLI also reads from the active organization's table when the top level has none. */
export const TABLE_CREDENTIAL_KEYS = ['token', 'refresh_token', 'token_expires_at'] as const

/** The tables credentials may sit in: the file's active organization's (where the official CLI looks) and PIPECAT_ORG's. */
export function credentialTables(data: ConfigData, envOrg?: string): Array<[string, Record<string, unknown>]> {
  const names = new Set([envOrg, typeof data.org === 'string' ? data.org : undefined].filter((name): name is string => Boolean(name)))
  return [...names].flatMap(name => (Object.hasOwn(data, name) && isTable(data[name]) ? [[name, data[name]] as [string, Record<string, unknown>]] : []))
}

/**
 * Removes the credential keys from the top level and from the active organization's table (`envOrg`: PIPECAT_ORG),
 * keeping everything else; false when there were none (a missing file is not created).
 */
export async function removeCredentials(store: ConfigStore, envOrg?: string): Promise<boolean> {
  return store.update(({data, exists}) => {
    const tables = credentialTables(data, envOrg).filter(([, table]) => TABLE_CREDENTIAL_KEYS.some(key => Object.hasOwn(table, key)))
    if (!exists || (CREDENTIAL_KEYS.every(key => !Object.hasOwn(data, key)) && tables.length === 0)) return {result: false}
    const rest = Object.fromEntries(Object.entries(data).filter(([key]) => !(CREDENTIAL_KEYS as readonly string[]).includes(key)))
    for (const [name, table] of tables) {
      const kept = Object.fromEntries(Object.entries(table).filter(([key]) => !(TABLE_CREDENTIAL_KEYS as readonly string[]).includes(key)))
      Object.defineProperty(rest, name, {
        configurable: true, enumerable: true, value: kept, writable: true,
      })
    }

    return {data: withBinding(rest, undefined), result: true}
  })
}
