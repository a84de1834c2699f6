/**
 * Ctrl-C (SIGINT): while login waits (browser sign-in, the earlier flow's long
 * poll, a token on stdin), and in the middle of writing the config file. Each
 * leaves no file (or the old one, byte for byte), no partial or temporary
 * file, no listening port, and exits 130.
 */
import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises'
import {connect, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse} from 'smol-toml'

import {type Emulator} from '../emulator/server.js'
import {
  type CliResult,
  ROOT,
  startCli,
  waitForOutput,
} from '../support/cli.js'
import {
  emulatorEnv,
  expectSameFolder,
  oauthLogin,
  snapshotFolder,
} from '../support/config.js'
import {errorLines, expectNoLeaks} from '../support/expect.js'
import {waitFor} from '../support/poll.js'
import {inPool} from '../support/pool.js'
import {emulatorSuite} from '../support/suite.js'

const AUTHORIZE_URL = /http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v
const WORKER = path.join(ROOT, 'test', 'hardening', 'interrupt-worker.ts')

async function isListening(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      resolve(false);
    })
  })
}

/** Whether this process can listen on the port (nothing else holds it). */
async function canListen(port: number): Promise<boolean> {
  const server = createServer()
  return new Promise(resolve => {
    server.once('error', () => {
      resolve(false);
    })
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      })
    })
  })
}

function expectInterrupted(result: CliResult): void {
  expect(result.code, `${result.signal}\n${result.stderr}`).to.equal(130)
  expectNoLeaks(result)
  expect(errorLines(result).error).to.match(/interrupted/iv)
}

describe('interrupts: Ctrl-C', function () {
  this.timeout(60_000)
  const suite = emulatorSuite()

  const env = () => emulatorEnv(suite.emulator, suite.config)

  it('while login waits for the browser: exit 130, no config file, the callback port closed and free', async () => {
    const child = startCli(['cloud', 'auth', 'login', '--headless'], {env: env()})
    const url = new URL(await waitForOutput(child, AUTHORIZE_URL))
    const port = Number(new URL(url.searchParams.get('redirect_uri')!).port)
    expect(await isListening(port), 'listening while it waits').to.equal(true)

    child.kill('SIGINT')
    const result = await child.result
    expectInterrupted(result)
    expect(result.stderr).to.contain('Nothing was saved')
    expect(existsSync(suite.config.file), 'no config file').to.equal(false)
    expect(existsSync(path.dirname(suite.config.file)) ? await readdir(path.dirname(suite.config.file)) : []).to.deep.equal([])
    expect(await isListening(port)).to.equal(false)
    expect(await canListen(port), `port ${port} is free again`).to.equal(true)
    expect(suite.emulator.stats.codeExchanges).to.equal(0)
  })

  it('while login waits, with an earlier sign-in on file: that file is left byte for byte, --json reports exit 130', async () => {
    const pat = suite.emulator.issuePat()
    await mkdir(path.dirname(suite.config.file), {recursive: true})
    await writeFile(suite.config.file, `token = "${pat}"\norg = "acme"\nrefresh_token = ""\ntoken_expires_at = 0\n\n[acme]\ndefault_public_key = "pk_acme"\n`, {mode: 0o600})
    const before = await snapshotFolder(path.dirname(suite.config.file))
    const child = startCli(['cloud', 'auth', 'login', '--headless', '--json'], {env: env()})
    await waitForOutput(child, AUTHORIZE_URL)
    child.kill('SIGINT')
    const result = await child.result
    expect(result.code, result.stderr).to.equal(130)
    expectNoLeaks(result, pat)
    const {error} = JSON.parse(result.stdout) as {error: {exit: number; message: string}}
    expect(error.exit).to.equal(130)
    expect(error.message).to.match(/interrupted/iv)
    expectSameFolder(await snapshotFolder(path.dirname(suite.config.file)), before)
  })

  it('during the earlier sign-in flow\'s long poll: exit 130 at once, nothing written', async () => {
    Object.assign(suite.emulator.knobs, {legacyOnly: true, longPollMs: 30_000})
    const child = startCli(['cloud', 'auth', 'login', '--headless'], {env: env()})
    await waitForOutput(child, /check that the page shows this code/v)
    // The first status poll is being held open by the service.
    await waitForRequest(suite.emulator, '/auth/status')
    child.kill('SIGINT')
    const result = await child.result
    expectInterrupted(result)
    expect(existsSync(suite.config.file)).to.equal(false)
  })

  it('while login --with-token waits for the token on stdin: exit 130, nothing written', async () => {
    const child = startCli(['cloud', 'auth', 'login', '--with-token'], {env: env()})
    // It prints and sends nothing while it reads stdin: wait until it sits idle there.
    await waitUntilIdle(child.pid!)
    child.kill('SIGINT')
    const result = await child.result
    expectInterrupted(result)
    expect(existsSync(suite.config.file)).to.equal(false)
    expect(suite.emulator.requests).to.deep.equal([])
  })

  it('while whoami waits for the service: exit 130 with one error line (one JSON document under --json), the file untouched', async () => {
    const pat = suite.emulator.issuePat()
    await mkdir(path.dirname(suite.config.file), {recursive: true})
    await writeFile(suite.config.file, `token = "${pat}"\norg = "acme"\n`, {mode: 0o600})
    const before = await snapshotFolder(path.dirname(suite.config.file))
    suite.emulator.knobs.failures['/v1/users'] = {kind: 'hang'}
    const child = startCli(['cloud', 'auth', 'whoami'], {env: {...env(), PIPECAT_HTTP_TIMEOUT: '30'}})
    await waitForRequest(suite.emulator, '/v1/users')
    child.kill('SIGINT')
    const result = await child.result
    expect(result.code, `${result.code} ${result.signal}`).to.equal(130)
    expect(result.stderr).to.match(/^Error: Interrupted\.$/mv)
    expectNoLeaks(result, pat)
    expectSameFolder(await snapshotFolder(path.dirname(suite.config.file)), before)

    suite.emulator.requests.length = 0
    const json = startCli(['cloud', 'auth', 'whoami', '--json'], {env: {...env(), PIPECAT_HTTP_TIMEOUT: '30'}})
    await waitForRequest(suite.emulator, '/v1/users')
    json.kill('SIGINT')
    const jsonResult = await json.result
    expect(jsonResult.code).to.equal(130)
    const {error} = JSON.parse(jsonResult.stdout) as {error: {exit: number; message: string}}
    expect(error).to.deep.include({message: 'Interrupted.'})
    expect(error.exit).to.equal(130)
    expectSameFolder(await snapshotFolder(path.dirname(suite.config.file)), before)
  })

  it('during whoami, after it renewed an expiring token: exit 130 with the message (JSON under --json), the renewed token kept', async () => {
    // proper-lockfile (taken for the refresh) brings signal-exit and its own SIGINT listener: Ctrl-C must still be ours.
    for (const json of [false, true]) {
      suite.emulator.reset()
      const login = await oauthLogin(suite.emulator, 10)
      try {
        suite.emulator.knobs.failures['/v1/users'] = {kind: 'hang'}
        const child = startCli(['cloud', 'auth', 'whoami', ...(json ? ['--json'] : [])], {env: {...emulatorEnv(suite.emulator, login.config), PIPECAT_HTTP_TIMEOUT: '30'}})
        await waitForRequest(suite.emulator, '/v1/users')
        expect(suite.emulator.stats.refreshGrants, 'the token was renewed first').to.equal(1)
        child.kill('SIGINT')
        const result = await child.result
        expect(result.code, `${result.signal}\n${result.stderr}`).to.equal(130)
        expectNoLeaks(result, login.access, login.refresh)
        if (json) {
          const {error} = JSON.parse(result.stdout) as {error: {message: string}}
          expect(error.message).to.equal('Interrupted.')
        } else {
          expect(result.stderr).to.match(/^Error: Interrupted\.$/mv)
          expect(result.stderr).to.match(/^Try this: Run `pipecat cloud auth whoami` again\.$/mv)
        }

        const saved = parse(await readFile(login.config.file, 'utf8'))
        expect(saved.refresh_token, 'the rotated refresh token was saved').to.not.equal(login.refresh)
        expect(suite.emulator.isValid(saved.token as string)).to.equal(true)
      } finally {
        await login.config.cleanup()
      }
    }
  })

  describe('in the middle of writing the config file', () => {
    type Round = {code: null | number; files: string[]; round: unknown; signal: NodeJS.Signals | null}

    /** A worker writing in a loop gets SIGINT at a random moment; returns how it ended and what it left. */
    async function interruptWriter(mode: 'update' | 'write', delayMs: number): Promise<Round> {
      const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-interrupt-'))
      const file = path.join(dir, 'pipecatcloud.toml')
      try {
        const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WORKER, mode, file], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']})
        let stderr = ''
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString()
        })
        const exit = new Promise<{code: null | number; signal: NodeJS.Signals | null}>(resolve => {
          child.on('exit', (code, signal) => {
            resolve({code, signal});
          })
        })
        await new Promise(resolve => {
          child.stdout!.once('data', resolve)
        })
        await new Promise(resolve => {
          setTimeout(resolve, delayMs)
        })
        child.kill('SIGINT')
        const {code, signal} = await exit
        expect(stderr, 'no stack trace').not.to.match(/^\s+at /mv)
        const data = parse(await readFile(file, 'utf8'))
        expect(Object.keys(data['user-namespace'] as object), 'a whole file').to.have.length(2000)
        return {
          code, files: (await readdir(dir)).toSorted(), round: (data.progress as {round: number}).round, signal,
        }
      } finally {
        await rm(dir, {force: true, recursive: true})
      }
    }

    const delays = [0, 3, 7, 12, 18, 25, 33, 41]

    /** Interrupted inside a write: deferred to after the rename, then 130. Elsewhere Node's default applies (killed by SIGINT, which shells report as 130 too). */
    const expectEnded = (round: Round) => {
      expect(round.files, 'only the config file is left (no temporary file, no lock)').to.deep.equal(['pipecatcloud.toml'])
      expect(round.code === 130 || (round.code === null && round.signal === 'SIGINT'), `${round.code} ${round.signal}`).to.equal(true)
    }

    it('ConfigStore.write: the old or the new file, never a partial one; no temporary file; exit 130', async function () {
      this.timeout(120_000)
      const rounds = await inPool(delays, 4, async delayMs => interruptWriter('write', delayMs))
      for (const round of rounds) expectEnded(round)
      // Most of a round is spent inside the write: some interrupts must have landed there and been deferred.
      expect(rounds.filter(round => round.code === 130), JSON.stringify(rounds)).to.have.length.greaterThan(0)
    })

    it('a locked update (read, parse, write): the old or the new file, and the lock released whenever it is interrupted', async function () {
      this.timeout(120_000)
      // Here much of a round is reading and parsing the file under the lock, outside the write: both endings are expected.
      const rounds = await inPool(delays, 4, async delayMs => interruptWriter('update', delayMs))
      for (const round of rounds) expectEnded(round)
    })
  })
})

/** Resolves once the emulator has received a request for `requestPath`. */
async function waitForRequest(emulator: Emulator, requestPath: string): Promise<void> {
  await waitFor(() => emulator.requests.some(request => request.path === requestPath), {timeoutMs: 15_000, what: `a request for ${requestPath}`})
}

/** Resolves once the process has used no CPU for a while (start-up is over; it waits), per /proc/<pid>/stat. */
async function waitUntilIdle(pid: number, quietMs = 600): Promise<void> {
  const cpu = async () => {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ', 2)[1]!.split(' ')
    return Number(fields[11]) + Number(fields[12]) // utime + stime
  }

  let last = await cpu()
  let since = Date.now()
  await waitFor(async () => {
    const now = await cpu()
    if (now !== last) {
      last = now
      since = Date.now()
    }

    return Date.now() - since >= quietMs
  }, {intervalMs: 50, timeoutMs: 20_000, what: 'the process to go idle'})
}
