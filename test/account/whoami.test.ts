import {expect} from 'chai'

import {dailyApiKey} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {emulatorEnv, oauthLogin, readText} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {emulatorSuite} from '../support/suite.js'

const WHOAMI = ['cloud', 'auth', 'whoami']
const LOOKUPS = ['GET /v1/users', 'GET /v1/organizations', 'GET /v1/organizations/user-namespace/daily']

// As a process: the three lookups really leave together (one round trip); the rest of whoami is in test/in-process.
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
})
