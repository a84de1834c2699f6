import {expect} from 'chai'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {runCli, startCli} from '../support/cli.js'
import {
  emulatorEnv,
  oauthLogin,
  ORG_TABLES,
  readConfig,
  readText,
  type TempConfig,
} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'

const WHOAMI = ['cloud', 'auth', 'whoami']

describe('token refresh', () => {
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

  /** The stored credentials were replaced by a valid, rotated set; org and organization tables kept. */
  async function expectRenewed(file: string, old: {access: string; refresh: string}): Promise<string> {
    const data = await readConfig(file)
    expect(data.token).to.be.a('string').and.not.equal(old.access)
    expect(emulator.isValid(data.token as string)).to.equal(true)
    expect(data.refresh_token).to.be.a('string').and.not.equal(old.refresh)
    expect(data.token_expires_at).to.be.closeTo((Date.now() / 1000) + 3600, 30)
    expect(data.org).to.equal('user-namespace')
    expect(data['user-namespace']).to.deep.equal({default_public_key: 'pk_user_namespace_key', default_public_key_name: 'Default Key'})
    expect(data.acme).to.deep.equal({default_public_key: 'pk_acme_key', default_public_key_name: 'Acme Key'})
    return data.token as string
  }

  it('after a 401, refreshes once, stores the new tokens and retries', async () => {
    // The file says the token is good for an hour; the service has already expired it.
    const login = await oauthLogin(emulator, -10, {expiresIn: 3600})
    config = login.config
    const result = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})

    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
    expect(emulator.stats.refreshGrants).to.equal(1)
    expect(emulator.stats.refreshReuseDetected).to.equal(0)
    const renewed = await expectRenewed(config.file, login)
    const grant = emulator.requests.find(request => request.path === '/oauth/token')!
    expect(new URLSearchParams(grant.body).get('grant_type')).to.equal('refresh_token')
    expect(new URLSearchParams(grant.body).get('refresh_token')).to.equal(login.refresh)
    // Each lookup: first with the rejected token, then once more with the new one.
    const users = emulator.requests.filter(request => request.path === '/v1/users').map(request => bearer(request))
    expect(users).to.deep.equal([login.access, renewed])
    expectNoSecrets(result, login.access, login.refresh, renewed)
  })

  it('after a 401 whose refresh fails: exit 4 with the login advice, the stored credentials left as they were', async () => {
    config = (await oauthLogin(emulator, -10, {expiresIn: 3600, refreshToken: 'emu_rt_revoked_SECRET'})).config
    const before = await readText(config.file)
    const result = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})

    expect(result.code).to.equal(4)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.contain('Your session has expired and could not be renewed.').and.contain('Run `pipecat cloud auth login` to sign in.')
    expect(emulator.stats.refreshGrants).to.equal(1)
    expect(await readText(config.file)).to.equal(before)
    expectNoSecrets(result, 'emu_rt_revoked_SECRET')
  })

  it('refreshes an expired token before using it, and stores the new one', async () => {
    const login = await oauthLogin(emulator, -30)
    config = login.config
    const result = await runCli([...WHOAMI, '--json'], {env: emulatorEnv(emulator, config)})

    expect(result.code, result.stderr).to.equal(0)
    const report = JSON.parse(result.stdout) as {tokenExpiry: {expired: boolean; relative: string}}
    expect(report.tokenExpiry).to.deep.include({expired: false, relative: 'in 59 min'})
    const renewed = await expectRenewed(config.file, login)
    // Renewed first: the service never saw the expired token.
    expect(requested(emulator).slice(0, 3)).to.deep.equal(['GET /auth/config', 'GET /oauth/.well-known/openid-configuration', 'POST /oauth/token'])
    expect(emulator.requests.filter(request => request.path.startsWith('/v1/')).every(request => bearer(request) === renewed)).to.equal(true)
    expect(emulator.stats.refreshGrants).to.equal(1)
    expectNoSecrets(result, login.access, login.refresh, renewed)
  })

  it('never refreshes a personal access token stored in the file', async () => {
    const pat = emulator.issuePat()
    config = (await oauthLogin(emulator, 3600, {expiresIn: 0, refreshToken: '', token: pat})).config
    const before = await readText(config.file)
    const result = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})

    expect(result.code).to.equal(0)
    expect(result.stdout).to.match(/^Auth method:\s+personal access token$/mv)
    expect(result.stdout).to.match(/^Token expires:\s+never \(valid until revoked in the dashboard\)$/mv)
    expect(emulator.stats.refreshGrants).to.equal(0)
    expect(await readText(config.file)).to.equal(before)
    expectNoSecrets(result, pat)
  })

  it('six whoami processes at once with a token expiring in 30 s: all succeed, one refresh grant, no reuse', async () => {
    const login = await oauthLogin(emulator, 30)
    config = login.config
    const env = emulatorEnv(emulator, config)
    const results = await Promise.all(Array.from({length: 6}, async () => startCli(WHOAMI, {env}).result))

    for (const result of results) {
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
      expectNoSecrets(result, login.access, login.refresh)
    }

    expect(emulator.stats.refreshGrants).to.equal(1)
    expect(emulator.stats.refreshReuseDetected).to.equal(0)
    const renewed = await expectRenewed(config.file, login)
    // Every process used the one renewed token; none went on with the old one.
    const lookups = emulator.requests.filter(request => request.path.startsWith('/v1/'))
    expect(lookups).to.have.length(18)
    expect(lookups.every(request => bearer(request) === renewed)).to.equal(true)
    expect(await readText(config.file)).to.contain(ORG_TABLES.trim().split('\n', 1)[0])
  })
})
