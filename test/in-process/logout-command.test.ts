import {expect} from 'chai'
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import {
  configText,
  emulatorEnv,
  exists,
  KEPT,
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

const LOGOUT = ['cloud', 'auth', 'logout']

describe('cloud auth logout (in-process)', () => {
  const suite = emulatorSuite({config: false})

  const logout = async (args: string[] = [], env: Record<string, string> = {}) => runCommand([...LOGOUT, ...args], {env: emulatorEnv(suite.emulator, suite.config, env)})

  it('revokes the session, removes the credentials and keeps org and the organization tables', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const result = await logout()

    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(`Your session was revoked on Pipecat Cloud.\nLogged out: removed the credentials from ${suite.config.file} (the organization settings were kept).\n`)
    expect(result.stderr).to.equal('')
    expect(requested(suite.emulator)).to.deep.equal(['POST /auth/logout'])
    const [revocation] = suite.emulator.requests
    expect(JSON.parse(revocation!.body)).to.deep.equal({refresh_token: login.refresh})
    expect(bearer(revocation)).to.equal(login.access)
    expect(suite.emulator.isValid(login.access)).to.equal(false)
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('then whoami: not logged in, exit 4', async () => {
    suite.config = (await oauthLogin(suite.emulator)).config
    await logout()
    const after = await runCommand(['cloud', 'auth', 'whoami'], {env: emulatorEnv(suite.emulator, suite.config)})
    expect(after.code).to.equal(4)
    expect(after.stderr).to.contain('Error: You are not logged in.')
  })

  it('--json: the outcome as data', async () => {
    suite.config = (await oauthLogin(suite.emulator)).config
    const result = await logout(['--json'])
    expect(result.code).to.equal(0)
    expect(JSON.parse(result.stdout)).to.deep.equal({
      backup: null,
      configPath: suite.config.file,
      credentialsRemoved: true,
      environmentToken: false,
      newerSignInKept: false,
      revocation: 'revoked',
      revocationDetail: null,
      signOutUrl: `${suite.emulator.url}/sign-out`,
      tokenIssuer: null,
      warnings: [],
      wasLoggedIn: true,
    })
  })

  it('503: a warning that the session expires on its own; the credentials still removed, exit 0', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    suite.emulator.knobs.failures['/auth/logout'] = {kind: 'status', status: 503}
    const result = await logout()

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('Warning: Pipecat Cloud could not revoke your session right now (503, the revocation service is down); it will expire on its own within 24 hours.\n')
    expect(result.stdout).to.equal(`Logged out: removed the credentials from ${suite.config.file} (the organization settings were kept).\n`)
    expect(requested(suite.emulator)).to.deep.equal(['POST /auth/logout'])
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('an expired access token is renewed first, so the revocation is accepted', async () => {
    const login = await oauthLogin(suite.emulator, -30)
    suite.config = login.config
    const result = await logout()
    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain('Your session was revoked on Pipecat Cloud.')
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    expect(suite.emulator.stats.revocations).to.equal(1)
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
  })

  it('without a refresh token: no request, the dashboard sign-out address, credentials removed', async () => {
    const pat = suite.emulator.issuePat()
    suite.config = await tempConfig(configText({expiresIn: 0, token: pat}))
    const result = await logout()
    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain(`To sign out of the dashboard too, visit ${suite.emulator.url}/sign-out`)
    expect(suite.emulator.requests).to.deep.equal([])
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, pat)
  })

  it('a malformed file is moved to a backup beside it; no file is left and nothing is sent', async () => {
    const broken = 'token = "emu_at_SECRET_in_a_broken_file"\norg = [unclosed\n'
    suite.config = await tempConfig(broken)
    const result = await logout()

    expect(result.code).to.equal(0)
    const backups = (await readdir(path.dirname(suite.config.file))).filter(name => name.startsWith('pipecatcloud.toml.bak-'))
    expect(backups).to.have.length(1)
    const backup = path.join(path.dirname(suite.config.file), backups[0]!)
    expect(result.stdout).to.contain(`The config file ${suite.config.file} could not be read; it was moved to ${backup}.`)
    expect(result.stderr).to.contain('that session was not revoked on the service')
    expect(await readText(backup)).to.equal(broken)
    expect(await exists(suite.config.file)).to.equal(false)
    expect(suite.emulator.requests).to.deep.equal([])
    expectNoSecrets(result, 'emu_at_SECRET_in_a_broken_file')
  })

  it('not logged in: says so, exit 0, creates nothing', async () => {
    suite.config = await tempConfig()
    const result = await logout()
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal('You are not logged in.\n')
    expect(result.stderr).to.equal('')
    expect(suite.emulator.requests).to.deep.equal([])
    expect(await exists(path.dirname(suite.config.file))).to.equal(false)
  })

  it('reminds that PIPECAT_TOKEN still authenticates, and revokes the file\'s own session', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const pat = suite.emulator.issuePat()
    const result = await logout([], {PIPECAT_TOKEN: pat})
    expect(result.code).to.equal(0)
    expect(result.stderr).to.contain('Warning: PIPECAT_TOKEN is set in the environment and still authenticates every command')
    expect(bearer(suite.emulator.requests[0])).to.equal(login.access)
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh, pat)
  })
})
