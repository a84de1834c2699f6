/**
 * `npm run demo`: the whole account story against the local emulator, with a
 * throwaway config file, so it needs no account and touches nothing of yours.
 *
 *   pipecat cloud auth login --headless   (the demo plays the browser and approves)
 *   pipecat cloud auth whoami
 *   pipecat cloud config
 *   pipecat cloud auth logout
 *
 * Each command line is printed, then its output. Exits 0 when every step
 * succeeded, 1 at the first that did not.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {playBrowser} from '../test/emulator/browser.js'
import {type Emulator, startEmulator} from '../test/emulator/server.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
/** The authorization URL login prints: the emulator's /oauth/authorize with its query. */
const AUTHORIZE_URL = /https?:\/\/[^\s"'<>]+\/oauth\/authorize\?[^\s"'<>]+/v
const STEP_TIMEOUT_MS = 60_000

const tty = process.stdout.isTTY && !process.env.NO_COLOR
const style = (code: string, text: string): string => (tty ? `\u{1B}[${code}m${text}\u{1B}[0m` : text)

class StepError extends Error {}

type Step = {
  args: string[];
  /** Called with the child while it runs (login: play the browser). */
  during?: (child: ChildProcess, output: Output) => Promise<void>;
}

type Output = {
  /** Resolves with the first match of `pattern` in the output, stdout or stderr. */
  waitFor(pattern: RegExp): Promise<string>;
}

async function main(): Promise<number> {
  if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) build()

  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-demo-'))
  const emulator = await startEmulator()
  const env = demoEnv(emulator, path.join(dir, 'pipecatcloud.toml'))
  console.log(style('2', `Pipecat Cloud emulator at ${emulator.url}; config file ${env.PIPECAT_CONFIG_PATH} (temporary).`))

  const steps: Step[] = [
    {args: ['cloud', 'auth', 'login', '--headless'], during: approveSignIn},
    {args: ['cloud', 'auth', 'whoami']},
    {args: ['cloud', 'config']},
    {args: ['cloud', 'auth', 'logout']},
  ]
  try {
    for (const step of steps) await runStep(step, env)
    console.log(`\n${style('32', 'Demo complete:')} signed in, looked around and signed out; your own config was not touched.`)
    return 0
  } catch (error) {
    if (!(error instanceof StepError)) throw error
    console.error(`\n${style('31', 'Demo failed:')} ${error.message}`)
    return 1
  } finally {
    await emulator.close()
    await rm(dir, {force: true, recursive: true})
  }
}

/** The user's environment, pointed at the emulator and the temporary config; their own PIPECAT_* settings left out. */
function demoEnv(emulator: Emulator, configPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PIPECAT_')) env[key] = value
  return {
    ...env, PIPECAT_API_HOST: emulator.url, PIPECAT_CONFIG_PATH: configPath, PIPECAT_DASHBOARD_HOST: emulator.url,
  }
}

async function runStep(step: Step, env: NodeJS.ProcessEnv): Promise<void> {
  const line = `pipecat ${step.args.join(' ')}`
  console.log(`\n${style('1', `$ ${line}`)}`)
  const child = spawn(process.execPath, [BIN, ...step.args], {env, stdio: ['pipe', 'pipe', 'pipe']})
  const watchers: Array<(text: string) => void> = []
  let seen = ''
  const onData = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
    stream.write(chunk)
    seen += chunk.toString('utf8')
    for (const watch of watchers) watch(seen)
  }

  child.stdout.on('data', onData(process.stdout))
  child.stderr.on('data', onData(process.stderr))
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      resolve(code ?? (signal ? 128 : 1))
    })
  })
  const timer = setTimeout(() => {
    child.kill('SIGINT')
  }, STEP_TIMEOUT_MS)
  const output: Output = {
    waitFor: async pattern =>
      new Promise((resolve, reject) => {
        const check = (text: string): void => {
          const match = pattern.exec(text)
          if (match) resolve(match[0])
        }

        watchers.push(check)
        check(seen)
        exited
        .then(code => {
          reject(new StepError(`\`${line}\` ended (exit ${code}) before printing ${pattern}.`))
        })
        .catch(reject)
      }),
  }

  try {
    if (step.during) await step.during(child, output)
    const code = await exited
    if (code !== 0) throw new StepError(`\`${line}\` exited with ${code}.`)
  } finally {
    clearTimeout(timer)
    // Login may read a pasted redirect URL from stdin; closing it only after the step keeps that path quiet.
    child.stdin.end()
    if (child.exitCode === null) child.kill('SIGINT')
  }
}

/** Plays the user's browser: opens the URL login printed and approves, which redirects to login's loopback callback. */
async function approveSignIn(_child: ChildProcess, output: Output): Promise<void> {
  const url = await output.waitFor(AUTHORIZE_URL)
  console.log(style('2', '  (the demo opens that URL in its own browser and approves the sign-in)'))
  const page = await playBrowser(url)
  if (!page.callbackUrl || page.status !== 200) {
    throw new StepError(`the sign-in did not come back to the CLI (HTTP ${page.status}).`)
  }
}

function build(): void {
  console.log(style('2', 'Building (npm run build)...'))
  const result = spawnSync('npm', ['run', 'build'], {cwd: ROOT, stdio: 'inherit'})
  if (result.status !== 0) {
    console.error('The build failed.')
    process.exit(1)
  }
}

process.exitCode = await main()
