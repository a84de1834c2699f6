/**
 * Service addresses: `{api_host}{path}` built with the URL parser, from path
 * settings that are paths and nothing else. A path setting that starts with
 * `@host`, `.evil.tld`, `:port` or `//host` would otherwise move the request,
 * and the credentials it carries, to another host.
 */
import {type HostSetting, type Settings, settingText} from '../config/settings.js'
import {ConfigFileError} from '../errors.js'

export type PathSetting = Exclude<HostSetting, 'api_host' | 'dashboard_host'>

/** Every path setting: the `*_path` names of the settings. */
export const PATH_SETTINGS = [
  'auth_config_path', 'daily_key_path', 'login_path', 'login_status_path', 'logout_path', 'organization_path', 'whoami_path',
] as const

/** Exactly one `/` first, then no backslash (which the parser reads as `/`), whitespace or control character anywhere. */
const PATH = /^\/(?![\/\\])[^\\\s\p{Cc}]*$/v

/** Where a setting's value came from, for a message. */
export function settingOrigin(settings: Settings, name: keyof Settings): string {
  const {env, source} = settings[name]
  if (source === 'environment') return `the environment variable ${env}`
  if (source === 'organization') return 'the active organization\'s table in the config file'
  if (source === 'file') return 'the config file'
  return 'the default'
}

/** The path a setting holds; ConfigFileError naming the setting and where it came from when it is not a plain path. */
export function checkedPath(settings: Settings, name: PathSetting): string {
  const value = settingText(settings, name)
  if (PATH.test(value)) return value
  const origin = settingOrigin(settings, name)
  throw new ConfigFileError(`The setting ${name} (${JSON.stringify(value)}, from ${origin}) is not a path starting with a single "/".`, {
    suggestion: `Set ${name} to a path such as ${JSON.stringify(defaultPath(name))}, or remove it to use the default; nothing was sent.`,
  })
}

function defaultPath(name: PathSetting): string {
  const defaults: Record<PathSetting, string> = {
    auth_config_path: '/auth/config',
    daily_key_path: '/v1/organizations/{org}/daily',
    login_path: '/auth/login',
    login_status_path: '/auth/status',
    logout_path: '/auth/logout',
    organization_path: '/v1/organizations',
    whoami_path: '/v1/users',
  }
  return defaults[name]
}

/** `{api_host}{path}` with `{org}` and the like filled in (encoded), parsed, on the API host's origin. */
export function serviceUrl(settings: Settings, name: PathSetting, params: Record<string, string> = {}): URL {
  const path = checkedPath(settings, name).replaceAll(/\{(\w+)\}/gv, (whole, key: string) => {
    const value = Object.hasOwn(params, key) ? params[key] : undefined
    return value === undefined ? whole : encodeURIComponent(value)
  })
  const host = apiHost(settings)
  const url = new URL(`${host.pathname.replace(/\/+$/v, '')}${path}`, host.origin)
  // The rule above keeps the authority; this says so where it matters.
  if (url.origin !== host.origin) throw new ConfigFileError(`The setting ${name} leads away from ${host.origin}; nothing was sent.`)
  return url
}

/** The API host, parsed; ConfigFileError naming it when it is not a URL. */
export function apiHost(settings: Settings): URL {
  const value = settingText(settings, 'api_host')
  try {
    return new URL(value)
  } catch {
    throw new ConfigFileError(`The setting api_host (from ${settingOrigin(settings, 'api_host')}) is not a valid URL.`, {
      suggestion: 'Set PIPECAT_API_HOST to an address such as https://api.pipecat.daily.co, or unset it to use the default.',
    })
  }
}
