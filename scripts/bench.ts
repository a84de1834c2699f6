/**
 * `npm run bench`: whole-process timings of the built CLI, measured with Node
 * itself, against a minimal oclif 5 CLI (test/fixtures/minimal-cli) measured in
 * the same run, plus the production install footprint.
 *
 * Both CLIs run as shipped: from a copy with a generated oclif.manifest.json
 * (the plugin's copy holds bin/, dist/ and package.json, as `npm pack` ships
 * them, and uses this repository's node_modules). Every case runs WARMUP times,
 * then RUNS times, round-robin in a shuffled order so that a busy moment on the
 * machine hits every case alike. The table shows the median wall time, and the
 * mean CPU time (user + system) of the process, which a busy machine disturbs
 * less.
 *
 * It is a measurement, not a test: it exits 0 whether targets are met or not,
 * and says which were missed (1 only when it could not measure).
 *
 *   BENCH_RUNS=25 npm run bench
 */
import {execFileSync, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import {cpus, tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

import {type Emulator, startEmulator} from '../test/emulator/server.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'minimal-cli')
const OCLIF = path.join(ROOT, 'node_modules', 'oclif', 'bin', 'run.js')
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS) || 20)
const WARMUP = 2
const LATENCY_MS = 300
/** A run that takes longer than this is stuck: it is killed and the bench stops. */
const RUN_TIMEOUT_MS = 30_000
/** Linux reports a child's CPU time in clock ticks of 10 ms. */
const TICK_MS = 10

const TARGETS = {
  installBytes: 8 * 1024 * 1024,
  installPackages: 75,
  roundTrips: 1.2,
  startRatio: 1,
}

type Case = {
  args: string[];
  bin: string;
  env: NodeJS.ProcessEnv;
  /** The exit code this case must end with (any other means the measurement is wrong). */
  exit: number;
  /** What runs, for the table. */
  label: string;
  name: string;
}

type Timing = {cpuMs: number; wallMs: number}

type Row = {measured: string; name: string; target: string; verdict: 'FAIL' | 'PASS'}

type Footprint = {bytes: number; packages: number}

const children = new Set<ReturnType<typeof spawn>>()

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'pipecat-bench-'))
  let emulator: Emulator | undefined
  const stopChildren = () => {
    for (const child of children) child.kill('SIGKILL')
  }

  process.once('SIGINT', () => {
    stopChildren()
    process.exitCode = 130
  })
  try {
    console.log('Preparing the plugin as packed and the minimal CLI, each with a generated manifest...')
    const [plugin, minimal] = await Promise.all([packedPlugin(work), minimalCli(work)])
    emulator = await startEmulator({knobs: {latencyMs: LATENCY_MS}})
    const pat = emulator.issuePat()
    const signedIn = path.join(work, 'signed-in', 'pipecatcloud.toml')
    await mkdir(path.dirname(signedIn), {mode: 0o700})
    await writeFile(signedIn, `token = "${pat}"\norg = "user-namespace"\nrefresh_token = ""\ntoken_expires_at = 0\n\n[user-namespace]\ndefault_public_key = "pk_bench"\n`, {
      mode: 0o600,
    })
    // No file at all: whoami's "not logged in" path.
    const noFile = benchEnv({PIPECAT_CONFIG_PATH: path.join(work, 'none', 'pipecatcloud.toml')})
    const withFile = benchEnv({PIPECAT_API_HOST: emulator.url, PIPECAT_CONFIG_PATH: signedIn, PIPECAT_DASHBOARD_HOST: emulator.url})
    const cli = (name: string, bin: string, args: string[], {env = noFile, exit = 0} = {}): Case => ({
      args,
      bin,
      env,
      exit,
      label: `${bin === minimal ? 'minimal' : 'pipecat'} ${args.join(' ')}`,
      name,
    })
    const cases = [
      cli('minimal hello', minimal, ['hello']),
      cli('minimal --help', minimal, ['--help']),
      cli('minimal --version', minimal, ['--version']),
      cli('cloud config --json', plugin, ['cloud', 'config', '--json'], {env: withFile}),
      cli('cloud config', plugin, ['cloud', 'config'], {env: withFile}),
      cli('pipecat --help', plugin, ['--help']),
      cli('pipecat --version', plugin, ['--version']),
      cli('whoami, not logged in', plugin, ['cloud', 'auth', 'whoami'], {exit: 4}),
      cli(`whoami, ${LATENCY_MS} ms a request`, plugin, ['cloud', 'auth', 'whoami'], {env: withFile}),
    ]

    const latency = await requestTime(emulator, pat)
    console.log(`Emulator at ${emulator.url}: one request takes ${latency.toFixed(0)} ms (latencyMs ${LATENCY_MS}).`)
    console.log(`Timing ${cases.length} cases: ${WARMUP} warm-up and ${RUNS} measured runs each, round-robin...`)
    emulator.reset()
    const timings = await timeCases(cases)
    const rows = targetRows(timings, latency, await installFootprint(), whoamiRequests(emulator))
    printTables(cases, timings, rows)
    printMachine()
    const missed = rows.filter(row => row.verdict === 'FAIL')
    console.log(missed.length === 0 ? '\nAll targets met.' : `\nTargets missed: ${missed.map(row => row.name).join('; ')}.`)
  } finally {
    stopChildren()
    await emulator?.close()
    await rm(work, {force: true, recursive: true})
  }
}

// ------------------------------------------------------------------ the two CLIs

/** The plugin laid out as `npm pack` ships it (bin, dist, package.json, manifest), using this repo's node_modules. */
async function packedPlugin(work: string): Promise<string> {
  const dir = path.join(work, 'plugin')
  await mkdir(path.join(dir, 'bin'), {recursive: true})
  await Promise.all([
    cp(path.join(ROOT, 'bin', 'run.js'), path.join(dir, 'bin', 'run.js')),
    cp(path.join(ROOT, 'dist'), path.join(dir, 'dist'), {recursive: true}),
    cp(path.join(ROOT, 'package.json'), path.join(dir, 'package.json')),
    symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir'),
  ])
  generateManifest(dir)
  return path.join(dir, 'bin', 'run.js')
}

/** The baseline, test/fixtures/minimal-cli, copied so that its manifest is generated outside the repository. */
async function minimalCli(work: string): Promise<string> {
  const dir = path.join(work, 'minimal')
  await cp(FIXTURE, dir, {filter: source => path.basename(source) !== 'oclif.manifest.json', recursive: true})
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  generateManifest(dir)
  return path.join(dir, 'bin', 'run.js')
}

function generateManifest(dir: string): void {
  execFileSync(process.execPath, [OCLIF, 'manifest'], {cwd: dir, env: benchEnv({}), stdio: 'ignore'})
}

/** This environment without anything that changes how either CLI runs. */
function benchEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([key]) => !/^(?:PIPECAT_|DEBUG$|NODE_OPTIONS$|NODE_ENV$|https?_proxy$|no_proxy$)/iv.test(key))
  return {
    ...Object.fromEntries(kept), BROWSER: 'none', NO_COLOR: '1', ...extra,
  }
}

// ------------------------------------------------------------------ timing

/** CPU time (user + system) of this process's waited-for children, in milliseconds; Linux only. */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ', 2)[1]!.split(' ')
    return (Number(fields[13]) + Number(fields[14])) * TICK_MS // cutime, cstime (fields 16 and 17)
  } catch {
    return NaN
  }
}

/** One whole process, from spawn to exit. */
async function timeOnce({args, bin, env, exit, name}: Case): Promise<Timing> {
  const cpuBefore = childrenCpuMs()
  const started = performance.now()
  const child = spawn(process.execPath, [bin, ...args], {env, stdio: ['ignore', 'ignore', 'pipe']})
  children.add(child)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
  }, RUN_TIMEOUT_MS)
  const code = await new Promise<null | number>(resolve => {
    child.on('exit', exitCode => {
      resolve(exitCode)
    })
  })
  const wallMs = performance.now() - started
  clearTimeout(timer)
  children.delete(child)
  if (code !== exit) throw new Error(`${name} exited with ${code}, expected ${exit}:\n${stderr}`)
  return {cpuMs: childrenCpuMs() - cpuBefore, wallMs}
}

async function timeCases(cases: Case[]): Promise<Map<string, Timing>> {
  const samples = new Map<string, Timing[]>(cases.map(item => [item.name, []]))
  for (let round = 0; round < WARMUP + RUNS; round++) {
    for (const item of shuffled(cases)) {
      const timing = await timeOnce(item)
      if (round >= WARMUP) samples.get(item.name)!.push(timing)
    }

    process.stdout.write(round + 1 === WARMUP + RUNS ? '.\n' : '.')
  }

  const summary = (values: Timing[]): Timing => ({cpuMs: mean(values.map(value => value.cpuMs)), wallMs: median(values.map(value => value.wallMs))})
  return new Map(Array.from(samples, ([name, values]) => [name, summary(values)]))
}

/** What one request to the emulator really takes (its latency knob at work), through Node's own client. */
async function requestTime(emulator: Emulator, pat: string): Promise<number> {
  const times: number[] = []
  for (let index = 0; index < 3; index++) {
    const started = performance.now()
    const response = await fetch(`${emulator.url}/v1/users`, {headers: {authorization: `Bearer ${pat}`}})
    await response.arrayBuffer()
    times.push(performance.now() - started)
  }

  return median(times)
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items]
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1))
    const swap = copy[index]
    copy[index] = copy[other]!
    copy[other] = swap!
  }

  return copy
}

// ------------------------------------------------------------------ footprint

/** `npm ls --omit=dev --all --parseable`: the production packages, and their size on disk (each file once; nested node_modules are packages of their own). */
async function installFootprint(): Promise<Footprint> {
  let output: string
  try {
    output = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
  } catch (error) {
    // npm ls exits 1 on an "extraneous" or "invalid" tree, and still lists it.
    output = (error as {stdout?: string}).stdout ?? ''
  }

  const lines = output.split('\n').map(line => line.trim())
  const packages = [...new Set(lines.filter(line => line && line !== ROOT))]
  const seen = new Set<string>()
  let bytes = 0
  for (const dir of packages) bytes += await diskUsage(dir, seen)
  return {bytes, packages: packages.length}
}

async function diskUsage(dir: string, seen: Set<string>): Promise<number> {
  let entries
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch {
    return 0
  }

  let total = 0
  for (const entry of entries) {
    if (entry.name === 'node_modules') continue
    const full = path.join(dir, entry.name)
    const info = await lstat(full)
    const key = `${info.dev}:${info.ino}`
    if (seen.has(key)) continue
    seen.add(key)
    total += info.blocks * 512
    if (entry.isDirectory()) total += await diskUsage(full, seen)
  }

  return total
}

// ------------------------------------------------------------------ report

type WhoamiRequests = {perRun: number; spreadMs: number}

/** How many requests one whoami sent, and how far apart they arrived at most (all at once: one round trip). */
function whoamiRequests(emulator: Emulator): WhoamiRequests {
  const times = emulator.requests.map(request => request.at).toSorted((a, b) => a - b)
  const runs: number[][] = []
  for (const at of times) {
    const current = runs.at(-1)
    // Runs are at least one latency apart; the requests of one run come within a few milliseconds.
    if (current && at - current[0]! < LATENCY_MS / 2) current.push(at)
    else runs.push([at])
  }

  return {perRun: times.length / (WARMUP + RUNS), spreadMs: Math.max(...runs.map(run => run.at(-1)! - run[0]!))}
}

function targetRows(timings: Map<string, Timing>, latency: number, footprint: Footprint, requests: WhoamiRequests): Row[] {
  const wall = (name: string) => timings.get(name)!.wallMs
  const ratio = (name: string, baseline: string): Row => {
    const value = wall(name) / wall(baseline)
    const cpu = timings.get(name)!.cpuMs / timings.get(baseline)!.cpuMs
    return {
      measured: `${value.toFixed(2)}x (CPU ${cpu.toFixed(2)}x)`,
      name: `${name} vs ${baseline}`,
      target: `<= ${TARGETS.startRatio}x`,
      verdict: value <= TARGETS.startRatio ? 'PASS' : 'FAIL',
    }
  }

  const extra = wall(`whoami, ${LATENCY_MS} ms a request`) - wall('cloud config')
  const roundTrips = extra / LATENCY_MS
  const megabytes = footprint.bytes / 1024 / 1024
  const rows: Row[] = [
    ratio('cloud config --json', 'minimal hello'),
    ratio('pipecat --help', 'minimal --help'),
    ratio('pipecat --version', 'minimal --version'),
    ratio('whoami, not logged in', 'minimal hello'),
    {
      measured: `${roundTrips.toFixed(2)} (+${extra.toFixed(0)} ms; ${requests.perRun} requests sent within ${requests.spreadMs.toFixed(0)} ms)`,
      name: `whoami at ${LATENCY_MS} ms a request, minus cloud config, in round trips`,
      target: `<= ${TARGETS.roundTrips}`,
      verdict: roundTrips <= TARGETS.roundTrips ? 'PASS' : 'FAIL',
    },
    {
      measured: String(footprint.packages),
      name: 'production install: packages (npm ls --omit=dev --all)',
      target: `<= ${TARGETS.installPackages}`,
      verdict: footprint.packages <= TARGETS.installPackages ? 'PASS' : 'FAIL',
    },
    {
      measured: `${megabytes.toFixed(2)} MB`,
      name: 'production install: size on disk',
      target: `<= ${TARGETS.installBytes / 1024 / 1024} MB`,
      verdict: megabytes <= TARGETS.installBytes / 1024 / 1024 ? 'PASS' : 'FAIL',
    },
  ]
  if (latency < LATENCY_MS * 0.9) {
    rows.push({
      measured: `${latency.toFixed(0)} ms a request`,
      name: 'the emulator applies latencyMs (else the round trips mean nothing)',
      target: `>= ${LATENCY_MS} ms`,
      verdict: 'FAIL',
    })
  }

  return rows
}

function printTables(cases: Case[], timings: Map<string, Timing>, rows: Row[]): void {
  console.log(`\nWhole process, spawn to exit: median wall time of ${RUNS} runs, mean CPU time (user + system)`)
  const width = Math.max(...cases.map(item => item.name.length))
  console.log(`  ${'case'.padEnd(width)}   wall ms  CPU ms   command`)
  for (const item of cases) {
    const {cpuMs, wallMs} = timings.get(item.name)!
    console.log(`  ${item.name.padEnd(width)}  ${wallMs.toFixed(0).padStart(7)}  ${cpuMs.toFixed(0).padStart(6)}   ${item.label}`)
  }

  console.log('\nTargets (judged on the wall-time medians of this run; CPU-time ratios for comparison):')
  const widths = {
    measured: Math.max(...rows.map(row => row.measured.length)),
    name: Math.max(...rows.map(row => row.name.length)),
  }
  for (const row of rows) {
    console.log(`  ${row.verdict.padEnd(4)}  ${row.name.padEnd(widths.name)}  ${row.measured.padStart(widths.measured)}   target ${row.target}`)
  }
}

function printMachine(): void {
  let model = cpus()[0]?.model ?? 'unknown CPU'
  try {
    model = /^model name\s*:\s*(.+)$/mv.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model
  } catch {}

  let processors = String(cpus().length)
  try {
    processors = execFileSync('nproc', {encoding: 'utf8'}).trim()
  } catch {}

  const [load] = readLoad()
  console.log(`\nMachine: nproc ${processors}, ${model}, Node ${process.version}, ${process.platform}/${process.arch}; load average ${load} at the end.`)
}

function readLoad(): string[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ', 3)
  } catch {
    return ['unknown']
  }
}

try {
  await main()
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
