/**
 * The shape of the config document. The file is shared with the official CLI:
 * a handful of known top-level keys (the credentials and the active
 * organization), one table per organization, and anything else kept as found.
 * The edits commands make to it are in credentials.ts.
 */
import type {AuthMethod} from '../account.js'

import {BINDING_TABLE, boundIssuer, boundMethod} from './binding.js'
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
  /** How they were obtained, when the plugin recorded it (binding.ts). */
  method?: AuthMethod;
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
    expiresAt: expiryFrom(data.token_expires_at), issuer: boundIssuer(data), method: boundMethod(data), refreshToken, token,
  }
}

/** Credential keys the official CLI also reads from the active organization's table when the top level has none. */
export const TABLE_CREDENTIAL_KEYS = ['token', 'refresh_token', 'token_expires_at'] as const

/** The tables credentials may sit in: the file's active organization's (where the official CLI looks) and PIPECAT_ORG's. */
export function credentialTables(data: ConfigData, envOrg?: string): Array<[string, Record<string, unknown>]> {
  const names = new Set([envOrg, typeof data.org === 'string' ? data.org : undefined].filter((name): name is string => Boolean(name)))
  return [...names].flatMap(name => (
    Object.hasOwn(data, name) && isTable(data[name]) ? [[name, data[name]] as [string, Record<string, unknown>]] : []
  ))
}
