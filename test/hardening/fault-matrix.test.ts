/**
 * The fault matrix: each step of refresh, login and logout (the moment a
 * request is held by the emulator) x each fault a process meets (Ctrl-C,
 * kill -9, SIGSTOP with another login in between then SIGCONT, a timeout),
 * plus a full disk and `ulimit -f` for each flow; then the invariants of
 * docs/architecture.md ("The lock and what a write promises"):
 *
 *   1. the file parses;
 *   2. no key the user wrote is lost (the organization tables, `org`);
 *   3. the session on disk is one the service accepts, or the user was told
 *      in words that it is gone (by the command, or by the next one);
 *   4. nothing another process saved was overwritten.
 *
 * Each cell runs the built CLI against its own emulator and config; the cells
 * run side by side in `before` (they mostly wait), then each `it` reports one.
 * Steps a request cannot mark (the write itself) are met by the disk faults,
 * and by interrupts.test.ts (Ctrl-C and kill -9 in the middle of writes).
 */
import {expect} from 'chai'
import {readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {parse} from 'smol-toml'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {type CliResult, runCli, startCli} from '../support/cli.js'
import {
  configText,
  emulatorEnv,
  KEPT,
  readText,
  type TempConfig,
  tempConfig,
} from '../support/config.js'
import {
  requestSeen,
  type SmallDisk,
  smallDisk,
  startLimited,
} from '../support/faults.js'
import {inPool} from '../support/pool.js'

type Fault = 'ctrl-c' | 'full disk' | 'kill -9' | 'sigstop, another login, sigcont' | 'timeout' | 'ulimit -f 0'

type Step = {
  /** The request held (by the emulator's per-route latency) while the fault is injected. */
  held: string;
  name: string;
}

type Flow = {
  args: string[];
  /** Faults after which the session on disk must still be accepted (the others may lose it, but must say so). */
  keepsSession: Fault[];
  name: string;
  /** The token a login saves; else the file's session is kept or renewed. */
  saves?: 'pat';
  steps: Step[];
}

const TIMED: Fault[] = ['ctrl-c', 'kill -9', 'sigstop, another login, sigcont', 'timeout']
const ALL_BUT_KILL: Fault[] = ['ctrl-c', 'full disk', 'sigstop, another login, sigcont', 'timeout', 'ulimit -f 0']

const FLOWS: Flow[] = [
  {
    args: ['cloud', 'auth', 'whoami'],
    keepsSession: ALL_BUT_KILL,
    name: 'refresh (whoami, the token expiring)',
    steps: [
      {held: 'GET /oauth/.well-known/openid-configuration', name: 'before the grant, holding the lock'},
      {held: 'POST /oauth/token', name: 'the grant in flight, holding the lock'},
      {held: 'GET /v1/users', name: 'after the answer'},
    ],
  },
  {
    args: ['cloud', 'auth', 'login', '--with-token'],
    keepsSession: ALL_BUT_KILL,
    name: 'login (a token replacing an OAuth session)',
    saves: 'pat',
    steps: [
      {held: 'GET /v1/organizations', name: 'before the save'},
      {held: 'POST /auth/logout', name: 'after the save, ending the old session'},
    ],
  },
  {
    args: ['cloud', 'auth', 'logout'],
    keepsSession: ['full disk', 'sigstop, another login, sigcont', 'timeout', 'ulimit -f 0'],
    name: 'logout (the token expiring)',
    steps: [
      {held: 'POST /oauth/token', name: 'the refresh before the revocation in flight, holding the lock'},
      {held: 'POST /auth/logout', name: 'the revocation in flight'},
    ],
  },
]

type Cell = {fault: Fault; flow: Flow; step?: Step}

const CELLS: Cell[] = FLOWS.flatMap(flow => [
  ...flow.steps.flatMap(step => TIMED.map(fault => ({fault, flow, step}))),
  {fault: 'full disk' as const, flow},
  {fault: 'ulimit -f 0' as const, flow},
])

/** What a user reads when a session is gone: the command or the next one says to sign in again. */
const TOLD_GONE = /sign in again|no longer works|may not have been saved|expired|revoked|not logged in/iv

function label({fault, flow, step}: Cell): string {
  return `${flow.name} / ${step?.name ?? 'writing'} / ${fault}`
}

/** Runs one cell and returns what broke an invariant (empty: none). */
async function runCell(cell: Cell): Promise<string[]> {
  const disk = cell.fault === 'full disk' ? await smallDisk() : undefined
  if (!disk && cell.fault === 'full disk') return [] // needs root to mount a tmpfs; `ulimit -f 0` covers the same path
  const emulator = await startEmulator()
  const isLogin = cell.flow.saves === 'pat'
  const tokens = emulator.issueTokens({ttl: isLogin ? 3600 : 30})
  const text = configText({expiresIn: isLogin ? 3600 : 30, refreshToken: tokens.refresh_token, token: tokens.access_token})
  const config = disk ? await diskConfig(disk, text) : await tempConfig(text)
  try {
    const saved = isLogin ? emulator.issuePat() : ''
    const env = emulatorEnv(emulator, config, {PIPECAT_HTTP_TIMEOUT: cell.fault === 'timeout' ? '1' : '60'})
    const run = {
      config, emulator, env, other: '', saved,
    }
    const result = await inject(cell, run, disk)
    await disk?.free()
    return await check(cell, {...run, result})
  } catch (error) {
    return [`the cell itself failed: ${(error as Error).message}`]
  } finally {
    await emulator.close()
    await (disk ? disk.unmount() : config.cleanup())
  }
}

/** A config on the small disk, written before the disk is filled. */
async function diskConfig(disk: SmallDisk, text: string): Promise<TempConfig> {
  const file = path.join(disk.dir, 'pipecatcloud.toml')
  await writeFile(file, text, {mode: 0o600})
  return {
    async cleanup() {}, dir: disk.dir, env: {PIPECAT_CONFIG_PATH: file}, file,
  }
}

/** The step reached (its request held), then the fault; `run.other` gets the token another login saved meanwhile. */
async function inject({fault, flow, step}: Cell, run: Omit<Outcome, 'result'>, disk?: SmallDisk): Promise<CliResult> {
  const {emulator, env, saved} = run
  if (fault === 'ulimit -f 0') return startLimited(0, flow.args, env, saved).result
  if (disk) {
    await disk.fill()
    return runCli(flow.args, {env, input: saved})
  }

  const [method = '', pathname = ''] = step!.held.split(' ', 2)
  emulator.knobs.pathLatencyMs[step!.held] = 2500
  const child = startCli(flow.args, {env, timeoutMs: 60_000})
  child.stdin.end(saved)
  await requestSeen(emulator, method, pathname)
  const faults: Record<Fault, () => Promise<void> | unknown> = {
    'ctrl-c': () => child.kill('SIGINT'),
    'full disk'() {}, // handled above
    'kill -9': () => child.kill('SIGKILL'),
    async 'sigstop, another login, sigcont'() {
      child.kill('SIGSTOP')
      run.other = emulator.issuePat()
      emulator.knobs.pathLatencyMs = {}
      // It may have to wait for a lock the stopped command holds to go stale (10 s).
      const login = await runCli(['cloud', 'auth', 'login', '--with-token'], {env, input: run.other, timeoutMs: 40_000})
      child.kill('SIGCONT')
      if (login.code !== 0) throw new Error(`the other login failed: ${login.stderr}`)
    },
    timeout() {}, // PIPECAT_HTTP_TIMEOUT=1 against the held request's 2.5 s
    'ulimit -f 0'() {}, // handled above
  }
  await faults[fault]()
  return child.result
}

type Outcome = {
  config: TempConfig;
  emulator: Emulator;
  env: Record<string, string | undefined>;
  /** The token another login saved meanwhile. */
  other: string;
  result: CliResult;
  /** The token this login saves. */
  saved: string;
}

async function check(cell: Cell, outcome: Outcome): Promise<string[]> {
  let data: Record<string, unknown>
  try {
    data = parse(await readText(outcome.config.file))
  } catch (error) {
    return [`the file does not parse: ${(error as Error).message}`]
  }

  const leftovers = (await readdir(path.dirname(outcome.config.file))).filter(name => name.endsWith('.tmp'))
  return [
    ...keptProblems(cell, outcome, data),
    ...await sessionProblems(cell, outcome, data),
    ...(outcome.result.signal && outcome.result.signal !== 'SIGKILL' ? [`the command was killed by ${outcome.result.signal}`] : []),
    ...(leftovers.length > 0 && cell.fault !== 'kill -9' ? [`temporary files left: ${leftovers.join(', ')}`] : []),
  ]
}

/** 2. the user's keys, and 4. what another process saved. */
function keptProblems({flow}: Cell, {other, saved}: Outcome, data: Record<string, unknown>): string[] {
  const problems: string[] = []
  for (const [key, value] of Object.entries(KEPT)) {
    if (JSON.stringify(data[key]) !== JSON.stringify(value)) problems.push(`lost the user's key ${key}`)
  }

  // A login resumed after the other one saves last: the later sign-in wins, as the user ran it.
  if (other && data.token !== other && !(flow.saves && data.token === saved)) problems.push('the other login was overwritten')
  return problems
}

/** 3. the session on disk works, or the command (or the next one) said it is gone. */
async function sessionProblems({fault, flow}: Cell, {emulator, env, result}: Outcome, data: Record<string, unknown>): Promise<string[]> {
  const problems: string[] = []
  const token = typeof data.token === 'string' ? data.token : ''
  const refresh = typeof data.refresh_token === 'string' ? data.refresh_token : ''
  if (token === '' && refresh === '') return problems
  const isLive = refresh ? emulator.isValidRefresh(refresh) : emulator.isValid(token)
  const next = await runCli(['cloud', 'auth', 'whoami'], {env: {...env, PIPECAT_HTTP_TIMEOUT: '10'}})
  const mustKeep = flow.keepsSession.includes(fault)
  if (mustKeep && !(isLive && next.code === 0)) problems.push(`the session on disk is gone (next: ${next.code} ${next.stderr.trim()})`)
  const told = TOLD_GONE.test(`${result.stdout}\n${result.stderr}`) || TOLD_GONE.test(next.stderr)
  if (!told && next.code !== 0) problems.push('the session is gone and nobody said so')
  if (mustKeep && emulator.stats.refreshReuseDetected > 0) problems.push('a spent refresh token was sent again')
  return problems
}

describe('the fault matrix: refresh, login and logout x Ctrl-C, kill -9, SIGSTOP, timeout, full disk, ulimit -f', function () {
  this.timeout(180_000)
  const outcomes = new Map<string, string[]>()

  before(async () => {
    // Cells that stop a command holding the lock wait 10 s for it to go stale: they start first.
    const ordered = CELLS.toSorted((a, b) => Number(b.fault.startsWith('sigstop')) - Number(a.fault.startsWith('sigstop')))
    await inPool(ordered, 6, async cell => {
      outcomes.set(label(cell), await runCell(cell))
    })
  })

  for (const cell of CELLS) {
    it(label(cell), () => {
      expect(outcomes.get(label(cell)), 'invariants broken').to.deep.equal([])
    })
  }
})
