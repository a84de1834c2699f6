/**
 * Where the config file lives, and reading its text into a document:
 * TOML, validated against the shape the official CLI accepts (docs/protocol.md).
 */
import {homedir} from 'node:os'
import nodePath from 'node:path'
import {parse, TomlError} from 'smol-toml'

import {MalformedConfigError} from '../errors.js'
import {type ConfigData, isTable} from './data.js'
import {isReservedKey, TOP_LEVEL_KEYS} from './document.js'

const logoutAdvice = (command: (id: string) => string) =>
  `Run \`${command('cloud auth logout')}\` to reset it (the file is backed up first), then sign in again.`

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.PIPECAT_CONFIG_PATH
  if (override) return override.startsWith('~/') ? nodePath.join(homedir(), override.slice(2)) : override
  return nodePath.join(homedir(), '.config', 'pipecatcloud', 'pipecatcloud.toml')
}

/** Parses and validates a config document; throws ConfigFileError naming the file and the problem. */
export function parseConfig(text: string, file: string): ConfigData {
  let data: ConfigData
  try {
    // Integers beyond 2^53 are kept exactly (as bigint), as Python reads them.
    data = parse(text, {integersAsBigInt: 'asNeeded'})
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : ''
    const reason = error instanceof Error ? error.message.split('\n', 1)[0] : String(error)
    throw new MalformedConfigError(`The config file ${file} is not valid TOML${where}: ${reason}`, {suggestion: logoutAdvice})
  }

  // An expiry is seconds: a number, however large the file writes it.
  if (typeof data.token_expires_at === 'bigint') data.token_expires_at = Number(data.token_expires_at)
  for (const [key, value] of Object.entries(data)) {
    // Own keys only: an organization named "constructor" is not Object's.
    const expected = isReservedKey(key) ? TOP_LEVEL_KEYS[key] : undefined
    if (expected && typeof value !== expected) {
      throw new MalformedConfigError(
        `The config file ${file} is malformed: ${JSON.stringify(key)} must be a ${expected}, not ${describe(value)}.`,
        {suggestion: logoutAdvice},
      )
    }

    if (!expected && !isTable(value)) {
      throw new MalformedConfigError(
        `The config file ${file} is malformed: ${JSON.stringify(key)} `
        + `must be an organization table ([${tomlKey(key)}]), not ${describe(value)}.`,
        {suggestion: logoutAdvice},
      )
    }
  }

  // Nesting this deep parses (TOML headers have no limit) but cannot be written back; no config file looks like it.
  if (isNestedDeeperThan(data, MAX_DEPTH)) {
    throw new MalformedConfigError(`The config file ${file} is malformed: its tables are nested more than ${MAX_DEPTH} levels deep.`, {
      suggestion: logoutAdvice,
    })
  }

  return data
}

const MAX_DEPTH = 100

function isNestedDeeperThan(data: ConfigData, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[data, 0]]
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!
    if (depth > limit) return true
    if (Array.isArray(value)) for (const item of value) pending.push([item, depth + 1])
    else if (isTable(value)) for (const item of Object.values(value)) pending.push([item, depth + 1])
  }

  return false
}

/** A key as a TOML header would spell it, on one line. */
function tomlKey(key: string): string {
  return /^[\w\-]+$/v.test(key) ? key : JSON.stringify(key)
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a date'
  if (isTable(value)) return 'a table'
  return `a ${typeof value}`
}

export function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    throw new MalformedConfigError(`The config file ${file} is not valid UTF-8 text.`, {suggestion: logoutAdvice})
  }
}
