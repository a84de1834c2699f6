import {expect} from 'chai'

import {InterruptedError} from '../../src/errors.js'
import {
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
} from '../support/config.js'
import {bearer} from '../support/emulator.js'
import {failureOf} from '../support/expect.js'
import {testContext} from '../support/in-process.js'
import {waitFor} from '../support/poll.js'
import {emulatorSuite} from '../support/suite.js'

describe('Session (one place tokens are refreshed)', () => {
  const suite = emulatorSuite({config: false})

  it('no credentials: "You are not logged in." (exit 4) before any request', async () => {
    suite.config = await tempConfig()
    const {context} = await testContext({config: suite.config, emulator: suite.emulator})
    const error = await failureOf(context.session())
    expect(error).to.include({exit: 4, message: 'You are not logged in.'})
    expect(suite.emulator.requests).to.deep.equal([])
  })

  it('a valid token is used as it is: no refresh', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const session = await (await testContext({config: suite.config, emulator: suite.emulator})).context.session()
    const user = await session.call(async token => session.api.user(token))
    expect(user).to.deep.include({email: 'dev@example.com', userId: 'user_emulator_01'})
    expect(bearer(suite.emulator.requests[0])).to.equal(login.access)
    expect(suite.emulator.stats.refreshGrants).to.equal(0)
  })

  it('a 401: refreshes once, saves the rotated tokens, retries with the new token', async () => {
    const login = await oauthLogin(suite.emulator, -10, {expiresIn: 3600})
    suite.config = login.config
    const session = await (await testContext({config: suite.config, emulator: suite.emulator})).context.session()
    const user = await session.call(async token => session.api.user(token))

    expect(user.userId).to.equal('user_emulator_01')
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    const saved = await readConfig(suite.config.file)
    expect(saved.token).not.to.equal(login.access)
    expect(saved.refresh_token).not.to.equal(login.refresh)
    expect(saved).to.deep.include({org: 'user-namespace'})
    const users = suite.emulator.requests.filter(request => request.path === '/v1/users').map(request => bearer(request))
    expect(users).to.deep.equal([login.access, saved.token])
    expect(session.credentials.token).to.equal(saved.token)
  })

  it('concurrent callers all rejected with 401 share one refresh', async () => {
    const login = await oauthLogin(suite.emulator, -10, {expiresIn: 3600})
    suite.config = login.config
    const session = await (await testContext({config: suite.config, emulator: suite.emulator})).context.session()
    const results = await Promise.all(Array.from({length: 5}, async () => session.call(async token => session.api.organizations(token))))

    expect(results.every(list => list[0]?.name === 'user-namespace')).to.equal(true)
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    expect(suite.emulator.stats.refreshReuseDetected).to.equal(0)
  })

  it('concurrent callers with a token about to expire share one refresh, made before any request', async () => {
    const login = await oauthLogin(suite.emulator, 30)
    suite.config = login.config
    const session = await (await testContext({config: suite.config, emulator: suite.emulator})).context.session()
    await Promise.all(Array.from({length: 4}, async () => session.call(async token => session.api.user(token))))

    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    const renewed = (await readConfig(suite.config.file)).token
    const users = suite.emulator.requests.filter(request => request.path === '/v1/users')
    expect(users).to.have.length(4)
    expect(users.every(request => bearer(request) === renewed)).to.equal(true)
  })

  it('a refresh the service refuses: not logged in (exit 4), the file unchanged', async () => {
    suite.config = (await oauthLogin(suite.emulator, -10, {expiresIn: 3600, issuer: suite.emulator.url, refreshToken: 'emu_rt_unknown'})).config
    const before = await readText(suite.config.file)
    const session = await (await testContext({config: suite.config, emulator: suite.emulator})).context.session()
    const error = await failureOf(session.call(async token => session.api.user(token)))

    expect(error).to.include({exit: 4, message: 'Your session has expired and could not be renewed.'})
    expect(await readText(suite.config.file)).to.equal(before)
  })

  it('a personal access token from PIPECAT_TOKEN is never refreshed: a 401 is final', async () => {
    suite.config = await tempConfig()
    const session = await (await testContext({config: suite.config, emulator: suite.emulator, env: {PIPECAT_TOKEN: 'pcc_pat_unknown_to_the_service'}})).context.session()
    expect(session.credentials).to.deep.include({method: 'personal-access-token', source: 'environment'})
    const error = await failureOf(session.call(async token => session.api.user(token)))
    expect(error).to.include({exit: 4, message: 'The token in PIPECAT_TOKEN was rejected by Pipecat Cloud.'})
    expect(suite.emulator.stats.refreshGrants).to.equal(0)
  })

  it('Ctrl-C (the context aborted) stops a request that gets no answer, with the interrupt as the reason', async () => {
    suite.config = (await oauthLogin(suite.emulator)).config
    suite.emulator.knobs.failures['/v1/users'] = {kind: 'hang'}
    const {context, interrupt} = await testContext({config: suite.config, emulator: suite.emulator})
    const session = await context.session()
    const call = failureOf(session.call(async token => session.api.user(token)))
    await waitFor(() => suite.emulator.requests.some(request => request.path === '/v1/users'))
    interrupt(new InterruptedError('Interrupted.'))
    const error = await call
    expect(error).to.include({exit: 130, message: 'Interrupted.'})
  })
})
