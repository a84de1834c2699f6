/**
 * Shared set-up for the account command tests: a logged-in config file seeded
 * with tokens the emulator issued, the environment pointing the CLI at the
 * emulator, and the checks every test makes (no secret in any output).
 */
import {expect} from 'chai'
import {createServer} from 'node:net'
import {parse} from 'smol-toml'

import type {Emulator, RecordedRequest} from '../emulator/server.js'

import {
  type CliResult,
  readText,
  tempConfig,
  type TempConfig,
} from '../helpers/cli.js'

export {emulatorEnv, type TempConfig} from '../helpers/cli.js'

/** An organization table the commands must keep. */
export const ORG_TABLES = `
[user-namespace]
default_public_key = "pk_user_namespace_key"
default_public_key_name = "Default Key"

[acme]
default_public_key = "pk_acme_key"
default_public_key_name = "Acme Key"
`

export type Seed = {
  /** Seconds from now; 0 writes `token_expires_at = 0` (a token that does not expire). */
  expiresIn?: number;
  org?: string;
  refreshToken?: string;
  token: string;
}

/** The config file the official CLI would have written after a login. */
export function configText({expiresIn = 3600, org = 'user-namespace', refreshToken = '', token}: Seed): string {
  const expiresAt = expiresIn === 0 ? '0' : ((Date.now() / 1000) + expiresIn).toFixed(3)
  const orgLine = org ? `org = "${org}"\n` : ''
  return `token = "${token}"\n${orgLine}refresh_token = "${refreshToken}"\ntoken_expires_at = ${expiresAt}\n${ORG_TABLES}`
}

/** A config file holding an OAuth login the emulator knows: access token valid for `ttl` s (negative: already expired). */
export async function oauthLogin(emulator: Emulator, ttl = 3600, seed: Partial<Seed> = {}): Promise<{access: string; config: TempConfig; refresh: string}> {
  const tokens = emulator.issueTokens({ttl})
  const config = await tempConfig(configText({
    expiresIn: ttl, refreshToken: tokens.refresh_token, token: tokens.access_token, ...seed,
  }))
  return {access: tokens.access_token, config, refresh: tokens.refresh_token}
}

export async function readConfig(file: string): Promise<Record<string, unknown>> {
  return parse(await readText(file))
}

/** No token, refresh token or other secret in anything the CLI printed. */
export function expectNoSecrets(result: CliResult, ...secrets: string[]): void {
  for (const secret of secrets) {
    if (!secret) continue
    expect(result.stdout, 'stdout shows a secret').not.to.contain(secret)
    expect(result.stderr, 'stderr shows a secret').not.to.contain(secret)
  }
}

/** The API requests (method and path) the emulator received, in order. */
export function seen(emulator: Emulator): string[] {
  return emulator.requests.map(request => `${request.method} ${request.path}`)
}

export function bearer(request: RecordedRequest): string | undefined {
  const header = request.headers.authorization
  return typeof header === 'string' ? header.replace(/^Bearer /v, '') : undefined
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as {port: number}
  await new Promise<void>(resolve => {
    server.close(() => {
      resolve();
    })
  })
  return port
}
