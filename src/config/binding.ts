/**
 * Which API host the stored credentials belong to. Credentials are sent only
 * to the host they are bound to, so a changed `api_host` (in the file, the
 * environment or an organization table) cannot hand them to another service.
 *
 * The binding lives in a table of its own, because the official CLI refuses
 * any top-level key but its four that is not a table (docs/protocol.md). It
 * names the credentials it was recorded for by a fingerprint, so credentials
 * another program wrote or replaced are never bound by an old record: they are
 * unbound, and bound again to the first host they are used with.
 *
 *   ["@pipecat-ai/plugin-cloud"]
 *   credentials = "sha256:..."
 *   issuer = "https://api.pipecat.daily.co"
 *   method = "oauth"
 *
 * `method` records how the credentials were obtained, when the plugin
 * obtained them; credentials another program wrote are told apart by shape.
 */

import {AUTH_METHODS, type AuthMethod} from '../account.js'
import {nodeCrypto} from '../builtins.js'
import {type ConfigData, isTable} from './data.js'

/** The table's name: an organization name cannot hold `@` or `/` (it is a path segment of the API). */
export const BINDING_TABLE = '@pipecat-ai/plugin-cloud'

/** Where earlier versions of the plugin kept the issuer: a top-level key the official CLI refuses. */
export const LEGACY_ISSUER_KEY = 'token_issuer'

/** The keys of the record itself; anything else in the table is kept as found. */
const RECORD_KEYS = new Set(['credentials', 'issuer', 'method'])

/** What a fingerprint is made from: the refresh token, or the token when there is none. */
type Secrets = {refreshToken?: string; token: string}

/** A one-way fingerprint of the credentials, so the binding can name them without holding them. */
export function credentialFingerprint({refreshToken, token}: Secrets): string {
  // an empty refresh token (what a personal access token is stored with) is none
  const secret = refreshToken === undefined || refreshToken === '' ? token : refreshToken
  return `sha256:${nodeCrypto().createHash('sha256').update(secret, 'utf8').digest('base64url')}`
}

/** The credentials a document holds, as the fingerprint reads them; undefined when it holds none. */
function secretsOf(data: ConfigData): Secrets | undefined {
  const token = typeof data.token === 'string' ? data.token : ''
  const refreshToken = typeof data.refresh_token === 'string' ? data.refresh_token : ''
  if (!token && !refreshToken) return undefined
  return {refreshToken, token}
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

/**
 * The host the document's credentials are bound to; undefined when they are
 * unbound (no record, an empty one, or one made for other credentials). A
 * top-level `token_issuer` from an earlier version still counts until the next
 * write moves it: the official CLI cannot read such a file, so the
 * credentials beside it are the ones it was written with.
 */
export function boundIssuer(data: ConfigData): string | undefined {
  const secrets = secretsOf(data)
  if (!secrets) return undefined
  const table = Object.hasOwn(data, BINDING_TABLE) ? data[BINDING_TABLE] : undefined
  if (isTable(table) && typeof table.issuer === 'string' && table.issuer !== ''
    && table.credentials === credentialFingerprint(secrets)) {
    return table.issuer
  }

  const legacy = Object.hasOwn(data, LEGACY_ISSUER_KEY) ? data[LEGACY_ISSUER_KEY] : undefined
  return typeof legacy === 'string' && legacy !== '' ? legacy : undefined
}

/** How the document's credentials were obtained, when the plugin recorded it for these credentials. */
export function boundMethod(data: ConfigData): AuthMethod | undefined {
  const secrets = secretsOf(data)
  const table = Object.hasOwn(data, BINDING_TABLE) ? data[BINDING_TABLE] : undefined
  if (!secrets || !isTable(table) || table.credentials !== credentialFingerprint(secrets)) return undefined
  return AUTH_METHODS.find(method => method === table.method)
}

/**
 * The document with its credentials bound to `issuer` (undefined: no binding),
 * and no top-level `token_issuer` left. `method`, when given, records how they
 * were obtained; other keys in the table are kept (a refresh keeps the method).
 */
export function withBinding(data: ConfigData, issuer: string | undefined, method?: AuthMethod): ConfigData {
  const table = Object.hasOwn(data, BINDING_TABLE) ? data[BINDING_TABLE] : undefined
  const rest = Object.fromEntries(Object.entries(data).filter(([key]) => key !== LEGACY_ISSUER_KEY && key !== BINDING_TABLE))
  const secrets = secretsOf(rest)
  const others = isTable(table) ? Object.fromEntries(Object.entries(table).filter(([key]) => !RECORD_KEYS.has(key))) : {}
  if (!secrets || issuer === undefined) {
    return Object.keys(others).length > 0 ? {...rest, [BINDING_TABLE]: others} : rest
  }

  // A refresh passes no method: the one recorded for the session goes on.
  const kept = isTable(table) ? AUTH_METHODS.find(known => known === table.method) : undefined
  const recorded = (method ?? kept) === undefined ? {} : {method: method ?? kept}
  return {
    ...rest, [BINDING_TABLE]: {
      ...others, credentials: credentialFingerprint(secrets), issuer: serviceId(issuer), ...recorded,
    },
  }
}

/**
 * What every write stores: a top-level `token_issuer` moved into the table
 * (it bound the credentials the file held when it was read), and a table
 * whose record no longer matches the credentials removed. Documents with
 * neither are returned as they are.
 */
export function repairBinding(data: ConfigData): ConfigData {
  const hasLegacy = Object.hasOwn(data, LEGACY_ISSUER_KEY)
  const table = Object.hasOwn(data, BINDING_TABLE) ? data[BINDING_TABLE] : undefined
  if (!hasLegacy && table === undefined) return data
  const secrets = secretsOf(data)
  const isCurrent = isTable(table) && secrets !== undefined && table.credentials === credentialFingerprint(secrets)
  if (!hasLegacy && isCurrent) return data
  return withBinding(data, boundIssuer(data))
}
