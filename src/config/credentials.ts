/**
 * The edits sign-in and logout make to the config document, each under the
 * lock, on the file as it is at that moment: sign-in saves credentials (and
 * their binding, binding.ts), logout removes them.
 */
import type {AuthMethod, Organization} from '../account.js'
import type {ConfigStore} from './file.js'

import {withBinding} from './binding.js'
import {type ConfigData, isTable} from './data.js'
import {
  CREDENTIAL_KEYS,
  isReservedKey,
  type StoredCredentials,
  storedCredentials,
} from './document.js'

export type NewCredentials = {
  accessToken: string;
  /** Unix seconds; 0 when the token does not expire (what the official CLI writes then). */
  expiresAt: number;
  /** The API host that issued them. */
  issuer: string;
  /** How they were obtained (recorded with the binding). */
  method: AuthMethod;
  refreshToken?: string;
}

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
    }
    if (!isReservedKey(organization.name) && !isTable(next[organization.name])) next[organization.name] = {}
    // The binding last: a new table goes after the organization tables.
    return {data: withBinding(next, credentials.issuer, credentials.method), result: {organization, previous: storedCredentials(data)}}
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
