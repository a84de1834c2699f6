/**
 * The official Pipecat Cloud CLI (Python), run from source as a test oracle:
 * whatever the plugin writes, the official CLI must read, and the other way
 * round. Found at PIPECAT_OFFICIAL_CLI, else beside the project in
 * ../shared/official-cli/pcc. It needs Debian's Python and a few apt packages
 * (.ci/run installs them); `pcc --check` says whether it can run here.
 */
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Emulator} from '../emulator/server.js'

import {
  type CliResult,
  MACHINE_VARIABLES,
  ROOT,
  startProcess,
} from './cli.js'

const CANDIDATES = [
  process.env.PIPECAT_OFFICIAL_CLI,
  path.resolve(ROOT, '..', 'shared', 'official-cli', 'pcc'),
  '/work/shared/official-cli/pcc',
]

export const PCC = CANDIDATES.find(candidate => candidate !== undefined && existsSync(candidate))

/** Undefined when the official CLI can run here; else why not, in a line. */
export function officialCliProblem(): string | undefined {
  if (!PCC) return `the official CLI is not at ${CANDIDATES.filter(Boolean).join(' or ')} (set PIPECAT_OFFICIAL_CLI)`
  const check = spawnSync(PCC, ['--check'], {encoding: 'utf8'})
  if (check.status === 0) return undefined
  const [firstLine = ''] = check.stderr.trim().split('\n', 1)
  return firstLine === '' ? `pcc --check exited with ${check.status ?? check.signal}` : firstLine
}

/**
 * In a before() hook: the official CLI must be able to run. Under CI it must
 * (a missing package fails the suite); elsewhere the suite is skipped, saying
 * why in one line.
 */
export async function requireOfficialCli(context: Mocha.Context): Promise<void> {
  const problem = officialCliProblem()
  if (!problem) return
  if (process.env.CI === 'true') throw new Error(`The official CLI cannot run: ${problem}`)
  console.log(`      (skipped: the official CLI cannot run here: ${problem})`)
  context.skip()
}

/**
 * A `BROWSER` for the official CLI's sign-in: a program named xdg-open (a
 * name Python's webbrowser module opens) that fetches the sign-in address in
 * the background, following the emulator's auto-approval to the loopback
 * callback. It must not wait: the official CLI blocks until it returns.
 */
export async function approvingBrowser(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-browser-'))
  const program = path.join(dir, 'xdg-open')
  const fetchIt = 'fetch(process.argv[1]).then(r => r.text()).catch(e => { console.error(String(e)); process.exit(1) })'
  await writeFile(program, `#!/bin/sh\n( '${process.execPath}' -e '${fetchIt}' "$1" >/dev/null 2>&1 & )\nexit 0\n`)
  await chmod(program, 0o755)
  return dir
}

export type OfficialOptions = {
  /** The folder of approvingBrowser(), put first on PATH as BROWSER=xdg-open. */
  browser?: string;
  env?: Record<string, string>;
  input?: string;
}

/** Runs the official CLI against the emulator (over TLS) and a config file, as a user of both CLIs would. */
export async function pcc(emulator: Emulator, configFile: string, args: string[], options: OfficialOptions = {}): Promise<CliResult> {
  if (!PCC) throw new Error('the official CLI is not here')
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!MACHINE_VARIABLES.test(key)) env[key] = value
  Object.assign(env, {
    BROWSER: options.browser ? 'xdg-open' : 'none',
    COLUMNS: '200',
    NO_COLOR: '1',
    NODE_EXTRA_CA_CERTS: emulator.caFile,
    PATH: options.browser ? `${options.browser}${path.delimiter}${process.env.PATH}` : process.env.PATH,
    PIPECAT_API_HOST: emulator.url,
    PIPECAT_CONFIG_PATH: configFile,
    PIPECAT_DASHBOARD_HOST: emulator.url,
    SSL_CERT_FILE: emulator.caFile,
    TERM: 'dumb',
    ...options.env,
  })
  // setsid: no controlling terminal, so a prompt reads stdin as it would in CI
  const child = startProcess('setsid', ['--wait', PCC, ...args], {env, timeoutMs: 60_000})
  child.stdin.end(options.input ?? '')
  return child.result
}
