import {expect} from 'chai'
import {PassThrough, Readable} from 'node:stream'

import type {LoginOptions} from '../../src/auth/login.js'

import {InterruptedError} from '../../src/errors.js'
import {authorizeRedirect} from '../emulator/browser.js'
import {
  binding,
  exists,
  oauthLogin,
  readConfig,
  tempConfig,
} from '../support/config.js'
import {requested} from '../support/emulator.js'
import {expectNoSecrets, failureOf} from '../support/expect.js'
import {flows, testContext} from '../support/in-process.js'
import {AUTHORIZE_URL} from '../support/login.js'
import {portsAreFree} from '../support/net.js'
import {waitFor} from '../support/poll.js'
import {emulatorSuite} from '../support/suite.js'

const WITH_TOKEN: LoginOptions = {headless: true, timeoutSeconds: 10, withToken: true}
const HEADLESS: LoginOptions = {headless: true, timeoutSeconds: 10, withToken: false}

describe('login and whoami flows, with a context of their own', () => {
  const suite = emulatorSuite()
  let login: Awaited<ReturnType<typeof flows>>['login']
  let whoami: Awaited<ReturnType<typeof flows>>['whoami']

  before(async () => {
    ({login, whoami} = await flows())
  })

  it('a personal access token on stdin: saved with the first organization; the result says who signed in', async () => {
    const pat = suite.emulator.issuePat()
    const {context, printed} = await testContext({config: suite.config, emulator: suite.emulator, stdin: Readable.from([`${pat}\n`])})
    const result = await login(context, WITH_TOKEN)

    expect(result).to.deep.include({
      authMethod: 'personal-access-token',
      configPath: suite.config.file,
      email: 'dev@example.com',
      environmentTokenOverrides: false,
      organization: {name: 'user-namespace', verboseName: 'Demo User'},
      previousSessionRevocation: null,
      tokenExpiry: null,
      userId: 'user_emulator_01',
    })
    expect(await readConfig(suite.config.file)).to.deep.equal({
      '@pipecat-ai/plugin-cloud': {...binding(suite.emulator.url, {token: pat}), method: 'personal-access-token'}, org: 'user-namespace', refresh_token: '', token: pat, token_expires_at: 0, 'user-namespace': {},
    })
    expectNoSecrets(printed(), pat)
  })

  it('keeps the stored organization the account belongs to, and every other table and key', async () => {
    await suite.config.cleanup()
    suite.config = await tempConfig('org = "acme"\n\n[acme]\ndefault_public_key = "pk_acme"\n\n[another-org]\ncustom_setting = "kept"\n')
    const {context} = await testContext({config: suite.config, emulator: suite.emulator, stdin: Readable.from([`${suite.emulator.issuePat()}\n`])})
    const result = await login(context, WITH_TOKEN)

    expect(result.organization).to.deep.equal({name: 'acme', verboseName: 'Acme Inc'})
    const stored = await readConfig(suite.config.file)
    expect(stored).to.deep.include({acme: {default_public_key: 'pk_acme'}, 'another-org': {custom_setting: 'kept'}, org: 'acme'})
  })

  it('a personal access token the service rejects: nothing saved, no file created', async () => {
    const {context} = await testContext({config: suite.config, emulator: suite.emulator, stdin: Readable.from(['pcc_pat_made_up_token\n'])})
    const error = await failureOf(login(context, WITH_TOKEN))
    expect(error.message).to.equal('Pipecat Cloud rejected the personal access token.')
    expect(error.exit).to.equal(1)
    expect(await exists(suite.config.file)).to.equal(false)
  })

  it('an account without an organization: says the onboarding is not finished, nothing saved', async () => {
    suite.emulator.knobs.organizations = []
    const {context} = await testContext({config: suite.config, emulator: suite.emulator, stdin: Readable.from([`${suite.emulator.issuePat()}\n`])})
    const error = await failureOf(login(context, WITH_TOKEN))
    expect(error.message).to.equal('This Pipecat Cloud account has no organization yet: its onboarding is not finished.')
    expect(await exists(suite.config.file)).to.equal(false)
  })

  it('OAuth, headless: the address as a notice; the redirect pasted on stdin completes the sign-in', async () => {
    const stdin = new PassThrough()
    const {context, lines} = await testContext({config: suite.config, emulator: suite.emulator, stdin})
    const signingIn = login(context, HEADLESS)
    const url = await waitFor(() => lines.notice.map(line => AUTHORIZE_URL.exec(line)?.[0]).find(Boolean))
    stdin.write(`${await authorizeRedirect(url)}\n`)
    const result = await signingIn

    expect(result).to.deep.include({authMethod: 'oauth', email: 'dev@example.com'})
    expect(lines.progress.some(line => line.startsWith('Waiting for the sign-in to finish in the browser'))).to.equal(true)
    const stored = await readConfig(suite.config.file)
    expect(suite.emulator.isValid(stored.token as string)).to.equal(true)
    expect(suite.emulator.stats.codeExchanges).to.equal(1)
    expect(await portsAreFree()).to.equal(true)
  })

  it('Ctrl-C while waiting for the browser: the interrupt, nothing saved, the callback port released', async () => {
    const {context, interrupt, lines} = await testContext({config: suite.config, emulator: suite.emulator, stdin: new PassThrough()})
    const signingIn = failureOf(login(context, HEADLESS))
    await waitFor(() => lines.notice.some(line => AUTHORIZE_URL.test(line)))
    interrupt(new InterruptedError('Interrupted.'))
    const error = await signingIn

    expect(error.exit).to.equal(130)
    expect(await exists(suite.config.file)).to.equal(false)
    expect(await portsAreFree()).to.equal(true)
  })

  it('no answer within the timeout: says so, nothing saved', async () => {
    const {context} = await testContext({config: suite.config, emulator: suite.emulator, stdin: new PassThrough()})
    const error = await failureOf(login(context, {...HEADLESS, timeoutSeconds: 1}))
    expect(error.message).to.equal('Timed out after 1 s waiting for the sign-in to complete.')
    expect(await exists(suite.config.file)).to.equal(false)
  })

  it('whoami: the report, all three lookups with the stored token', async () => {
    await suite.config.cleanup()
    const login_ = await oauthLogin(suite.emulator)
    suite.config = login_.config
    const {context, lines} = await testContext({config: suite.config, emulator: suite.emulator})
    const report = await whoami(context)

    expect(report).to.deep.include({authMethod: 'oauth', email: 'dev@example.com', organization: {name: 'user-namespace', verboseName: 'Demo User'}})
    expect(requested(suite.emulator)).to.have.members(['GET /v1/users', 'GET /v1/organizations', 'GET /v1/organizations/user-namespace/daily'])
    expect(lines.warn).to.deep.equal([])
  })

  it('whoami for an account without an organization: a warning to finish the onboarding', async () => {
    suite.emulator.knobs.organizations = []
    const {context, lines} = await testContext({config: suite.config, emulator: suite.emulator, env: {PIPECAT_TOKEN: suite.emulator.issuePat()}})
    const report = await whoami(context)
    expect(report.organization).to.equal(null)
    expect(report.dailyApiKey).to.equal(null)
    // the flow returns its warnings; the command shows them (BaseCommand.present)
    expect(report.warnings).to.deep.equal(['This account has no organization yet; finish the onboarding in the Pipecat Cloud dashboard.'])
    expect(lines.warn).to.deep.equal([])
  })
})
