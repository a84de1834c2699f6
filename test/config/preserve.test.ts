/**
 * The config file keeps what its owner wrote: sign-in, refresh and logout
 * (the built CLI against the emulator) change only the credential keys and
 * the active organization; comments, blank lines, number forms, inline
 * tables and integers beyond 2^53 stay byte for byte, and `cloud config`
 * shows those integers exactly.
 */
import {expect} from 'chai'

import {runCli} from '../support/cli.js'
import {
  bindingTable,
  emulatorEnv,
  readText,
  tempConfig,
} from '../support/config.js'
import {pythonLoad} from '../support/python.js'
import {emulatorSuite} from '../support/suite.js'

/** Everything a person might add around the credentials. */
const HEAD = `# Pipecat Cloud: my settings (do not lose this comment)

`
const ORGANIZATIONS = `
# Acme's key, pasted from the dashboard
acme = { default_public_key = "pk_acme_key", ratio = 1.0, big = 9007199254740993 }   # inline, on purpose

[user-namespace]  # my own
default_public_key = "pk_user_namespace_key"
ratio = 1.0
mask = 0o755
limit = 1_000
huge = -9223372036854775808
`

/** Credential lines as a person (or the official CLI) left them, with comments of their own. */
function credentials(token: string, refreshToken: string, expiresAt: string): string {
  return `org = "user-namespace"   # active

# the session
token = "${token}"   # access
refresh_token = "${refreshToken}"      # rotates
token_expires_at = ${expiresAt}
`
}

/** The text with each credential key's value replaced by `…`, trailing comments kept. */
function withoutCredentialValues(text: string): string {
  return text.replaceAll(/^(token|refresh_token|token_expires_at|credentials) = (?:"[^"]*"|[\d.]+)/gmv, '$1 = …')
}

describe('the config file keeps what users wrote', () => {
  const suite = emulatorSuite({config: false})

  it('login adds the credential lines after the last top-level key and the new organization table at the end; nothing else changes', async () => {
    const withoutTable = ORGANIZATIONS.replace(/\[user-namespace\][^]*$/v, '')
    const original = `${HEAD}org = "user-namespace"  # mine\n${withoutTable}`
    suite.config = await tempConfig(original)
    const pat = suite.emulator.issuePat()
    const result = await runCli(['cloud', 'auth', 'login', '--with-token'], {env: emulatorEnv(suite.emulator, suite.config), input: `${pat}\n`})

    expect(result.code, result.stderr).to.equal(0)
    const expected = `${HEAD}org = "user-namespace"  # mine
refresh_token = ""
token = "${pat}"
token_expires_at = 0
${withoutTable}
[user-namespace]
${bindingTable(suite.emulator.url, {token: pat}, 'personal-access-token')}`
    expect(await readText(suite.config.file)).to.equal(expected)
  })

  it('refresh replaces only the credential values (the expiry a float); every other byte stays', async () => {
    const tokens = suite.emulator.issueTokens({ttl: -10})
    const original = HEAD + credentials(tokens.access_token, tokens.refresh_token, '1767225600.0') + ORGANIZATIONS
      + bindingTable(suite.emulator.url, {refreshToken: tokens.refresh_token, token: tokens.access_token})
    suite.config = await tempConfig(original)
    const result = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(suite.emulator, suite.config)})

    expect(result.code, result.stderr).to.equal(0)
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    const after = await readText(suite.config.file)
    expect(after).not.to.contain(tokens.access_token)
    expect(after).to.match(/^token_expires_at = \d+\.\d+$/mv)
    expect(withoutCredentialValues(after)).to.equal(withoutCredentialValues(original))
    // Both libraries the official CLI has used read the result.
    for (const library of ['tomllib', 'toml'] as const) {
      const data = await pythonLoad(suite.config.file, library)
      expect(data.token_expires_at, library).to.be.a('number')
      expect(data['user-namespace']).to.include({default_public_key: 'pk_user_namespace_key', limit: 1000, mask: 0o755})
    }

    expect(after).to.contain('\nratio = 1.0\n').and.contain('huge = -9223372036854775808\n')
  })

  it('logout removes only the credential lines (the comment above them stays)', async () => {
    const tokens = suite.emulator.issueTokens({ttl: 3600})
    const expiresAt = String(Math.floor(Date.now() / 1000) + 3600)
    const original = HEAD + credentials(tokens.access_token, tokens.refresh_token, expiresAt) + ORGANIZATIONS
      + bindingTable(suite.emulator.url, {refreshToken: tokens.refresh_token, token: tokens.access_token})
    suite.config = await tempConfig(original)
    const result = await runCli(['cloud', 'auth', 'logout'], {env: emulatorEnv(suite.emulator, suite.config)})

    expect(result.code, result.stderr).to.equal(0)
    expect(await readText(suite.config.file)).to.equal(`${HEAD}org = "user-namespace"   # active\n\n# the session\n${ORGANIZATIONS}`)
  })

  it('integers beyond 2^53 are read, kept and shown exactly by cloud config and --json', async () => {
    suite.config = await tempConfig(HEAD + ORGANIZATIONS)
    const human = await runCli(['cloud', 'config'], {env: emulatorEnv(suite.emulator, suite.config)})
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/^\s+big\s+9007199254740993$/mv).and.match(/^\s+huge\s+-9223372036854775808$/mv)

    const json = await runCli(['cloud', 'config', '--json'], {env: emulatorEnv(suite.emulator, suite.config)})
    expect(json.code, json.stderr).to.equal(0)
    // The digits as written, a JSON number: JSON.parse would round them, so the text is checked.
    expect(json.stdout).to.match(/"big": 9007199254740993\b/v).and.match(/"huge": -9223372036854775808\b/v)
    expect(JSON.parse(json.stdout)).to.have.nested.property('organizations.acme.ratio', 1)
    expect(await readText(suite.config.file)).to.equal(HEAD + ORGANIZATIONS)
  })
})
