/**
 * Config files for tests: a temporary config path (with or without a file), a
 * file the official CLI would have written after a login, and reading back
 * what the commands left on disk.
 */
import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {rmSync} from 'node:fs'
import {
  access,
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse} from 'smol-toml'

import type {Emulator} from '../emulator/server.js'

import {pythonLoad} from './python.js'

/** A token that must never be shown, in the product documentation's example file. */
export const EXAMPLE_TOKEN = 'pcc_pat_0123456789abcdefSECRET'
/** The product documentation's example config file. */
export const EXAMPLE_FILE = `token = "${EXAMPLE_TOKEN}"
org = "user-namespace"

[another-user-org]
default_public_key = "pk_test_public"
default_public_key_name = "Test Key"

[futher-user-org]
default_public_key = "pk_test_other"
default_public_key_name = "Pipecat Cloud Public Key"
`

/** Every temporary folder made here; whatever a test did not clean up goes when the test run ends. */
const made = new Set<string>()
let isRemovalRegistered = false

function removeLeftoversAtExit(): void {
  if (isRemovalRegistered) return
  isRemovalRegistered = true
  process.once('exit', () => {
    for (const dir of made) rmSync(dir, {force: true, recursive: true})
  })
}

/** A temporary folder holding a config path (the file itself written only when `content` is given, mode 0600). */
export async function tempConfig(content?: string): Promise<{cleanup: () => Promise<void>; dir: string; env: {PIPECAT_CONFIG_PATH: string}; file: string}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-test-'))
  removeLeftoversAtExit()
  made.add(dir)
  const file = path.join(dir, 'pipecatcloud', 'pipecatcloud.toml')
  if (content !== undefined) {
    await mkdir(path.dirname(file), {mode: 0o700, recursive: true})
    await writeFile(file, content, {mode: 0o600})
    await chmod(file, 0o600)
  }

  return {
    async cleanup() {
      made.delete(dir)
      await rm(dir, {force: true, recursive: true})
    },
    dir,
    env: {PIPECAT_CONFIG_PATH: file},
    file,
  }
}

export type TempConfig = Awaited<ReturnType<typeof tempConfig>>

/** The environment that points the CLI at an emulator (API and dashboard host) and at a temporary config file. */
export function emulatorEnv(
  emulator: {url: string},
  config: TempConfig,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    ...config.env, PIPECAT_API_HOST: emulator.url, PIPECAT_DASHBOARD_HOST: emulator.url, ...extra,
  }
}

/** An organization table the commands must keep. */
export const ORG_TABLES = `
[user-namespace]
default_public_key = "pk_user_namespace_key"
default_public_key_name = "Default Key"

[acme]
default_public_key = "pk_acme_key"
default_public_key_name = "Acme Key"
`

/** What a logged-out file keeps of configText(): the active organization and every organization table. */
export const KEPT = {
  acme: {default_public_key: 'pk_acme_key', default_public_key_name: 'Acme Key'},
  org: 'user-namespace',
  'user-namespace': {default_public_key: 'pk_user_namespace_key', default_public_key_name: 'Default Key'},
}

export type Seed = {
  /** Seconds from now; 0 writes `token_expires_at = 0` (a token that does not expire). */
  expiresIn?: number;
  /** The API host the plugin bound the credentials to; absent: unbound, as the official CLI writes them. */
  issuer?: string;
  org?: string;
  refreshToken?: string;
  token: string;
}

/** The config file the official CLI would have written after a login. */
export function configText({
  expiresIn = 3600, issuer, org = 'user-namespace', refreshToken = '', token,
}: Seed): string {
  const expiresAt = expiresIn === 0 ? '0' : ((Date.now() / 1000) + expiresIn).toFixed(3)
  const orgLine = org ? `org = "${org}"\n` : ''
  const bound = issuer ? bindingTable(issuer, {refreshToken, token}) : ''
  return `token = "${token}"\n${orgLine}refresh_token = "${refreshToken}"\ntoken_expires_at = ${expiresAt}\n${ORG_TABLES}${bound}`
}

/** The table in which the plugin binds credentials to a host: the host, and a SHA-256 of the refresh token (else the token). */
export function bindingTable(issuer: string, {refreshToken, token}: {refreshToken?: string; token: string}, method?: string): string {
  const fingerprint = createHash('sha256').update(refreshToken === undefined || refreshToken === '' ? token : refreshToken).digest('base64url')
  const recorded = method === undefined ? '' : `method = "${method}"\n`
  return `\n["@pipecat-ai/plugin-cloud"]\ncredentials = "sha256:${fingerprint}"\nissuer = "${issuer}"\n${recorded}`
}

/** The table `["@pipecat-ai/plugin-cloud"]` binding these credentials to a host, as the file holds it (parsed), without `method`. */
export function binding(issuer: string, secrets: {refreshToken?: string; token: string}): Record<string, unknown> {
  return parse(bindingTable(issuer, secrets))['@pipecat-ai/plugin-cloud'] as Record<string, unknown>
}

/** A config file holding an OAuth login the emulator knows: access token valid for `ttl` s (negative: already expired). */
export async function oauthLogin(emulator: Emulator, ttl = 3600, seed: Partial<Seed> = {}): Promise<{access: string; config: TempConfig; refresh: string}> {
  const tokens = emulator.issueTokens({ttl})
  const config = await tempConfig(configText({
    expiresIn: ttl, refreshToken: tokens.refresh_token, token: tokens.access_token, ...seed,
  }))
  return {access: tokens.access_token, config, refresh: tokens.refresh_token}
}

export async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8')
}

export async function readConfig(file: string): Promise<Record<string, unknown>> {
  return parse(await readText(file))
}

export async function fileMode(file: string): Promise<number> {
  return (await stat(file)).mode % 0o1000
}

export async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true).catch(() => false)
}

/** The file as the official CLI's Python sees it, after checking it is private. */
export async function storedConfig(file: string): Promise<Record<string, unknown>> {
  expect(await fileMode(file)).to.equal(0o600)
  return pythonLoad(file, 'tomllib')
}

/** Every file in the config folder with its bytes, by name in order (a leftover temp or lock file shows up as a new name). */
export type FolderSnapshot = Record<string, Buffer>

export async function snapshotFolder(dir: string): Promise<FolderSnapshot> {
  const files: FolderSnapshot = {}
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return files
  }

  for (const name of names.toSorted()) {
    try {
      files[name] = await readFile(path.join(dir, name))
    } catch {
      files[name] = Buffer.from('<not a readable file>')
    }
  }

  return files
}

export function expectSameFolder(after: FolderSnapshot, before: FolderSnapshot, what = 'the config folder'): void {
  expect(Object.keys(after), `${what}: file names`).to.deep.equal(Object.keys(before))
  for (const [name, bytes] of Object.entries(before)) {
    expect(after[name]?.equals(bytes), `${what}: ${name} byte-for-byte unchanged`).to.equal(true)
  }
}
