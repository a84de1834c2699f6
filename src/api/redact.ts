/**
 * The secrets one request carried (its bearer token, its form, JSON body and
 * query values), and their removal from whatever the client reports about it:
 * a service that echoes what it was sent, at any status, must not get a token
 * printed.
 */

/** Fields whose values are protocol words or public identifiers, not secrets. */
const PUBLIC_FIELDS = new Set([
  'client_id',
  'code_challenge_method',
  'grant_type',
  'redirect_uri',
  'response_type',
  'scope',
  'token_flow_id',
  'use_code',
])

/** Shorter values (`true`, `S256`) are words, and replacing them would garble the message for nothing. */
const MIN_SECRET_LENGTH = 8
const MASK = '****'

export type RequestParts = {
  bearer?: string;
  form?: Record<string, string>;
  json?: unknown;
  searchParams?: Record<string, string>;
}

export class Secrets {
  private readonly values: string[]

  constructor(values: Iterable<string>) {
    const spellings = new Set<string>()
    for (const value of values) {
      if (value.length < MIN_SECRET_LENGTH) continue
      // As sent, and as an echo may spell it back: percent-encoded, form-encoded, JSON-escaped.
      const formEncoded = new URLSearchParams({v: value}).toString().slice(2)
      for (const spelling of [value, encodeURIComponent(value), formEncoded, JSON.stringify(value).slice(1, -1)]) spellings.add(spelling)
    }

    // Longest first, so a secret containing another is removed whole.
    this.values = [...spellings].toSorted((a, b) => b.length - a.length)
  }

  /** Every secret value of a request. */
  static of({bearer, form, json, searchParams}: RequestParts): Secrets {
    const found: string[] = bearer ? [bearer] : []
    for (const fields of [form, searchParams]) {
      for (const [key, value] of Object.entries(fields ?? {})) if (!PUBLIC_FIELDS.has(key)) found.push(value)
    }

    collect(json, found)
    return new Secrets(found)
  }

  get isEmpty(): boolean {
    return this.values.length === 0
  }

  /** The text with every secret replaced by ****. */
  scrub(text: string): string {
    let clean = text
    for (const secret of this.values) clean = clean.replaceAll(secret, () => MASK)
    return clean
  }

  /** A parsed answer with every string scrubbed, at any depth (keys too). */
  scrubValue(value: unknown): unknown {
    if (this.isEmpty) return value
    if (typeof value === 'string') return this.scrub(value)
    if (Array.isArray(value)) return value.map(item => this.scrubValue(item))
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.scrub(key), this.scrubValue(item)]))
    }

    return value
  }
}

/** String values of a JSON body, at any depth, but for public fields. */
function collect(value: unknown, found: string[], key = ''): void {
  if (PUBLIC_FIELDS.has(key)) return
  if (typeof value === 'string') found.push(value)
  else if (Array.isArray(value)) for (const item of value) collect(item, found)
  else if (typeof value === 'object' && value !== null) for (const [name, item] of Object.entries(value)) collect(item, found, name)
}
