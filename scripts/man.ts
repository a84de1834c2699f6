/**
 * Man pages from the command definitions: one roff page per command
 * (pipecat-cloud-config.1, pipecat-cloud-auth-login.1, ...) and a
 * pipecat-cloud.1 overview with FILES, ENVIRONMENT and EXIT STATUS.
 *
 *   tsx scripts/man.ts           write man/ (run after `npm run build`)
 *   tsx scripts/man.ts --check   exit 1 when man/ differs from what the commands say
 *
 * The commands are read as `oclif manifest` reads them (from dist/, never from a
 * possibly stale oclif.manifest.json), so pages always match the built code.
 */
import {type Command, Plugin} from '@oclif/core'
import {
  mkdir,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {
  envName,
  SETTING_DEFAULTS,
  SETTING_NAMES,
  type SettingName,
} from '../src/config/settings.js'
import {ERROR_CODES} from '../src/errors.js'
import {
  bold,
  code,
  escape,
  italic,
  prose,
  text,
} from './roff.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const MAN_DIR = path.join(ROOT, 'man')

/** Man pages are read with the standalone binary's name; in a host CLI the same commands run under its name. */
const BIN = 'pipecat'
const SECTION = '1'
const OVERVIEW_ID = 'cloud'

const SETTING_HELP: Record<SettingName, string> = {
  api_host: [
    'Base URL of the Pipecat Cloud API.',
    'Only https, except the loopback hosts 127.0.0.1, localhost and [::1] (local test servers such as the emulator).',
  ].join(' '),
  auth_config_path: 'API path of the OAuth configuration (issuer, client ID, scopes). When the service answers 404 there, login uses the earlier token flow.',
  daily_key_path: "API path of the active organization's Daily API key; {org} stands for the organization name.",
  dashboard_host: 'Base URL of the Pipecat Cloud dashboard.',
  default_public_key: 'Default public key (pk_...) of the active organization, instead of the one in its table.',
  default_public_key_name: 'Name of that default public key.',
  login_path: 'API path that starts the earlier token login flow.',
  login_status_path: 'API path the earlier token login flow polls until sign-in completes.',
  logout_path: 'API path that revokes the refresh token on logout.',
  org: "Active organization (its name), instead of the config file's org.",
  organization_path: "API path of the signed-in user's organizations.",
  refresh_token: "OAuth refresh token, instead of the config file's.",
  token: [
    'Access token, instead of the one in the config file: for example a personal access token (pcc_pat_...) in CI.',
    'It wins over the file; commands using it never write credentials, and logout reminds you that it still signs you in.',
  ].join(' '),
  token_expires_at: 'When the access token expires, in Unix seconds (0: it does not).',
  whoami_path: 'API path of the signed-in user.',
}

const EXIT_CODES: Array<[string, string]> = [
  ['0', 'Success.'],
  ['1', 'Failure: network, service or config file.'],
  ['2', 'Usage error (unknown command, flag or argument, missing value).'],
  ['4', 'Not logged in, or the token was rejected and could not be refreshed.'],
  ['130', 'Interrupted (Ctrl-C); a config file write under way finishes first, nothing is left half written.'],
]

/** error.code under --json, from the one record in src/errors.ts: the sentence, then the exit status. */
const ERROR_CODE_LINES: Array<[string, string]> = ERROR_CODES.map(({code: name, exit, when}) => [
  name,
  `${when.charAt(0).toUpperCase()}${when.slice(1)} (exit ${exit}).`,
])

type FlagInfo = {
  aliases?: string[];
  allowNo?: boolean;
  char?: string;
  charAliases?: string[];
  default?: unknown;
  description?: string;
  helpGroup?: string;
  helpValue?: string | string[];
  hidden?: boolean;
  name: string;
  options?: readonly string[];
  required?: boolean;
  summary?: string;
  type: 'boolean' | 'option';
}

type Topics = Record<string, {description?: string; hidden?: boolean}>

/** A generated page: its file name under man/ and its roff text. */
export type ManPage = {name: string; roff: string}

/** The plugin's commands, loaded fresh from dist/ the way `oclif manifest` does. */
export async function loadCommands(root = ROOT): Promise<{commands: Command.Cached[]; topics: Topics; version: string}> {
  const plugin = new Plugin({
    errorOnManifestCreate: true,
    ignoreManifest: true,
    isRoot: true,
    root,
    type: 'core',
  })
  await plugin.load()
  if (Object.keys(plugin.manifest.commands).length === 0) throw new Error(`No commands in ${root}/dist/commands: run \`npm run build\` first.`)
  const commands = Object.values(plugin.manifest.commands)
  .filter(command => !command.hidden)
  .toSorted((a, b) => a.id.localeCompare(b.id))
  return {commands, topics: plugin.pjson.oclif.topics ?? {}, version: plugin.version}
}

/** Every page: pipecat(1) for the program, the pipecat-cloud(1) overview, then one per command. */
export async function renderManPages(root = ROOT): Promise<ManPage[]> {
  const {commands, topics, version} = await loadCommands(root)
  const overview = commands.find(command => command.id === OVERVIEW_ID)
  const others = commands.filter(command => command.id !== OVERVIEW_ID)
  if (!overview) throw new Error(`No "${OVERVIEW_ID}" command: the overview page documents it.`)
  return [
    {name: `${BIN}.${SECTION}`, roff: programPage(commands, version)},
    {name: pageFile(OVERVIEW_ID), roff: overviewPage(overview, others, topics, version)},
    ...others.map(command => ({name: pageFile(command.id), roff: commandPage(command, others, version)})),
  ]
}

/** package.json's `man` list for these pages (what `npm install -g` links into the man path). */
export function manField(pages: ManPage[]): string[] {
  return pages.map(page => `./man/${page.name}`)
}

/** Names of the pages that differ from, are missing in, or are extra in `dir`. */
export async function stalePages(pages: ManPage[], dir = MAN_DIR): Promise<string[]> {
  const existing = (await readdir(dir).catch(() => [] as string[])).filter(name => name.endsWith(`.${SECTION}`))
  const current = await Promise.all(pages.map(async page => (existing.includes(page.name) ? readFile(path.join(dir, page.name), 'utf8') : undefined)))
  const differing = pages.filter((page, index) => current[index] !== page.roff).map(page => page.name)
  const extra = existing.filter(name => pages.every(page => page.name !== name))
  return [...differing, ...extra].toSorted()
}

export function pageFile(id: string): string {
  return `${pageName(id)}.${SECTION}`
}

function pageName(id: string): string {
  return id ? `${BIN}-${id.replaceAll(':', '-')}` : BIN
}

function commandLine(id: string): string {
  return `${BIN} ${id.replaceAll(':', ' ')}`
}

// ---------------------------------------------------------------- pages

const CONFIG_FILE = '~/.config/pipecatcloud/pipecatcloud.toml'

/** What the `pipecat` program is, one line: the NAME of pipecat(1) and the standalone packages' description. */
export const CLI_SUMMARY = 'The Pipecat Cloud command line: sign in, your account and your configuration'

// Where these pages are read there is no `pipecat plugins` (the standalone CLI has none): name a host CLI instead.
const PLUGIN_NOTE = [
  'These commands come from the oclif plugin @pipecat-ai/plugin-cloud, which the standalone pipecat program (tarballs and .deb) carries.',
  'Another oclif CLI that has @oclif/plugin-plugins, say acme, installs the packed plugin with its own command,',
  '`acme plugins install file:/path/to/pipecat-ai-plugin-cloud-VERSION.tgz`;',
  "the commands then run under that CLI's name and topic separator (`acme cloud auth login`), and its help shows them that way.",
].join(' ')

const CONFIG_FILE_TEXT = [
  'The config file (TOML), shared with the official Pipecat Cloud CLI: the access token, the refresh token and its expiry,',
  'the active organization, and one table per organization with its default public key.',
  'Written atomically with mode 0600 in a directory with mode 0700; a file others can read is repaired to 0600 with a warning.',
  'Keys the plugin does not know are kept. PIPECAT_CONFIG_PATH moves it elsewhere.',
].join(' ')

const ENVIRONMENT_NOTE = [
  'Every setting can be overridden with a PIPECAT_<NAME> variable, and PIPECAT_CONFIG_PATH says where the config file is;',
  'HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured.',
].join(' ')

/** pipecat(1): the program itself, its global flags and where its commands are documented. */
function programPage(commands: Command.Cached[], version: string): string {
  const program = (usage: string, what: string) => ['.TP', bold(`${BIN} ${usage}`), text(what)]
  return finish([
    ...header('', CLI_SUMMARY, version),
    '.SH SYNOPSIS',
    String.raw`${bold(BIN)} ${italic('command')} \%[${italic('flags', true)}]`,
    '.br',
    String.raw`${bold(BIN)} \%[${bold('--help', true)}|${bold('--version', true)}]`,
    '.SH DESCRIPTION',
    text(`${BIN} signs you in to Pipecat Cloud and shows your account and your configuration, with the official Pipecat Cloud CLI's config file.`),
    text('The standalone builds (tarballs and .deb) carry the Node.js they run on; a clone or an npm install needs Node.js 22 or newer.'),
    '.SH COMMANDS',
    ...commands.flatMap(command => ['.TP', bold(commandLine(command.id)), text(command.summary ?? ''), `See ${crossRef(command.id)}.`]),
    ...program('help [COMMAND]', 'Help for a command or topic, as --help shows it.'),
    ...program('autocomplete [SHELL]', 'Sets up completion for bash, zsh or PowerShell (the standalone builds).'),
    '.SH OPTIONS',
    '.TP',
    bold('--help'),
    text('The commands and topics, or, after a command, its flags and examples.'),
    '.TP',
    bold('--version'),
    text('The version, the platform and the Node.js version, for example pipecat/0.1.0 linux-x64 node-v22.23.2.'),
    '.SH ENVIRONMENT',
    text(ENVIRONMENT_NOTE),
    `See ${crossRef(OVERVIEW_ID)} for the full list.`,
    '.SH FILES',
    '.TP',
    italic(CONFIG_FILE),
    text('The config file, unless PIPECAT_CONFIG_PATH says otherwise.'),
    ...exitStatus(),
    ...seeAlso('', commands),
  ])
}

function overviewPage(cloud: Command.Cached, commands: Command.Cached[], topics: Topics, version: string): string {
  return finish([
    ...header(OVERVIEW_ID, cloud.summary ?? topics.cloud?.description ?? '', version),
    '.SH SYNOPSIS',
    ...synopsis(cloud),
    '.br',
    String.raw`${bold(commandLine(OVERVIEW_ID))} ${italic('command')} \%[${italic('flags', true)}]`,
    '.SH DESCRIPTION',
    ...prose(render(cloud.description ?? '', cloud.id)),
    '.PP',
    text(PLUGIN_NOTE),
    '.SH COMMANDS',
    ...commands.flatMap(command => ['.TP', bold(commandLine(command.id)), text(command.summary ?? ''), `See ${crossRef(command.id)}.`]),
    ...options(cloud),
    ...examples(cloud),
    '.SH FILES',
    '.TP',
    italic(CONFIG_FILE),
    text(CONFIG_FILE_TEXT),
    '.SH ENVIRONMENT',
    ...environment(),
    ...exitStatus(),
    ...seeAlso(OVERVIEW_ID, commands),
  ])
}

function commandPage(command: Command.Cached, siblings: Command.Cached[], version: string): string {
  const description = render(command.description ?? '', command.id)
  return finish([
    ...header(command.id, command.summary ?? '', version),
    '.SH SYNOPSIS',
    ...synopsis(command),
    ...(description.trim() ? ['.SH DESCRIPTION', ...prose(description)] : []),
    ...options(command),
    ...examples(command),
    '.SH ENVIRONMENT',
    text(ENVIRONMENT_NOTE),
    `See ${crossRef(OVERVIEW_ID)} for the full list.`,
    '.SH FILES',
    '.TP',
    italic(CONFIG_FILE),
    text('The config file, unless PIPECAT_CONFIG_PATH says otherwise.'),
    ...exitStatus(),
    ...seeAlso(command.id, siblings),
  ])
}

function header(id: string, summary: string, version: string): string[] {
  const title = escape(pageName(id).toUpperCase())
  return [
    String.raw`.\" Generated by scripts/man.ts from the command definitions; do not edit. Run ` + '`npm run man`.',
    String.raw`.TH ${title} ${SECTION} "" "@pipecat\-ai/plugin\-cloud ${escape(version)}" "Pipecat Cloud"`,
    // Ragged right: long commands and paths leave no wide gaps.
    '.ad l',
    '.SH NAME',
    String.raw`${escape(pageName(id))} \- ${text(summary.replace(/\.$/v, ''))}`,
  ]
}

function synopsis(command: Command.Cached): string[] {
  // \% first: a bracketed flag is one word, never hyphenated.
  const args = Object.values(command.args).map(arg =>
    arg.required ? italic(arg.name.toUpperCase()) : String.raw`\%[${italic(arg.name.toUpperCase(), true)}]`,
  )
  const flags = visibleFlags(command).map(flag => (flag.required ? flagUsage(flag, true) : String.raw`\%[${flagUsage(flag, true, true)}]`))
  return [[bold(commandLine(command.id)), ...args, ...flags].join(' ')]
}

function options(command: Command.Cached): string[] {
  const flags = visibleFlags(command)
  if (flags.length === 0) return []
  return ['.SH OPTIONS', ...flags.flatMap(flag => option(flag, command.id))]
}

function option(flag: FlagInfo, id: string): string[] {
  const names = [flag.char ? bold(`-${flag.char}`) : undefined, flagUsage(flag, false)].filter(Boolean)
  const body = [flag.summary, flag.description].filter(Boolean).join('\n\n')
  const unmentioned = (flag.aliases ?? []).map(alias => `--${alias}`).filter(alias => !body.includes(alias))
  const extras = [
    flag.options?.length ? `One of: ${flag.options.join(', ')}.` : undefined,
    flag.type === 'option' && isPrintable(flag.default) ? `Default: ${String(flag.default)}.` : undefined,
    unmentioned.length > 0 ? `Also: ${unmentioned.join(', ')}.` : undefined,
  ].filter(Boolean)
  return ['.TP', names.join(', '), ...prose(render(body, id), '.IP'), ...(extras.length > 0 ? ['.br', text(extras.join(' '))] : [])]
}

function examples(command: Command.Cached): string[] {
  if (!command.examples?.length) return []
  return [
    '.SH EXAMPLES',
    ...command.examples.flatMap(example => {
      const lines =
        typeof example === 'string'
          ? render(example, command.id).split('\n')
          : [...render(example.description, command.id).split('\n'), render(example.command, command.id)]
      const description = lines.filter(line => !isCommand(line))
      const commands = lines.filter(line => isCommand(line)).map(line => code(`$ ${line.replace(/^\$\s*/v, '')}`))
      return ['.PP', ...(description.length > 0 ? [text(description.join(' '))] : []), '.RS 4', '.EX', ...commands, '.EE', '.RE']
    }),
  ]
}

function environment(): string[] {
  return [
    '.TP',
    bold('PIPECAT_CONFIG_PATH'),
    text(`Path of the config file, instead of ${CONFIG_FILE}. A leading ~/ is expanded.`),
    ...SETTING_NAMES.flatMap(name => {
      const fallback = (SETTING_DEFAULTS as Record<string, string>)[name]
      return ['.TP', bold(envName(name)), text(SETTING_HELP[name]), ...(fallback === undefined ? [] : ['.br', `Default: ${code(fallback)}`])]
    }),
    '.TP',
    bold('PIPECAT_HTTP_TIMEOUT'),
    text('Time limit for one HTTP request, in seconds.'),
    '.br',
    'Default: 15',
    '.TP',
    bold('HTTPS_PROXY'),
    '.TQ',
    bold('HTTP_PROXY'),
    '.TQ',
    bold('NO_PROXY'),
    text("Proxy for https and http requests, and the hosts that bypass it (Node.js's own proxy support; lower-case names work too)."),
    '.TP',
    bold('BROWSER'),
    text('The program login opens the sign-in address with, used wherever it is set (also over SSH or without a display), as '
      + "Python's webbrowser reads it: an entry with %s is a command line, %s standing for the address; several entries, "
      + 'separated by colons, are tried in turn. When "none", login never tries to open a browser, as with --headless.'),
    '.TP',
    bold('PIPECAT_OUTPUT'),
    text('When "json", every command prints JSON, as with --json (the official CLI\'s variable).'),
    '.TP',
    bold('NO_COLOR'),
    text('When set, no colours and no spinner, whatever the terminal. There are none either when the output is not a terminal (nor a spinner under --json or TERM=dumb).'),
    '.TP',
    bold('DEBUG'),
    text("When set, errors are shown with the stack trace of where they came from; DEBUG=* also prints oclif's debug log."),
  ]
}

function exitStatus(): string[] {
  return [
    '.SH EXIT STATUS',
    text('The same with and without --json:'),
    ...EXIT_CODES.flatMap(([status, meaning]) => ['.TP', bold(status), text(meaning)]),
    '.PP',
    text('Under --json a failure prints one document on stdout, {"error": {"message", "code", "exit", "suggestions"}}, whose code is one of:'),
    ...ERROR_CODE_LINES.flatMap(([name, meaning]) => ['.TP', bold(name), text(meaning)]),
  ]
}

function seeAlso(id: string, commands: Command.Cached[]): string[] {
  const refs = [...new Set(['', OVERVIEW_ID, ...commands.map(command => command.id)])].filter(other => other !== id)
  return ['.SH SEE ALSO', refs.map(other => crossRef(other)).join(',\n')]
}

function finish(lines: string[]): string {
  return `${lines.join('\n')}\n`
}

function isPrintable(value: unknown): value is boolean | number | string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

// ---------------------------------------------------------------- flags and templates

function visibleFlags(command: Command.Cached): FlagInfo[] {
  const flags = Object.values(command.flags) as FlagInfo[]
  // The command's own flags first, then the global ones (--json), as oclif's help orders them.
  const rank = (flag: FlagInfo): number => (flag.helpGroup === 'GLOBAL' ? 1 : 0)
  return flags.filter(flag => !flag.hidden).toSorted((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
}

function flagUsage(flag: FlagInfo, withChar: boolean, inWord = false): string {
  const name = withChar && flag.char ? `${bold(`-${flag.char}`, inWord)}|${bold(`--${flag.name}`, true)}` : bold(`--${flag.name}`, inWord)
  if (flag.type === 'boolean') return name
  const value = Array.isArray(flag.helpValue) ? flag.helpValue.join(' ') : (flag.helpValue ?? flag.name.toUpperCase())
  return `${name} ${italic(value)}`
}

/** oclif's help templates, for the standalone binary; anything else would be printed raw, so it is an error. */
function render(template: string, id: string): string {
  const rendered = template
  .replaceAll(/<%=\s*config\.bin\s*%>/gv, () => BIN)
  .replaceAll(/<%=\s*command\.id\s*%>/gv, () => id.replaceAll(':', ' '))
  .replaceAll(/<%=\s*config\.topicSeparator\s*%>/gv, () => ' ')
  if (rendered.includes('<%')) throw new Error(`Unsupported template in ${id}: ${template}`)
  return rendered
}

function isCommand(line: string): boolean {
  return line.startsWith(`${BIN} `) || line.startsWith('$ ')
}

function crossRef(id: string): string {
  return `${bold(pageName(id))}(${SECTION})`
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const check = process.argv.includes('--check')
  const pages = await renderManPages()
  const stale = await stalePages(pages)
  const pjsonPath = path.join(ROOT, 'package.json')
  const pjson = JSON.parse(await readFile(pjsonPath, 'utf8')) as {man?: string[]}
  const field = manField(pages)
  const fieldStale = JSON.stringify(pjson.man) !== JSON.stringify(field)
  const outdated = [...stale.map(name => `man/${name}`), ...(fieldStale ? ['package.json "man"'] : [])]
  if (check) {
    if (outdated.length > 0) {
      console.error(`Stale: ${outdated.join(', ')}.\nRun \`npm run man\` and commit the result.`)
      process.exitCode = 1
    }

    return
  }

  await mkdir(MAN_DIR, {recursive: true})
  await Promise.all(
    stale.map(async name => {
      const page = pages.find(candidate => candidate.name === name)
      const file = path.join(MAN_DIR, name)
      return page ? writeFile(file, page.roff) : rm(file)
    }),
  )
  if (fieldStale) await writeFile(pjsonPath, `${JSON.stringify({...pjson, man: field}, null, 2)}\n`)
  console.error(outdated.length > 0 ? `Wrote ${outdated.join(', ')}.` : 'Man pages are up to date.')
}

const invoked = process.argv[1]
if (invoked !== undefined && import.meta.url === pathToFileURL(path.resolve(invoked)).href) await main()
