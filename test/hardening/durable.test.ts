/**
 * No lost session, no lost write: the refresh grant spends the stored refresh
 * token (the emulator rotates it and revokes the whole login when a spent one
 * comes back, as a real provider does), so its answer must reach the file
 * whatever happens meanwhile; and nothing another command saved may be
 * written over. docs/architecture.md, "The lock and what a write promises",
 * lists the invariants; fault-matrix.test.ts walks them over every step.
 */
import {expect} from 'chai'
import {readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {runCli, startCli, waitForOutput} from '../support/cli.js'
import {
  configText,
  emulatorEnv,
  KEPT,
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
} from '../support/config.js'
import {errorLines, expectNoLeaks} from '../support/expect.js'
import {requestSeen, smallDisk, startLimited} from '../support/faults.js'
import {AUTHORIZE_URL, onTerminal} from '../support/login.js'
import {emulatorSuite} from '../support/suite.js'

const WHOAMI = ['cloud', 'auth', 'whoami']
const TOKEN_PATH = '/oauth/token'

describe('durable: no lost session, no lost write', function () {
  this.timeout(60_000)
  const suite = emulatorSuite({config: false})
  const env = (extra: Record<string, string> = {}) => emulatorEnv(suite.emulator, suite.config, extra)

  /** A login whose access token is within the refresh margin: the next command spends its refresh token. */
  async function expiringLogin() {
    const login = await oauthLogin(suite.emulator, 30)
    suite.config = login.config
    return login
  }

  /** The file parses, keeps the user's keys, and holds a session the service still accepts. */
  async function expectLiveSession(): Promise<Record<string, unknown>> {
    const data = await readConfig(suite.config.file)
    expect(data).to.deep.include(KEPT)
    expect(suite.emulator.isValidRefresh(data.refresh_token as string), 'the stored refresh token still works').to.equal(true)
    const next = await runCli(WHOAMI, {env: env()})
    expect(next.code, next.stderr).to.equal(0)
    expect(suite.emulator.stats.refreshReuseDetected, 'no spent refresh token came back').to.equal(0)
    return data
  }

  async function temporaryFiles(): Promise<string[]> {
    return (await readdir(path.dirname(suite.config.file))).filter(name => name.endsWith('.tmp'))
  }

  describe('1. the refresh grant\'s answer is saved', () => {
    it('Ctrl-C while the grant is in flight: the answer is awaited and saved, then exit 130; the next command works', async () => {
      const login = await expiringLogin()
      suite.emulator.knobs.pathLatencyMs[`POST ${TOKEN_PATH}`] = 1500
      const child = startCli(WHOAMI, {env: env()})
      await requestSeen(suite.emulator, 'POST', TOKEN_PATH)
      child.kill('SIGINT')
      const result = await child.result
      expect(result.code, result.stderr).to.equal(130)
      expectNoLeaks(result, login.refresh)
      const data = await expectLiveSession()
      expect(data.refresh_token).not.to.equal(login.refresh)
    })

    it('the answer comes after PIPECAT_HTTP_TIMEOUT: it is still awaited (its own timeout) and saved', async () => {
      await expiringLogin()
      suite.emulator.knobs.pathLatencyMs[`POST ${TOKEN_PATH}`] = 2500
      const result = await runCli(WHOAMI, {env: env({PIPECAT_HTTP_TIMEOUT: '1'})})
      expect(result.code, result.stderr).to.equal(0)
      await expectLiveSession()
    })

    it('a full disk (a small tmpfs): fails before the grant is sent, the session kept; after freeing space it works', async function () {
      const disk = await smallDisk()
      if (!disk) this.skip() // needs root to mount a tmpfs; `ulimit -f` below covers the same path without
      try {
        const tokens = suite.emulator.issueTokens({ttl: 30})
        const file = path.join(disk.dir, 'pipecatcloud.toml')
        await writeFile(file, configText({expiresIn: 30, refreshToken: tokens.refresh_token, token: tokens.access_token}), {mode: 0o600})
        suite.config = {
          async cleanup() {}, dir: disk.dir, env: {PIPECAT_CONFIG_PATH: file}, file,
        }
        const before = await readText(suite.config.file)
        await disk.fill()
        const result = await runCli(WHOAMI, {env: env()})
        expect(result.code, result.stderr).to.equal(1)
        expect(errorLines(result).error).to.contain('no space left on the device')
        expect(suite.emulator.stats.refreshGrants, 'no grant sent').to.equal(0)
        expect(await readText(suite.config.file)).to.equal(before)
        expect(await temporaryFiles()).to.deep.equal([])
        await disk.free()
        await expectLiveSession()
      } finally {
        await disk.unmount()
      }
    })
  })

  it('1. a renewed session that cannot be saved (large tokens past `ulimit -f`): tried again, then says it is gone and why', async () => {
    const login = await expiringLogin()
    suite.emulator.knobs.tokenPadding = 32_768
    // 24 blocks: 12 KiB (dash) or 24 KiB (bash): past the room made (the file and 8 KiB), short of the 33 KiB new text.
    const result = await startLimited(24, WHOAMI, env()).result
    expect(result.signal, 'not killed by SIGXFSZ').to.equal(null)
    expect(result.code, result.stderr).to.equal(1)
    const {error, suggestion} = errorLines(result)
    expect(error).to.equal(`Error: Your session was renewed, but it could not be saved to ${suite.config.file} `
      + '(the file size limit was reached (ulimit -f)); the session stored there no longer works.')
    expect(suggestion).to.match(/sign in again\.$/v)
    expect(result.stderr).not.to.contain('left as it was')
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    expect(await readConfig(suite.config.file)).to.deep.include({...KEPT, refresh_token: login.refresh, token: login.access})
    expect(await temporaryFiles()).to.deep.equal([])
  })

  it('2. stopped holding the lock in a refresh: another login breaks the stale lock; on SIGCONT the new login survives', async function () {
    this.timeout(90_000)
    await expiringLogin()
    suite.emulator.knobs.pathLatencyMs[`POST ${TOKEN_PATH}`] = 1000
    // A patient timeout: the stopped command gets its answer when it resumes, and acts on it.
    const stopped = startCli(WHOAMI, {env: env({PIPECAT_HTTP_TIMEOUT: '60'})})
    await requestSeen(suite.emulator, 'POST', TOKEN_PATH)
    stopped.kill('SIGSTOP')
    const pat = suite.emulator.issuePat()
    // Waits until the lock is stale (10 s without an update), breaks it, saves.
    const login = await runCli(['cloud', 'auth', 'login', '--with-token'], {env: env(), input: pat, timeoutMs: 40_000})
    expect(login.code, login.stderr).to.equal(0)
    expect(login.stdout).to.match(/^Logged in as /mv)
    stopped.kill('SIGCONT')
    const result = await stopped.result
    expectNoLeaks(result, pat)
    const data = await readConfig(suite.config.file)
    expect(data.token, 'the new login is on file').to.equal(pat)
    expect(data).to.deep.include(KEPT)
    expect(await temporaryFiles()).to.deep.equal([])
    // The resumed command went on with the newer sign-in.
    expect(result.code, result.stderr).to.equal(0)
  })

  describe('3. logout racing a login', () => {
    for (const json of [false, true]) {
      it(`a login saved while logout revokes is kept, and logout says so${json ? ' (--json: newerSignInKept)' : ''}`, async () => {
        const old = await oauthLogin(suite.emulator)
        suite.config = old.config
        suite.emulator.knobs.pathLatencyMs['POST /auth/logout'] = 1500
        const logout = startCli(['cloud', 'auth', 'logout', ...(json ? ['--json'] : [])], {env: env()})
        await requestSeen(suite.emulator, 'POST', '/auth/logout')
        const pat = suite.emulator.issuePat()
        const login = await runCli(['cloud', 'auth', 'login', '--with-token'], {env: env(), input: pat})
        expect(login.code, login.stderr).to.equal(0)
        const result = await logout.result
        expect(result.code, result.stderr).to.equal(0)
        expectNoLeaks(result, pat)
        const data = await readConfig(suite.config.file)
        expect(data.token, 'the newer sign-in is still on file').to.equal(pat)
        expect(suite.emulator.isValid(pat)).to.equal(true)
        if (json) {
          expect(JSON.parse(result.stdout)).to.deep.include({credentialsRemoved: false, newerSignInKept: true, revocation: 'revoked'})
        } else {
          expect(result.stdout).to.contain(`A newer sign-in was saved to ${suite.config.file} while logging out; it was kept.`)
          expect(result.stdout).not.to.contain('Logged out: removed')
        }
      })
    }
  })

  describe('4. a file size limit (ulimit -f)', () => {
    it('a refresh under `ulimit -f 0`: an error, not SIGXFSZ; no grant spent, no temporary file, the session kept', async () => {
      const login = await expiringLogin()
      const before = await readText(suite.config.file)
      const result = await startLimited(0, WHOAMI, env()).result
      expect(result.signal, 'not killed by SIGXFSZ').to.equal(null)
      expect(result.code, result.stderr).to.equal(1)
      expect(errorLines(result).error).to.contain('the file size limit was reached (ulimit -f)')
      expectNoLeaks(result, login.refresh)
      expect(suite.emulator.stats.refreshGrants).to.equal(0)
      expect(await readText(suite.config.file)).to.equal(before)
      expect(await temporaryFiles()).to.deep.equal([])
      await expectLiveSession()
    })

    it('a login under `ulimit -f 0`: says the new session could not be saved and is lost, no temporary file', async () => {
      suite.config = await tempConfig('org = "acme"\n')
      const result = await startLimited(0, ['cloud', 'auth', 'login', '--with-token'], env(), suite.emulator.issuePat()).result
      expect(result.signal).to.equal(null)
      expect(result.code, result.stderr).to.equal(1)
      expect(errorLines(result).error).to.match(/could not be saved .*file size limit.* lost/v)
      expect(await readText(suite.config.file)).to.equal('org = "acme"\n')
      expect(await temporaryFiles()).to.deep.equal([])
    })

    it('temporary files a killed process left are swept under the lock; a running process\'s and other names stay', async () => {
      suite.config = await tempConfig('org = "acme"\n')
      const folder = path.dirname(suite.config.file)
      const dead = '.pipecatcloud.toml.4194303.deadbeef.tmp'
      const alive = `.pipecatcloud.toml.${process.pid}.cafebabe.tmp`
      const other = '.other.toml.4194303.deadbeef.tmp'
      await Promise.all([dead, alive, other].map(async name => writeFile(path.join(folder, name), 'token = "left"\n', {mode: 0o600})))
      const result = await runCli(['cloud', 'auth', 'login', '--with-token'], {env: env(), input: suite.emulator.issuePat()})
      expect(result.code, result.stderr).to.equal(0)
      expect((await readdir(folder)).toSorted()).to.deep.equal([alive, other, 'pipecatcloud.toml'].toSorted())
    })
  })

  describe('5. a second Ctrl-C exits at once', () => {
    it('during sign-in (the hidden token prompt, Ctrl-C twice as keys): exit 130 at once, "Interrupted twice"', async () => {
      suite.config = await tempConfig()
      const terminal = onTerminal(suite.emulator, suite.config, ['--with-token'])
      await terminal.waitFor(/Paste your personal access token/v)
      terminal.type('\u{3}\u{3}')
      expect(await terminal.exited).to.equal(130)
      expect(terminal.seen()).to.contain('Interrupted twice; stopped at once.')
    })

    it('during sign-in (waiting for the browser, SIGINT twice): exit 130, nothing saved', async () => {
      suite.config = await tempConfig()
      const child = startCli(['cloud', 'auth', 'login', '--headless'], {env: env()})
      await waitForOutput(child, AUTHORIZE_URL)
      child.kill('SIGINT')
      child.kill('SIGINT')
      const result = await child.result
      expect(result.code, result.stderr).to.equal(130)
      expect(result.stderr).to.match(/Interrupted twice|Sign-in interrupted\.\nTry this: .* Nothing was saved/v)
    })

    it('a refresh grant in flight: the first waits for its answer, the second exits at once, saying what may be lost', async () => {
      await expiringLogin()
      suite.emulator.knobs.pathLatencyMs[`POST ${TOKEN_PATH}`] = 5000
      const child = startCli(WHOAMI, {env: env()})
      await requestSeen(suite.emulator, 'POST', TOKEN_PATH)
      const started = Date.now()
      child.kill('SIGINT')
      await new Promise(resolve => {
        setTimeout(resolve, 300)
      })
      expect(child.exitCode, 'the first Ctrl-C waits for the answer').to.equal(null)
      child.kill('SIGINT')
      const result = await child.result
      expect(result.code).to.equal(130)
      expect(Date.now() - started, 'long before the answer').to.be.below(3000)
      expect(result.stderr).to.contain('Interrupted twice; stopped at once. Your renewed session may not have been saved')
    })
  })
})
