/**
 * Both CLIs on one file, judged by the official CLI itself (not by a TOML
 * parser standing in for it): after every kind of write the plugin makes, the
 * official CLI shows its configuration, says who is signed in and signs out;
 * after the official CLI signs in (browser or personal access token), the
 * plugin uses, refreshes and ends that session; and refreshes that alternate
 * between the two leave one working session. The emulator serves TLS, as the
 * official CLI requires.
 */
import {expect} from 'chai'
import {
  mkdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises'
import path from 'node:path'
import {parse} from 'smol-toml'

import {playBrowser} from '../emulator/browser.js'
import {type CliResult, runCli} from '../support/cli.js'
import {configText, emulatorEnv, exists} from '../support/config.js'
import {finished, printedUrl, startLogin} from '../support/login.js'
import {approvingBrowser, pcc, requireOfficialCli} from '../support/official-cli.js'
import {emulatorSuite} from '../support/suite.js'

const HTTPS_AUTHORIZE_URL = /https:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v
const EMAIL = 'dev@example.com'

describe('both CLIs on one file: the official CLI reads what the plugin writes, and the other way round', function () {
  this.timeout(120_000)

  const suite = emulatorSuite({tls: true})
  let browser: string

  before(async function () {
    await requireOfficialCli(this)
    browser = await approvingBrowser()
  })

  after(async () => {
    if (browser) await rm(browser, {force: true, recursive: true})
  })

  const trust = () => ({NODE_EXTRA_CA_CERTS: suite.emulator.caFile})
  const plugin = async (args: string[], input?: string) =>
    runCli(args, {env: emulatorEnv(suite.emulator, suite.config, trust()), input})
  const official = async (args: string[], options: {browser?: boolean; input?: string} = {}) =>
    pcc(suite.emulator, suite.config.file, args, {browser: options.browser ? browser : undefined, input: options.input})

  /** The official CLI read the file: it ran its command, with no traceback and no complaint about the file. */
  function expectRead(result: CliResult, what: string): void {
    const output = result.stdout + result.stderr
    expect(output, `${what}: the official CLI refused the file`).not.to.match(/Traceback|not valid TOML|must be dictionaries|ConfigError/v)
    expect(result.code, `${what} exit code; output:\n${output}`).to.equal(0)
  }

  /** What the official CLI makes of the file now: its configuration, and who is signed in (or that no one is). */
  async function officialSees(signedIn: boolean): Promise<void> {
    expectRead(await official(['--show-cli-config']), '--show-cli-config')
    const whoami = await official(['auth', 'whoami'])
    expectRead(whoami, 'auth whoami')
    expect(whoami.stdout).to.contain(signedIn ? EMAIL : 'You are not logged in')
  }

  /** The official CLI signs out of the file the plugin wrote, and the plugin sees it. */
  async function officialLogsOut(): Promise<void> {
    const logout = await official(['auth', 'logout'])
    expectRead(logout, 'auth logout')
    expect(logout.stdout).to.match(/Logged out|credentials .*removed/iv)
    expect(await exists(suite.config.file), 'the official logout deletes the file').to.equal(false)
    const whoami = await plugin(['cloud', 'auth', 'whoami'])
    expect(whoami.code, whoami.stderr).to.equal(4)
  }

  async function pluginOAuthLogin(): Promise<void> {
    const run = startLogin(suite.emulator, suite.config, ['--headless'], trust())
    await playBrowser(await printedUrl(run, HTTPS_AUTHORIZE_URL), {ca: suite.emulator.ca})
    const result = await finished(run)
    expect(result.code, result.stderr).to.equal(0)
  }

  async function stored(): Promise<Record<string, unknown>> {
    return parse(await readFile(suite.config.file, 'utf8'))
  }

  describe('after each kind of plugin write, the official CLI reads the file and signs out', () => {
    it('an OAuth sign-in', async () => {
      await pluginOAuthLogin()
      await officialSees(true)
      await officialLogsOut()
      expect(suite.emulator.stats.revocations, 'the official logout revoked the plugin\'s session').to.equal(1)
    })

    for (const command of [['cloud', 'auth', 'login', '--with-token'], ['cloud', 'auth', 'use-pat']]) {
      it(`a personal access token sign-in (${command.slice(1).join(' ')})`, async () => {
        const login = await plugin(command, `${suite.emulator.issuePat()}\n`)
        expect(login.code, login.stderr).to.equal(0)
        await officialSees(true)
        await officialLogsOut()
      })
    }

    it('a refresh', async () => {
      await pluginOAuthLogin()
      const before = await stored()
      const text = await readFile(suite.config.file, 'utf8')
      await writeFile(suite.config.file, text.replace(/token_expires_at = [\d.]+/v, () => `token_expires_at = ${(Date.now() / 1000) + 5}`))
      const whoami = await plugin(['cloud', 'auth', 'whoami'])
      expect(whoami.code, whoami.stderr).to.equal(0)
      expect(suite.emulator.stats.refreshGrants).to.equal(1)
      expect((await stored()).refresh_token).to.not.equal(before.refresh_token)
      await officialSees(true)
      await officialLogsOut()
    })

    it('the first use of the official CLI\'s file (binding it to its host)', async () => {
      const tokens = suite.emulator.issueTokens({ttl: 3600})
      await mkdir(path.dirname(suite.config.file), {mode: 0o700, recursive: true})
      await writeFile(suite.config.file, configText({refreshToken: tokens.refresh_token, token: tokens.access_token}), {mode: 0o600})
      const whoami = await plugin(['cloud', 'auth', 'whoami'])
      expect(whoami.code, whoami.stderr).to.equal(0)
      expect(await stored()).to.have.property('@pipecat-ai/plugin-cloud')
      await officialSees(true)
      await officialLogsOut()
    })

    it('a file an earlier version wrote (a top-level token_issuer), repaired by the next command', async () => {
      const tokens = suite.emulator.issueTokens({ttl: 3600})
      const text = configText({refreshToken: tokens.refresh_token, token: tokens.access_token})
      await mkdir(path.dirname(suite.config.file), {mode: 0o700, recursive: true})
      await writeFile(suite.config.file, text.replace('\n[', () => `token_issuer = "${suite.emulator.url}"\n\n[`), {mode: 0o600})
      const broken = await official(['auth', 'whoami'])
      expect(broken.stdout + broken.stderr, 'such a file breaks the official CLI').to.contain('must be dictionaries')
      const whoami = await plugin(['cloud', 'auth', 'whoami'])
      expect(whoami.code, whoami.stderr).to.equal(0)
      expect(await stored()).to.not.have.property('token_issuer')
      await officialSees(true)
      await officialLogsOut()
    })

    it('an organization selection (organizations select)', async () => {
      const login = await plugin(['cloud', 'auth', 'login', '--with-token'], `${suite.emulator.issuePat()}\n`)
      expect(login.code, login.stderr).to.equal(0)
      const select = await plugin(['cloud', 'organizations', 'select', 'acme'])
      expect(select.code, select.stderr).to.equal(0)
      expect(await stored()).to.include({org: 'acme'}).and.to.have.property('acme')
      await officialSees(true)
      const whoami = await official(['auth', 'whoami'])
      expect(whoami.stdout).to.match(/\(acme\)/v)
      await officialLogsOut()
    })

    it('a logout', async () => {
      await pluginOAuthLogin()
      const logout = await plugin(['cloud', 'auth', 'logout'])
      expect(logout.code, logout.stderr).to.equal(0)
      await officialSees(false)
      // org and the organization tables stay; the official CLI reads them and has nothing to sign out of
      expect(await stored()).to.include({org: 'user-namespace'})
      const officialLogout = await official(['auth', 'logout'])
      expectRead(officialLogout, 'auth logout')
    })

    it('a logout of a malformed file (moved aside)', async () => {
      await mkdir(path.dirname(suite.config.file), {mode: 0o700, recursive: true})
      await writeFile(suite.config.file, 'token = "unterminated\n', {mode: 0o600})
      const logout = await plugin(['cloud', 'auth', 'logout'])
      expect(logout.code, logout.stderr).to.equal(0)
      await officialSees(false)
      suite.emulator.knobs.autoApprove = true
      const login = await official(['auth', 'login'], {browser: true})
      expectRead(login, 'auth login')
      await officialSees(true)
    })
  })

  describe('after the official CLI signs in, the plugin uses, refreshes and ends the session', () => {
    it('a browser sign-in: whoami, config, a refresh and logout in the plugin; the official CLI sees the logout', async () => {
      suite.emulator.knobs.autoApprove = true
      // inside both CLIs' refresh margin (60 s): the next command of either renews it
      suite.emulator.knobs.accessTokenTtl = 30
      const login = await official(['auth', 'login'], {browser: true})
      expectRead(login, 'auth login')
      expect(login.stdout).to.contain('Authentication successful')
      const signedIn = await stored()

      const whoami = await plugin(['cloud', 'auth', 'whoami'])
      expect(whoami.code, whoami.stderr).to.equal(0)
      expect(whoami.stdout).to.contain(EMAIL)
      expect(suite.emulator.stats.refreshGrants, 'the plugin refreshed the official CLI\'s session').to.equal(1)
      expect((await stored()).refresh_token).to.not.equal(signedIn.refresh_token)

      const config = await plugin(['cloud', 'config', '--json'])
      expect(config.code, config.stderr).to.equal(0)
      expect(JSON.parse(config.stdout)).to.have.property('configPath', suite.config.file)

      const logout = await plugin(['cloud', 'auth', 'logout'])
      expect(logout.code, logout.stderr).to.equal(0)
      expect(logout.stdout).to.contain('Your session was revoked on Pipecat Cloud.')
      await officialSees(false)
    })

    it('a personal access token (auth use-pat): whoami, config and logout in the plugin; the official CLI sees the logout', async () => {
      const pat = suite.emulator.issuePat()
      const usePat = await official(['auth', 'use-pat'], {input: `${pat}\n`})
      expectRead(usePat, 'auth use-pat')
      expect(usePat.stdout).to.contain('Authenticated via PAT')

      const whoami = await plugin(['cloud', 'auth', 'whoami'])
      expect(whoami.code, whoami.stderr).to.equal(0)
      expect(whoami.stdout).to.match(/^Auth method:\s+personal access token$/mv)
      const config = await plugin(['cloud', '--show-cli-config'])
      expect(config.code, config.stderr).to.equal(0)
      expect(config.stdout).to.not.contain(pat)
      const logout = await plugin(['cloud', 'auth', 'logout'])
      expect(logout.code, logout.stderr).to.equal(0)
      await officialSees(false)
    })

    it('refreshes that alternate between the two CLIs leave one working session', async () => {
      suite.emulator.knobs.autoApprove = true
      expectRead(await official(['auth', 'login'], {browser: true}), 'auth login')
      /** The stored token about to expire: whichever CLI runs next renews it (once). */
      const expireSoon = async () => {
        const text = await readFile(suite.config.file, 'utf8')
        await writeFile(suite.config.file, text.replace(/token_expires_at = [\d.e+]+/v, () => `token_expires_at = ${(Date.now() / 1000) + 5}`))
      }

      const rounds = 3
      for (let round = 1; round <= rounds; round++) {
        await expireSoon()

        const mine = await plugin(['cloud', 'auth', 'whoami'])
        expect(mine.code, `plugin, round ${round}: ${mine.stderr}`).to.equal(0)

        await expireSoon()

        const theirs = await official(['auth', 'whoami'])
        expectRead(theirs, `official whoami, round ${round}`)
        expect(theirs.stdout).to.contain(EMAIL)
      }

      expect(suite.emulator.stats.refreshGrants, 'each command of either CLI renewed the token once').to.equal(2 * rounds)
      const last = await stored()
      expect(suite.emulator.isValid(last.token as string), 'the stored token works').to.equal(true)
      const finalCheck = await plugin(['cloud', 'auth', 'whoami', '--json'])
      expect(finalCheck.code, finalCheck.stderr).to.equal(0)
      await officialLogsOut()
    })
  })
})
