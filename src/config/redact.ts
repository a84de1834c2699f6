/**
 * What `cloud config` may show of a value: secrets are found by the name of
 * their key (at any depth), by their shape (known token prefixes, a JWT, a
 * password in a URL, a secret query parameter) wherever they sit, and are
 * shown as at most a known prefix and ****.
 */

/** Settings whose values are always secret. */
export const SECRET_SETTINGS = new Set<string>(['refresh_token', 'token'])

/** Key names that hold credentials: a word of the name, or a run of letters the name contains. */
const SECRET_WORDS = new Set([
  'auth',
  'authorization',
  'bearer',
  'cookie',
  'credential',
  'credentials',
  'hmac',
  'jwt',
  'key',
  'otp',
  'pass',
  'passcode',
  'passphrase',
  'passwd',
  'password',
  'pat',
  'pem',
  'pin',
  'private',
  'pw',
  'pwd',
  'salt',
  'secret',
  'secrets',
  'session',
  'sig',
  'signature',
  'token',
  'tokens',
])
const SECRET_PART = /token|secret|passw|passphrase|credential|auth|private|cookie|session|bearer|jwt|signature|apikey|key$/iv
/** Public keys are meant to be shown (`default_public_key` and its name). */
const PUBLIC_KEY = /public/iv
/** Publishable keys (pk_...) are not secrets. */
const PUBLIC_KEY_PREFIX = 'pk_'

/** Prefixes that say what kind of secret a value is, and nothing of the secret itself: the most ever shown. */
const KNOWN_PREFIXES = [
  'pcc_pat_',
  'sk_live_',
  'sk_test_',
  'rk_live_',
  'rk_test_',
  'whsec_',
  'github_pat_',
  'ghp_',
  'gho_',
  'ghs_',
  'ghu_',
  'glpat-',
  'xoxb-',
  'xoxp-',
  'AKIA',
  'eyJ',
]

/** Secrets inside any value: a known token prefix and what follows it. */
const TOKEN_IN_TEXT = new RegExp(String.raw`(?<![A-Za-z0-9])(${KNOWN_PREFIXES.join('|')})[\w\-.~+\/=]+`, 'gv')
/** URL userinfo: `scheme://user:password@`. */
const USERINFO = /(?<scheme>[a-z][a-z0-9+.\-]{0,31}:\/\/)[^\s\/?#@]+@/giv
/** A query parameter (or fragment parameter) whose name says it is secret. */
// Built from a string: TypeScript's check of regular expression literals rejects `&` in a v-mode class, which is valid.
// eslint-disable-next-line prefer-regex-literals -- see above
const QUERY_PARAMETER = new RegExp(String.raw`(?<lead>[?&#;])(?<name>[^\s=&#]{1,64})=(?<value>[^\s&#]*)`, 'gv')

/** The words of a key: `clientSecret`, `client-secret`, `client_secret` all give client, secret. */
function keyWords(key: string): string[] {
  return key.replaceAll(/(?<lower>[a-z0-9])(?<upper>[A-Z])/gv, '$<lower> $<upper>').toLowerCase().split(/[^a-z0-9]+/v).filter(Boolean)
}

export function isSecretName(key: string): boolean {
  if (PUBLIC_KEY.test(key)) return false
  return keyWords(key).some(word => SECRET_WORDS.has(word)) || SECRET_PART.test(key)
}

/** A secret as its known prefix and ****: `pcc_pat_****`, `eyJ****` (a JWT), or `****`. */
export function redact(secret: string): string {
  if (secret === '') return ''
  const prefix = KNOWN_PREFIXES.find(known => secret.startsWith(known) && secret.length > known.length)
  return `${prefix ?? ''}****`
}

/** JSON.rawJSON (Node 21+), which TypeScript's es2024 library does not declare yet. */
const {rawJSON} = JSON as unknown as {rawJSON: (text: string) => unknown}

/** Text with the secrets it carries hidden: known tokens, URL passwords, secret query parameters. */
export function redactText(text: string): string {
  return text
  .replaceAll(USERINFO, '$<scheme>****@')
  .replaceAll(QUERY_PARAMETER, (whole, lead: string, name: string, value: string) =>
    (value && isSecretParameter(decodeName(name)) ? `${lead}${name}=****` : whole))
  .replaceAll(TOKEN_IN_TEXT, (_whole, prefix: string) => `${prefix}****`)
}

/** Query parameters: the secret key names, and OAuth's `code`. */
function isSecretParameter(name: string): boolean {
  return isSecretName(name) || name.toLowerCase() === 'code'
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name)
  } catch {
    return name
  }
}

/**
 * A value as `cloud config` may show it: under a key that names a credential,
 * at any depth, a string keeps only a known prefix and anything else (a
 * number, a list, a table) is hidden whole; other strings lose the secrets
 * they carry; tables and lists are looked into the same way. `isPlain` says
 * which keys are settings that only look like secrets (`auth_config_path`).
 */
export function redactValue(key: string, value: unknown, isPlain: (key: string) => boolean = () => false): unknown {
  if (SECRET_SETTINGS.has(key) || (isSecretName(key) && !isPlain(key))) {
    if (typeof value === 'string') return value.startsWith(PUBLIC_KEY_PREFIX) && !SECRET_SETTINGS.has(key) ? value : redact(value)
    return '****'
  }

  if (typeof value === 'string') return redactText(value)
  // An integer beyond 2^53 (kept exactly when read): its exact digits, as a number in JSON.
  if (typeof value === 'bigint') return rawJSON(String(value))
  if (Array.isArray(value)) return value.map(item => redactValue('', item, isPlain))
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, redactValue(name, item, isPlain)]))
  }

  return value
}
