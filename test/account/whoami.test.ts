import {expect} from 'chai'
import path from 'node:path'

import {dailyApiKey, type Emulator, startEmulator} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {
  emulatorEnv,
  exists,
  oauthLogin,
  readText,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {closedPort} from '../support/net.js'

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

const WHOAMI = ['cloud', 'auth', 'whoami']
const LOOKUPS = ['GET /v1/users', 'GET /v1/organizations', 'GET /v1/organizations/user-namespace/daily']

describe('cloud auth whoami', () => {
  let emulator: Emulator
  let config: TempConfig | undefined

  before(async () => {
    emulator = await startEmulator()
  })

  after(async () => {
    await emulator.close()
  })

  beforeEach(() => {
    emulator.reset()
  })

  afterEach(async () => {
    await config?.cleanup()
    config = undefined
  })

  it('shows email, user ID, organization, auth method, token source, expiry and the Daily API key, with all lookups at once', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    const before = await readText(config.file)
    emulator.knobs.latencyMs = 400
    const result = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    const lines = result.stdout.split('\n')
    expect(lines[0]).to.equal('Logged in to Pipecat Cloud as dev@example.com')
    expect(result.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
    expect(result.stdout).to.match(/^User ID:\s+user_emulator_01$/mv)
    expect(result.stdout).to.match(/^Organization:\s+Demo User \(user-namespace\)$/mv)
    expect(result.stdout).to.match(/^Auth method:\s+OAuth$/mv)
    expect(result.stdout).to.contain(`Token source:   ${config.file}`)
    expect(result.stdout).to.match(/^Token expires:\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(in 59 min\)$/mv)
    expect(result.stdout).to.contain(`Daily API key:  ${dailyApiKey('user-namespace')}`)
    expectNoSecrets(result, login.access, login.refresh)
    expect(await readText(config.file)).to.equal(before)

    // One round trip: the three lookups reached the service together, each with the token and our user agent.
    expect(requested(emulator)).to.have.members(LOOKUPS)
    const arrivals = emulator.requests.map(request => request.at)
    expect(Math.max(...arrivals) - Math.min(...arrivals)).to.be.below(350)
    for (const request of emulator.requests) {
      expect(bearer(request)).to.equal(login.access)
      expect(request.headers['user-agent']).to.match(/^@pipecat-ai\/plugin-cloud\/\S+ /v)
    }
  })

  it('--json gives all of it as one JSON document', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    const result = await runCli([...WHOAMI, '--json'], {env: emulatorEnv(emulator, config)})

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    const report = JSON.parse(result.stdout) as WhoamiJson
    expect(report).to.deep.include({
      authMethod: 'oauth',
      dailyApiKey: dailyApiKey('user-namespace'),
      dailyApiKeyError: null,
      email: 'dev@example.com',
      organization: {name: 'user-namespace', verboseName: 'Demo User'},
      tokenSource: {path: config.file, type: 'file'},
      userId: 'user_emulator_01',
    })
    expect(report.tokenExpiry?.expired).to.equal(false)
    expect(report.tokenExpiry?.relative).to.equal('in 59 min')
    expect(Date.parse(report.tokenExpiry!.at) / 1000).to.be.closeTo((Date.now() / 1000) + 3600, 30)
    expectNoSecrets(result, login.access, login.refresh)
    expect(requested(emulator)).to.have.members(LOOKUPS)
  })

  it('shows the Daily API key as not available when its lookup fails, and still succeeds', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    emulator.knobs.failures['/v1/organizations/{org}/daily'] = {kind: 'status', status: 403}
    const human = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})
    const json = await runCli([...WHOAMI, '--json'], {env: emulatorEnv(emulator, config)})

    expect(human.code).to.equal(0)
    expect(human.stdout).to.match(/^Daily API key:\s+not available \(127\.0\.0\.1:\d+ answered with HTTP 403: Injected failure \(403\)\)$/mv)
    expect(human.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
    expect(json.code).to.equal(0)
    const report = JSON.parse(json.stdout) as WhoamiJson
    expect(report.dailyApiKey).to.equal(null)
    expect(report.dailyApiKeyError).to.contain('HTTP 403')
    expect(report.email).to.equal('dev@example.com')
    expectNoSecrets(human, login.access, login.refresh)
    expectNoSecrets(json, login.access, login.refresh)
  })

  it('uses a personal access token from PIPECAT_TOKEN without a file, takes the first organization, and creates no file', async () => {
    config = await tempConfig()
    const pat = emulator.issuePat()
    const result = await runCli([...WHOAMI, '--json'], {env: emulatorEnv(emulator, config, {PIPECAT_TOKEN: pat})})

    expect(result.code).to.equal(0)
    const report = JSON.parse(result.stdout) as WhoamiJson
    expect(report).to.deep.include({
      authMethod: 'personal-access-token',
      dailyApiKey: dailyApiKey('user-namespace'),
      organization: {name: 'user-namespace', verboseName: 'Demo User'},
      tokenExpiry: null,
      tokenSource: {type: 'environment', variable: 'PIPECAT_TOKEN'},
    })
    // Without a stored organization the Daily key lookup follows the organizations lookup.
    const order = requested(emulator)
    expect(order).to.have.members(LOOKUPS)
    expect(order.indexOf('GET /v1/organizations/user-namespace/daily')).to.be.greaterThan(order.indexOf('GET /v1/organizations'))
    expect(emulator.requests.every(request => bearer(request) === pat)).to.equal(true)
    expect(await exists(config.file)).to.equal(false)
    expect(await exists(path.dirname(config.file))).to.equal(false)
    expectNoSecrets(result, pat)

    const human = await runCli(WHOAMI, {env: emulatorEnv(emulator, config, {PIPECAT_TOKEN: pat})})
    expect(human.code).to.equal(0)
    expect(human.stdout).to.match(/^Auth method:\s+personal access token$/mv)
    expect(human.stdout).to.match(/^Token source:\s+PIPECAT_TOKEN \(environment\)$/mv)
    expectNoSecrets(human, pat)
  })

  it('not logged in: exit 4 with the login advice, also under --json', async () => {
    config = await tempConfig()
    const human = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})
    expect(human.code).to.equal(4)
    expect(human.stdout).to.equal('')
    expect(human.stderr).to.contain('You are not logged in.').and.contain('Run `pipecat cloud auth login` to sign in.')

    const json = await runCli([...WHOAMI, '--json'], {env: emulatorEnv(emulator, config)})
    expect(json.code).to.equal(4)
    const {error} = JSON.parse(json.stdout) as {error: {message: string; oclif: {exit: number}}}
    expect(error.message).to.equal('You are not logged in.')
    expect(error.oclif.exit).to.equal(4)
    expect(emulator.requests).to.deep.equal([])
    expect(await exists(config.file)).to.equal(false)
  })

  it('a rejected PIPECAT_TOKEN: exit 4, no refresh attempted', async () => {
    config = await tempConfig()
    const result = await runCli(WHOAMI, {env: emulatorEnv(emulator, config, {PIPECAT_TOKEN: 'pcc_pat_not_a_real_token_SECRET'})})
    expect(result.code).to.equal(4)
    expect(result.stderr).to.contain('The token in PIPECAT_TOKEN was rejected by Pipecat Cloud.').and.contain('unset it and run `pipecat cloud auth login`')
    expect(emulator.stats.refreshGrants).to.equal(0)
    expect(requested(emulator).filter(request => request.startsWith('POST'))).to.deep.equal([])
    expect(await exists(config.file)).to.equal(false)
    expectNoSecrets(result, 'pcc_pat_not_a_real_token_SECRET')
  })

  it('retries a 503 after the Retry-After the service asked for', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    emulator.knobs.failures['/v1/users'] = {
      kind: 'status', retryAfter: 1, status: 503, times: 1,
    }
    const result = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})

    expect(result.code).to.equal(0)
    const users = emulator.requests.filter(request => request.path === '/v1/users')
    expect(users).to.have.length(2)
    expect(users[1].at - users[0].at).to.be.at.least(950)
  })

  it('a service asking for a long wait (Retry-After: 3600): exit 1, says how long to wait instead of "a minute"', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    emulator.knobs.failures['/v1/users'] = {retryAfter: 3600, status: 503}
    const result = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})
    expect(result.code).to.equal(1)
    expect(result.stderr).to.match(/^Error: 127\.0\.0\.1:\d+ answered with HTTP 503/mv)
    expect(result.stderr).to.contain('Try this: The service asks to wait about 60 min before trying again.')
    // A wait that long is not retried.
    expect(emulator.requests.filter(request => request.path === '/v1/users')).to.have.length(1)
  })

  it('names the host it could not reach, and times out a request that gets no answer', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    const port = await closedPort()
    const refused = await runCli(WHOAMI, {env: emulatorEnv(emulator, config, {PIPECAT_API_HOST: `http://127.0.0.1:${port}`})})
    expect(refused.code).to.equal(1)
    expect(refused.stderr).to.contain(`Could not reach 127.0.0.1:${port}: connection refused.`).and.contain('Check your network connection')

    emulator.knobs.failures['/v1/users'] = {kind: 'hang'}
    const hung = await runCli(WHOAMI, {env: emulatorEnv(emulator, config, {PIPECAT_HTTP_TIMEOUT: '1'})})
    expect(hung.code).to.equal(1)
    expect(hung.stderr).to.match(/Could not reach 127\.0\.0\.1:\d+: no answer within 1 s\./v)
    expectNoSecrets(refused, login.access, login.refresh)
    expectNoSecrets(hung, login.access, login.refresh)
  })
})
