/**
 * Settings resolution, as the official CLI does it: environment variable
 * PIPECAT_<NAME>, then the file's top level, then the active organization's
 * table, then the default.
 */
import {type ConfigData, isTable} from './data.js'

export const SETTING_DEFAULTS = {
  api_host: 'https://api.pipecat.daily.co',
  auth_config_path: '/auth/config',
  daily_key_path: '/v1/organizations/{org}/daily',
  dashboard_host: 'https://pipecat.daily.co',
  login_path: '/auth/login',
  login_status_path: '/auth/status',
  logout_path: '/auth/logout',
  organization_path: '/v1/organizations',
  whoami_path: '/v1/users',
} as const

/** Values the file stores, each also overridable from the environment. */
export const STORED_SETTINGS = [
  'token',
  'org',
  'refresh_token',
  'token_expires_at',
  'default_public_key',
  'default_public_key_name',
] as const

export type HostSetting = keyof typeof SETTING_DEFAULTS
export type StoredSetting = (typeof STORED_SETTINGS)[number]
export type SettingName = HostSetting | StoredSetting

export type SettingSource = 'default' | 'environment' | 'file' | 'organization'

export type ResolvedSetting = {
  /** The environment variable that overrides it. */
  env: string;
  source?: SettingSource;
  value?: number | string;
}

export type Settings = Record<SettingName, ResolvedSetting>

export const SETTING_NAMES: SettingName[] = [...STORED_SETTINGS, ...(Object.keys(SETTING_DEFAULTS) as HostSetting[])]

export function envName(name: SettingName): string {
  return `PIPECAT_${name.toUpperCase()}`
}

export function resolveSettings(data: ConfigData, env: NodeJS.ProcessEnv = process.env): Settings {
  const org = env.PIPECAT_ORG ?? (typeof data.org === 'string' ? data.org : undefined)
  const orgTable = org && isTable(data[org]) ? (data[org]) : {}

  const resolve = (name: SettingName): ResolvedSetting => {
    const variable = envName(name)
    const fromEnv = env[variable]
    if (fromEnv !== undefined && fromEnv !== '') return {env: variable, source: 'environment', value: fromEnv}
    // Only the four credential keys may sit at the top level; anything else there is an organization table.
    const top = data[name]
    if (typeof top === 'string' || typeof top === 'number') return {env: variable, source: 'file', value: top}
    const inOrg = orgTable[name]
    if (typeof inOrg === 'string' || typeof inOrg === 'number') return {env: variable, source: 'organization', value: inOrg}
    const fallback = (SETTING_DEFAULTS as Record<string, string>)[name]
    return fallback === undefined ? {env: variable} : {env: variable, source: 'default', value: fallback}
  }

  return Object.fromEntries(SETTING_NAMES.map(name => [name, resolve(name)])) as Settings
}

/** The value of a setting as a string ('' when unset). */
export function settingText(settings: Settings, name: SettingName): string {
  const {value} = settings[name]
  return value === undefined ? '' : String(value)
}
