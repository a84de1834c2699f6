import {expect} from 'chai'
import path from 'node:path'

import {dailyApiKey} from '../emulator/server.js'
import {
  bindingTable,
  emulatorEnv,
  exists,
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {runCommand} from '../support/in-process.js'
import {closedPort} from '../support/net.js'
import {emulatorSuite} from '../support/suite.js'

type WhoamiJson = {
  authMethod: string;
  dailyApiKey: null | string;
  dailyApiKeyError: null | string;
  email: null | string;
  organization: null | {name: string; verboseName: null | string};
  tokenExpiry: null | {at: string; expired: boolean; relative: string};
  tokenSource: {path?: string; type: string; variable?: string};
  userId: string;
}

type ErrorJson = {error: {code: string; exit: number; message: string; suggestions: string[]}}

const WHOAMI = ['cloud', 'auth', 'whoami']
const LOOKUPS = ['GET /v1/users', 'GET /v1/organizations', 'GET /v1/organizations/user-namespace/daily']

describe('cloud auth whoami (in-process)', () => {
  const suite = emulatorSuite({config: false})

  const whoami = async (args: string[] = [], env: Record<string, string> = {}) => runCommand([...WHOAMI, ...args], {env: emulatorEnv(suite.emulator, suite.config, env)})

  it('logged in: email, user ID, organization, auth method, token source, expiry and the Daily API key', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const before = await readText(suite.config.file)
    const result = await whoami()

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    expect(result.stdout.split('\n').slice(0, 10)).to.deep.equal([
      'Logged in to Pipecat Cloud as dev@example.com',
      '',
      'Email:          dev@example.com',
      'User ID:        user_emulator_01',
      'Organization:   Demo User (user-namespace)',
      'Auth method:    OAuth',
      `Token source:   ${suite.config.file}`,
      result.stdout.split('\n', 8)[7],
      `Issued by:      ${suite.emulator.url}`,
      `Daily API key:  ${dailyApiKey('user-namespace')}`,
    ])
    expect(result.stdout).to.match(/^Token expires:\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(in 59 min\)$/mv)
    expect(requested(suite.emulator)).to.have.members(LOOKUPS)
    for (const request of suite.emulator.requests) {
      expect(bearer(request)).to.equal(login.access)
      expect(request.headers['user-agent']).to.match(/^@pipecat-ai\/plugin-cloud\/\S+ /v)
    }

    // Credentials the official CLI wrote are bound to the host they were first used with; nothing else changed.
    expect(await readText(suite.config.file)).to.equal(before + bindingTable(suite.emulator.url, {refreshToken: login.refresh, token: login.access}, 'oauth'))
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('--json: the whole report as one JSON document', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const result = await whoami(['--json'])

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    const report = JSON.parse(result.stdout) as WhoamiJson
    expect(report).to.deep.include({
      authMethod: 'oauth',
      dailyApiKey: dailyApiKey('user-namespace'),
      dailyApiKeyError: null,
      email: 'dev@example.com',
      organization: {name: 'user-namespace', verboseName: 'Demo User'},
      tokenSource: {configPath: suite.config.file, type: 'file'},
      userId: 'user_emulator_01',
    })
    expect(report.tokenExpiry).to.deep.include({expired: false, relative: 'in 59 min'})
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('not logged in: exit 4 with the login advice, no request, no file', async () => {
    suite.config = await tempConfig()
    const result = await whoami()
    expect(result.code).to.equal(4)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.equal('Error: You are not logged in.\nTry this: Run `pipecat cloud auth login` to sign in.\n')
    expect(suite.emulator.requests).to.deep.equal([])
    expect(await exists(path.dirname(suite.config.file))).to.equal(false)
  })

  it('not logged in, --json: the error as JSON, exit 4', async () => {
    suite.config = await tempConfig()
    const result = await whoami(['--json'])
    expect(result.code).to.equal(4)
    const {error} = JSON.parse(result.stdout) as ErrorJson
    expect(error).to.deep.include({code: 'not_logged_in', exit: 4, message: 'You are not logged in.'})
    expect(error.suggestions).to.deep.equal(['Run `pipecat cloud auth login` to sign in.'])
  })

  it('PIPECAT_TOKEN with a personal access token: no file needed, first organization, Daily key after the organizations', async () => {
    suite.config = await tempConfig()
    const pat = suite.emulator.issuePat()
    const result = await whoami(['--json'], {PIPECAT_TOKEN: pat})

    expect(result.code).to.equal(0)
    expect(JSON.parse(result.stdout)).to.deep.include({
      authMethod: 'personal-access-token',
      dailyApiKey: dailyApiKey('user-namespace'),
      organization: {name: 'user-namespace', verboseName: 'Demo User'},
      tokenExpiry: null,
      tokenSource: {type: 'environment', variable: 'PIPECAT_TOKEN'},
    })
    const order = requested(suite.emulator)
    expect(order).to.have.members(LOOKUPS)
    expect(order.indexOf('GET /v1/organizations/user-namespace/daily')).to.be.greaterThan(order.indexOf('GET /v1/organizations'))
    expect(suite.emulator.requests.every(request => bearer(request) === pat)).to.equal(true)
    expect(await exists(path.dirname(suite.config.file))).to.equal(false)
    expectNoSecrets(result, pat)
  })

  it('PIPECAT_TOKEN in the human form: personal access token, from the environment, never expires', async () => {
    suite.config = await tempConfig()
    const pat = suite.emulator.issuePat()
    const result = await whoami([], {PIPECAT_TOKEN: pat})
    expect(result.code).to.equal(0)
    expect(result.stdout).to.match(/^Auth method:\s+personal access token$/mv)
    expect(result.stdout).to.match(/^Token source:\s+PIPECAT_TOKEN \(environment\)$/mv)
    expect(result.stdout).to.match(/^Token expires:\s+never \(valid until revoked in the dashboard\)$/mv)
    expectNoSecrets(result, pat)
  })

  it('a rejected PIPECAT_TOKEN: exit 4, says which token, no refresh', async () => {
    suite.config = await tempConfig()
    const result = await whoami([], {PIPECAT_TOKEN: 'pcc_pat_not_a_real_token_SECRET'})
    expect(result.code).to.equal(4)
    expect(result.stderr).to.contain('Error: The token in PIPECAT_TOKEN was rejected by Pipecat Cloud.')
    expect(result.stderr).to.contain('unset it and run `pipecat cloud auth login`')
    expect(suite.emulator.stats.refreshGrants).to.equal(0)
    expectNoSecrets(result, 'pcc_pat_not_a_real_token_SECRET')
  })

  it('a token expiring within the minute is refreshed first and the new one saved', async () => {
    const login = await oauthLogin(suite.emulator, 30)
    suite.config = login.config
    const result = await whoami(['--json'])

    expect(result.code, result.stderr).to.equal(0)
    expect((JSON.parse(result.stdout) as WhoamiJson).tokenExpiry).to.deep.include({expired: false, relative: 'in 59 min'})
    expect(requested(suite.emulator).slice(0, 3)).to.deep.equal(['GET /auth/config', 'GET /oauth/.well-known/openid-configuration', 'POST /oauth/token'])
    const saved = await readConfig(suite.config.file)
    expect(saved.token).to.be.a('string').and.not.equal(login.access)
    expect(saved.refresh_token).to.be.a('string').and.not.equal(login.refresh)
    expect(saved.org).to.equal('user-namespace')
    expect(suite.emulator.requests.filter(request => request.path.startsWith('/v1/')).every(request => bearer(request) === saved.token)).to.equal(true)
    expectNoSecrets(result, login.access, login.refresh, saved.token as string)
  })

  it('a 401 on a token the file calls valid: one refresh, the lookups retried with the new token', async () => {
    const login = await oauthLogin(suite.emulator, -10, {expiresIn: 3600})
    suite.config = login.config
    const result = await whoami()

    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    expect(suite.emulator.stats.refreshReuseDetected).to.equal(0)
    const renewed = (await readConfig(suite.config.file)).token as string
    expect(suite.emulator.isValid(renewed)).to.equal(true)
    expect(suite.emulator.requests.filter(request => request.path === '/v1/users').map(request => bearer(request))).to.deep.equal([login.access, renewed])
  })

  it('a failed refresh: exit 4, the file left byte for byte as it was', async () => {
    suite.config = (await oauthLogin(suite.emulator, -10, {expiresIn: 3600, issuer: suite.emulator.url, refreshToken: 'emu_rt_revoked_SECRET'})).config
    const before = await readText(suite.config.file)
    const result = await whoami()

    expect(result.code).to.equal(4)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.contain('Your session has expired and could not be renewed.').and.contain('Run `pipecat cloud auth login` to sign in.')
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    expect(await readText(suite.config.file)).to.equal(before)
    expectNoSecrets(result, 'emu_rt_revoked_SECRET')
  })

  it('the Daily API key lookup failing is not fatal: shown as not available, exit 0', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    suite.emulator.knobs.failures['/v1/organizations/{org}/daily'] = {kind: 'status', status: 403}
    const human = await whoami()
    const json = await whoami(['--json'])

    expect(human.code).to.equal(0)
    expect(human.stdout).to.match(/^Daily API key:\s+not available \(127\.0\.0\.1:\d+ answered with HTTP 403: Injected failure \(403\)\)$/mv)
    expect(json.code).to.equal(0)
    expect(JSON.parse(json.stdout)).to.deep.include({dailyApiKey: null, email: 'dev@example.com'})
    expect((JSON.parse(json.stdout) as WhoamiJson).dailyApiKeyError).to.contain('HTTP 403')
  })

  it('a stored organization the account does not belong to: a warning, and no Daily key', async () => {
    const login = await oauthLogin(suite.emulator, 3600, {org: 'gone-org'})
    suite.config = login.config
    const result = await whoami()
    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('Warning: The active organization "gone-org" is not among this account\'s organizations.\n')
    expect(result.stdout).to.match(/^Organization:\s+gone-org$/mv)
  })

  it('a personal access token stored in the file is never refreshed', async () => {
    const pat = suite.emulator.issuePat()
    suite.config = (await oauthLogin(suite.emulator, 3600, {
      expiresIn: 0, issuer: suite.emulator.url, refreshToken: '', token: pat,
    })).config
    const before = await readText(suite.config.file)
    const result = await whoami()
    expect(result.code).to.equal(0)
    expect(result.stdout).to.match(/^Auth method:\s+personal access token$/mv)
    expect(suite.emulator.stats.refreshGrants).to.equal(0)
    expect(await readText(suite.config.file)).to.equal(before)
  })

  it('an unreachable service: exit 1, names the host, no secret', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const port = await closedPort()
    const result = await whoami([], {PIPECAT_API_HOST: `http://127.0.0.1:${port}`})
    expect(result.code).to.equal(1)
    expect(result.stderr).to.contain(`Error: Could not reach 127.0.0.1:${port}: connection refused.`)
    expect(result.stderr).to.contain('Try this: Check your network connection')
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('a service asking for a long wait: exit 1, says how long, not retried', async () => {
    suite.config = (await oauthLogin(suite.emulator)).config
    suite.emulator.knobs.failures['/v1/users'] = {retryAfter: 3600, status: 503}
    const result = await whoami()
    expect(result.code).to.equal(1)
    expect(result.stderr).to.match(/^Error: 127\.0\.0\.1:\d+ answered with HTTP 503/mv)
    expect(result.stderr).to.contain('Try this: The service asks to wait about 60 min before trying again.')
    expect(suite.emulator.requests.filter(request => request.path === '/v1/users')).to.have.length(1)
  })
})
