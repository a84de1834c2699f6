// Every token the emulator hands out, and the checks on the ones it gets back.
// Tokens are opaque random strings; an OAuth login's access and refresh tokens
// share a family, so a refresh-token reuse or a logout can revoke them all.
import type {IncomingMessage, ServerResponse} from 'node:http'

import {randomBytes, randomUUID} from 'node:crypto'

import type {IssuedTokens, State} from './server.js'

import {sendJson} from './http.js'
import {SCOPES} from './oauth.js'

type TokenKind = 'access' | 'legacy' | 'pat' | 'refresh'

type TokenRecord = {
  /** ms since epoch; absent = never expires */
  expiresAt?: number;
  family?: string;
  kind: TokenKind;
  revoked: boolean;
  /** refresh tokens: already exchanged once */
  used: boolean;
}

export class TokenStore {
  private readonly families = new Map<string, {scope: string; tokens: Set<string>}>()
  private readonly records = new Map<string, TokenRecord>()

  /** A login starts a family; every token issued for it joins. */
  newFamily(scope: string): string {
    const id = randomUUID()
    this.families.set(id, {scope, tokens: new Set()})
    return id
  }

  /** `padding`: that many more characters, as a provider with large JWTs sends. */
  addAccess(family: string, ttlSeconds: number, padding = 0): string {
    const expiresAt = Date.now() + (ttlSeconds * 1000)
    return this.add('emu_at_', {
      expiresAt, family, kind: 'access', revoked: false, used: false,
    }, padding)
  }

  addRefresh(family: string): string {
    return this.add('emu_rt_', {
      family, kind: 'refresh', revoked: false, used: false,
    })
  }

  /** Tokens outside any family: a personal access token, or one from the earlier token flow. */
  addStandalone(kind: 'legacy' | 'pat'): string {
    return this.add(kind === 'pat' ? 'pcc_pat_' : 'emu_lt_', {kind, revoked: false, used: false})
  }

  get(token: string): TokenRecord | undefined {
    return this.records.get(token)
  }

  scopeOf(family: string): string {
    return this.families.get(family)?.scope ?? SCOPES
  }

  /** What the API accepts after `Bearer`: any live token except a refresh token. */
  isValidBearer(token: string): boolean {
    const record = this.records.get(token)
    if (!record || record.revoked || record.kind === 'refresh') return false
    return record.expiresAt === undefined || Date.now() < record.expiresAt
  }

  /** A refresh token that can still be exchanged once. */
  isValidRefresh(token: string): boolean {
    const record = this.records.get(token)
    return record?.kind === 'refresh' && !record.revoked && !record.used
  }

  /** A refresh token revokes its whole family; any other token only itself. Returns whether the token was known. */
  revoke(token: string): boolean {
    const record = this.records.get(token)
    if (!record) return false
    if (record.kind === 'refresh' && record.family) this.revokeFamily(record.family)
    else record.revoked = true
    return true
  }

  revokeFamily(family: string): void {
    for (const token of this.families.get(family)?.tokens ?? []) {
      const record = this.records.get(token)
      if (record) record.revoked = true
    }
  }

  private add(prefix: string, record: TokenRecord, padding = 0): string {
    const token = prefix + randomBytes(24).toString('base64url') + 'x'.repeat(padding)
    this.records.set(token, record)
    if (record.family) this.families.get(record.family)?.tokens.add(token)
    return token
  }
}

/** The tokens an OAuth login would have left behind, without the login (tests and the control API). */
export function issueTokens(state: State, ttl = state.knobs.accessTokenTtl): IssuedTokens {
  const family = state.tokens.newFamily(SCOPES)
  return {access_token: state.tokens.addAccess(family, ttl), expires_in: ttl, refresh_token: state.tokens.addRefresh(family)}
}

/** True when the request carries a valid bearer token; otherwise answers 401 and returns false. */
export function authorized(state: State, req: IncomingMessage, res: ServerResponse): boolean {
  const token = /^bearer\s+(\S+)\s*$/iv.exec(req.headers.authorization ?? '')?.[1]
  if (token && state.tokens.isValidBearer(token)) return true
  sendJson(res, 401, {code: '401', error: 'Unauthorized'}, {'www-authenticate': 'Bearer'})
  return false
}
