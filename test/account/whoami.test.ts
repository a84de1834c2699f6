import {expect} from 'chai'

import {dailyApiKey} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {emulatorEnv, oauthLogin, readText} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {closedPort} from '../support/net.js'
import {emulatorSuite} from '../support/suite.js'

const WHOAMI = ['cloud', 'auth', 'whoami']
const LOOKUPS = ['GET /v1/users', 'GET /v1/organizations', 'GET /v1/organizations/user-namespace/daily']

describe('cloud auth whoami', () => {
  const suite = emulatorSuite({config: false})

  it('shows email, user ID, organization, auth method, token source, expiry and the Daily API key, with all lookups at once', async () => {
    // bound already: the file is not written
    const login = await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})
    suite.config = login.config
    const before = await readText(suite.config.file)
    suite.emulator.knobs.latencyMs = 400
    const result = await runCli(WHOAMI, {env: emulatorEnv(suite.emulator, suite.config)})

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    const lines = result.stdout.split('\n')
    expect(lines[0]).to.equal('Logged in to Pipecat Cloud as dev@example.com')
    expect(result.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
    expect(result.stdout).to.match(/^User ID:\s+user_emulator_01$/mv)
    expect(result.stdout).to.match(/^Organization:\s+Demo User \(user-namespace\)$/mv)
    expect(result.stdout).to.match(/^Auth method:\s+OAuth$/mv)
    expect(result.stdout).to.contain(`Token source:   ${suite.config.file}`)
    expect(result.stdout).to.match(/^Token expires:\s+\d{4}-\d\d-\d\dT[\d:.]+Z \(in 59 min\)$/mv)
    expect(result.stdout).to.contain(`Daily API key:  ${dailyApiKey('user-namespace')}`)
    expectNoSecrets(result, login.access, login.refresh)
    expect(await readText(suite.config.file)).to.equal(before)

    // One round trip: the three lookups reached the service together, each with the token and our user agent.
    expect(requested(suite.emulator)).to.have.members(LOOKUPS)
    const arrivals = suite.emulator.requests.map(request => request.at)
    expect(Math.max(...arrivals) - Math.min(...arrivals)).to.be.below(350)
    for (const request of suite.emulator.requests) {
      expect(bearer(request)).to.equal(login.access)
      expect(request.headers['user-agent']).to.match(/^@pipecat-ai\/plugin-cloud\/\S+ /v)
    }
  })

  it('retries a 503 after the Retry-After the service asked for', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    suite.emulator.knobs.failures['/v1/users'] = {
      kind: 'status', retryAfter: 1, status: 503, times: 1,
    }
    const result = await runCli(WHOAMI, {env: emulatorEnv(suite.emulator, suite.config)})

    expect(result.code).to.equal(0)
    const users = suite.emulator.requests.filter(request => request.path === '/v1/users')
    expect(users).to.have.length(2)
    expect(users[1]!.at - users[0]!.at).to.be.at.least(950)
  })

  it('names the host it could not reach, and times out a request that gets no answer', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const port = await closedPort()
    const refused = await runCli(WHOAMI, {env: emulatorEnv(suite.emulator, suite.config, {PIPECAT_API_HOST: `http://127.0.0.1:${port}`})})
    expect(refused.code).to.equal(1)
    expect(refused.stderr).to.contain(`Could not reach 127.0.0.1:${port}: connection refused.`).and.contain('Check your network connection')

    suite.emulator.knobs.failures['/v1/users'] = {kind: 'hang'}
    const hung = await runCli(WHOAMI, {env: emulatorEnv(suite.emulator, suite.config, {PIPECAT_HTTP_TIMEOUT: '1'})})
    expect(hung.code).to.equal(1)
    expect(hung.stderr).to.match(/Could not reach 127\.0\.0\.1:\d+: no answer within 1 s\./v)
    expectNoSecrets(refused, login.access, login.refresh)
    expectNoSecrets(hung, login.access, login.refresh)
  })
})
