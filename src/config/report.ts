/**
 * What `cloud config` shows: the file, every setting with its value and where
 * it came from, token expiry, and the organization tables. Secrets redacted.
 */
import type {LoadedConfig} from './load.js'

import {printable} from '../text.js'
import {type Expiry, expiryOf} from '../time.js'
import {expiryFrom, organizationTables, storedCredentials} from './document.js'
import {redactText, redactValue, SECRET_SETTINGS} from './redact.js'
import {SETTING_NAMES, type SettingName, type SettingSource} from './settings.js'

export type ConfigReport = {
  activeOrganization: null | string;
  configPath: string;
  exists: boolean;
  organizations: Record<string, Record<string, unknown>>;
  settings: Record<SettingName, {env: string; source: null | SettingSource; value: null | number | string}>;
  tokenExpiry: Expiry | null;
  /** The API host that issued the stored credentials, when recorded. */
  tokenIssuer: null | string;
  /** As every result has (none are raised here: a repaired file mode is warned of while the file is read). */
  warnings: string[];
}

/** Settings (API paths, hosts) are not secrets by name, even where their names look like one (`auth_config_path`). */
const PLAIN_SETTINGS = new Set<string>(SETTING_NAMES.filter(name => !SECRET_SETTINGS.has(name)))
const isPlainSetting = (key: string) => PLAIN_SETTINGS.has(key)

export {redact} from './redact.js'

export function configReport({settings, snapshot, store}: LoadedConfig, now = Date.now() / 1000): ConfigReport {
  const entries = SETTING_NAMES.map(name => {
    const {env, source, value} = settings[name]
    return [name, {
      env,
      source: source ?? null,
      value: value === undefined ? null : (redactValue(name, value, isPlainSetting) as number | string),
    }]
  })
  const expiresAt = expiryFrom(settings.token_expires_at.value)
  const tokenExpiry = expiresAt !== undefined && settings.token.value ? (expiryOf(expiresAt, now) ?? null) : null
  const organizations = Object.fromEntries(
    Object.entries(organizationTables(snapshot.data)).map(([org, table]) => [
      org,
      Object.fromEntries(Object.entries(table).map(([key, value]) => [key, redactValue(key, value, isPlainSetting)])),
    ]),
  )

  return {
    activeOrganization: settings.org.value === undefined ? null : String(settings.org.value),
    exists: snapshot.exists,
    organizations,
    configPath: store.path,
    settings: Object.fromEntries(entries) as ConfigReport['settings'],
    tokenExpiry,
    tokenIssuer: redactText(storedCredentials(snapshot.data)?.issuer ?? '') || null,
    warnings: [],
  }
}

const SOURCE_LABELS: Record<SettingSource, string> = {
  default: 'default',
  environment: 'environment',
  file: 'config file',
  organization: 'organization table',
}

type Row = [name: string, value: string, origin: string]

/** An API path nobody changed: shown only with --all. */
function isDefaultPath(name: string, source: null | SettingSource): boolean {
  return name.endsWith('_path') && source === 'default'
}

/** The human form, as lines: what the user sets or overrides; with `all`, every setting. */
export function renderConfigReport(report: ConfigReport, {all = false}: {all?: boolean} = {}): string[] {
  // Names and values come from the file or the environment: shown without control characters, so they cannot drive the terminal.
  const show = (value: unknown) => printable(typeof value === 'string' ? value : JSON.stringify(value), 500)
  const lines = [`Config file: ${report.configPath} (${report.exists ? 'exists' : 'does not exist yet'})`]
  if (report.tokenIssuer) lines.push(`Credentials issued by: ${show(report.tokenIssuer)}`)
  lines.push('')
  const settings = Object.entries(report.settings)
  const shown = all ? settings : settings.filter(([name, {source}]) => !isDefaultPath(name, source))
  const rows = shown.map(([name, {env, source, value}]): Row => {
    let text = value === null ? '(not set)' : show(value)
    if (name === 'token_expires_at' && report.tokenExpiry) text = `${report.tokenExpiry.at} (${report.tokenExpiry.relative})`
    const origin = source === null ? '' : (source === 'environment' ? `environment (${env})` : SOURCE_LABELS[source])
    return [name, text, origin]
  })
  const header: Row = ['SETTING', 'VALUE', 'SOURCE']
  const nameWidth = Math.max(...[header, ...rows].map(([name]) => name.length))
  const valueWidth = Math.max(...[header, ...rows].map(([, value]) => value.length))
  const format = ([name, value, origin]: Row) => `${name.padEnd(nameWidth)}  ${value.padEnd(valueWidth)}  ${origin}`.trimEnd()
  lines.push(format(header), ...rows.map(row => format(row)))
  const hidden = settings.length - shown.length
  if (hidden > 0) lines.push(`(${hidden} API paths at their defaults are not shown; --all shows them.)`)

  const organizations = Object.entries(report.organizations)
  lines.push('', organizations.length === 0 ? 'Organization tables: none' : 'Organization tables:')
  for (const [org, table] of organizations) {
    lines.push(`  [${show(org)}]${org === report.activeOrganization ? '  (active)' : ''}`)
    const keys = Object.entries(table)
    if (keys.length === 0) lines.push('    (empty)')
    const width = Math.max(0, ...keys.map(([key]) => key.length))
    for (const [key, value] of keys) lines.push(`    ${show(key).padEnd(width)}  ${show(value)}`)
  }

  return lines
}
