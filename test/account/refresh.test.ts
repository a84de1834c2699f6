import {expect} from 'chai'

import {startCli} from '../support/cli.js'
import {
  emulatorEnv,
  oauthLogin,
  ORG_TABLES,
  readConfig,
  readText,
} from '../support/config.js'
import {bearer} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {emulatorSuite} from '../support/suite.js'

const WHOAMI = ['cloud', 'auth', 'whoami']

describe('token refresh', () => {
  const suite = emulatorSuite({config: false})

  /** The stored credentials were replaced by a valid, rotated set; org and organization tables kept. */
  async function expectRenewed(file: string, old: {access: string; refresh: string}): Promise<string> {
    const data = await readConfig(file)
    expect(data.token).to.be.a('string').and.not.equal(old.access)
    expect(suite.emulator.isValid(data.token as string)).to.equal(true)
    expect(data.refresh_token).to.be.a('string').and.not.equal(old.refresh)
    expect(data.token_expires_at).to.be.closeTo((Date.now() / 1000) + 3600, 30)
    expect(data.org).to.equal('user-namespace')
    expect(data['user-namespace']).to.deep.equal({default_public_key: 'pk_user_namespace_key', default_public_key_name: 'Default Key'})
    expect(data.acme).to.deep.equal({default_public_key: 'pk_acme_key', default_public_key_name: 'Acme Key'})
    return data.token as string
  }

  it('six whoami processes at once with a token expiring in 30 s: all succeed, one refresh grant, no reuse', async () => {
    const login = await oauthLogin(suite.emulator, 30)
    suite.config = login.config
    const env = emulatorEnv(suite.emulator, suite.config)
    const results = await Promise.all(Array.from({length: 6}, async () => startCli(WHOAMI, {env}).result))

    for (const result of results) {
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
      expectNoSecrets(result, login.access, login.refresh)
    }

    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    expect(suite.emulator.stats.refreshReuseDetected).to.equal(0)
    const renewed = await expectRenewed(suite.config.file, login)
    // Every process used the one renewed token; none went on with the old one.
    const lookups = suite.emulator.requests.filter(request => request.path.startsWith('/v1/'))
    expect(lookups).to.have.length(18)
    expect(lookups.every(request => bearer(request) === renewed)).to.equal(true)
    expect(await readText(suite.config.file)).to.contain(ORG_TABLES.trim().split('\n', 1)[0])
  })
})
