import {expect} from 'chai'
import path from 'node:path'

import {
  emulatorEnv,
  exists,
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
} from '../support/config.js'
import {requested} from '../support/emulator.js'
import {runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

type TokenJson = {
  authMethod: string;
  token: string;
  tokenExpiry: null | {at: string; expired: boolean; relative: string};
  tokenIssuer: null | string;
  tokenSource: {configPath?: string; type: string; variable?: string};
}

type ErrorJson = {error: {code: string; exit: number; message: string; suggestions: string[]}}

describe('cloud auth token (in-process)', () => {
  const suite = emulatorSuite({config: false})

  const token = async (args: string[] = [], env: Record<string, string> = {}) =>
    runCommand(['cloud', 'auth', 'token', ...args], {env: emulatorEnv(suite.emulator, suite.config, env)})

  it('prints the stored token and nothing else on stdout; sends nothing while it is fresh', async () => {
    const login = await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})
    suite.config = login.config
    const before = await readText(suite.config.file)
    const result = await token()

    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(`${login.access}\n`)
    expect(result.stderr).to.equal('')
    expect(suite.emulator.requests).to.deep.equal([])
    expect(await readText(suite.config.file)).to.equal(before)
  })

  it('--json: the token, its expiry, how it was obtained and where it came from', async () => {
    const login = await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})
    suite.config = login.config
    const result = await token(['--json'])

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    const report = JSON.parse(result.stdout) as TokenJson
    expect(report).to.deep.include({
      authMethod: 'oauth', token: login.access, tokenIssuer: suite.emulator.url, tokenSource: {configPath: suite.config.file, type: 'file'},
    })
    expect(report.tokenExpiry).to.deep.include({expired: false, relative: 'in 59 min'})
    expect(Date.parse(report.tokenExpiry!.at)).to.be.closeTo(Date.now() + 3_600_000, 60_000)
  })

  it('a token expiring within the minute is renewed first: the new one printed and saved', async () => {
    const login = await oauthLogin(suite.emulator, 30)
    suite.config = login.config
    const result = await token()

    expect(result.code, result.stderr).to.equal(0)
    const saved = await readConfig(suite.config.file)
    expect(saved.token).to.be.a('string').and.not.equal(login.access)
    expect(result.stdout).to.equal(`${saved.token as string}\n`)
    expect(suite.emulator.isValid(saved.token as string)).to.equal(true)
    expect(requested(suite.emulator)).to.include('POST /oauth/token')
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
  })

  it('an expired token with a refresh token the service rejects: exit 4, nothing on stdout, the file as it was', async () => {
    suite.config = (await oauthLogin(suite.emulator, -10, {issuer: suite.emulator.url, refreshToken: 'emu_rt_revoked_SECRET'})).config
    const before = await readText(suite.config.file)
    const result = await token()

    expect(result.code).to.equal(4)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.contain('Your session has expired and could not be renewed.').and.contain('Run `pipecat cloud auth login` to sign in.')
    expect(await readText(suite.config.file)).to.equal(before)
  })

  it('an expired token with no refresh token: exit 4 instead of printing a token that no longer works', async () => {
    const login = await oauthLogin(suite.emulator, -120, {refreshToken: ''})
    suite.config = login.config
    const result = await token(['--json'])

    expect(result.code).to.equal(4)
    const {error} = JSON.parse(result.stdout) as ErrorJson
    expect(error).to.deep.include({code: 'not_logged_in', exit: 4, message: 'The stored access token expired 2 min ago and cannot be renewed.'})
    expect(result.stdout).not.to.contain(login.access)
  })

  it('PIPECAT_TOKEN wins: printed as it is, no expiry, no file read or written', async () => {
    suite.config = await tempConfig()
    const pat = suite.emulator.issuePat()
    const human = await token([], {PIPECAT_TOKEN: pat})
    const json = await token(['--json'], {PIPECAT_TOKEN: pat})

    expect(human.code).to.equal(0)
    expect(human.stdout).to.equal(`${pat}\n`)
    expect(JSON.parse(json.stdout)).to.deep.equal({
      authMethod: 'personal-access-token',
      token: pat,
      tokenExpiry: null,
      tokenIssuer: null,
      tokenSource: {type: 'environment', variable: 'PIPECAT_TOKEN'},
      warnings: [],
    })
    expect(suite.emulator.requests).to.deep.equal([])
    expect(await exists(path.dirname(suite.config.file))).to.equal(false)
  })

  it('signed out: exit 4 with the login advice, in both forms; nothing on stdout but the JSON error', async () => {
    suite.config = await tempConfig()
    const human = await token()
    const json = await token(['--json'])

    expect(human.code).to.equal(4)
    expect(human.stdout).to.equal('')
    expect(human.stderr).to.equal('Error: You are not logged in.\nTry this: Run `pipecat cloud auth login` to sign in.\n')
    expect(json.code).to.equal(4)
    expect((JSON.parse(json.stdout) as ErrorJson).error).to.deep.include({code: 'not_logged_in', exit: 4})
    expect(suite.emulator.requests).to.deep.equal([])
  })
})
