import {expect} from 'chai'
import {chmod, mkdir} from 'node:fs/promises'

import {
  EXAMPLE_FILE,
  EXAMPLE_TOKEN,
  exists,
  fileMode,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {expectNoSecrets} from '../support/expect.js'
import {runCommand} from '../support/in-process.js'

type Report = {
  activeOrganization: null | string;
  configPath: string;
  exists: boolean;
  organizations: Record<string, Record<string, unknown>>;
  settings: Record<string, {env: string; source: null | string; value: null | number | string}>;
  tokenExpiry: null | {at: string; expired: boolean; relative: string};
}

type ErrorJson = {error: {code: string; exit: number; message: string; suggestions: string[]}}

describe('cloud config (in-process)', () => {
  let config: TempConfig

  afterEach(async () => {
    await config.cleanup()
  })

  const run = async (args: string[], env: Record<string, string> = {}) => runCommand(args, {env: {...config.env, ...env}})

  it('shows the file, every setting with its source and the organization tables; the token redacted', async () => {
    config = await tempConfig(EXAMPLE_FILE)
    const result = await run(['cloud', 'config'])

    expect(result.code).to.equal(0)
    expect(result.stderr).to.equal('')
    const lines = result.stdout.split('\n')
    expect(lines[0]).to.equal(`Config file: ${config.file} (exists)`)
    expect(lines[2]).to.match(/^SETTING\s+VALUE\s+SOURCE$/v)
    expect(result.stdout).to.match(/^token\s+pcc_pat_\*{4}\s+config file$/mv)
    expect(result.stdout).to.match(/^org\s+user-namespace\s+config file$/mv)
    expect(result.stdout).to.match(/^api_host\s+https:\/\/api\.pipecat\.daily\.co\s+default$/mv)
    expect(result.stdout).to.match(/^refresh_token\s+\(not set\)$/mv)
    expect(result.stdout).to.contain('Organization tables:\n  [another-user-org]\n    default_public_key       pk_test_public\n')
    expect(result.stdout).to.contain('[futher-user-org]').and.contain('Pipecat Cloud Public Key')
    expectNoSecrets(result, EXAMPLE_TOKEN)
  })

  it('`cloud --config` prints exactly what `cloud config` prints', async () => {
    config = await tempConfig(EXAMPLE_FILE)
    const viaFlag = await run(['cloud', '--config'])
    const viaCommand = await run(['cloud', 'config'])
    expect(viaFlag.code).to.equal(0)
    expect(viaFlag.stdout).to.equal(viaCommand.stdout)
  })

  it('marks the active organization table', async () => {
    config = await tempConfig(EXAMPLE_FILE.replace('org = "user-namespace"', 'org = "futher-user-org"'))
    const {stdout} = await run(['cloud', 'config'])
    expect(stdout).to.contain('  [futher-user-org]  (active)')
    expect(stdout).to.match(/^ {2}\[another-user-org\]$/mv)
  })

  it('--json: one JSON document with the same data, the token redacted', async () => {
    config = await tempConfig(EXAMPLE_FILE)
    for (const args of [['cloud', 'config', '--json'], ['cloud', '--config', '--json']]) {
      const result = await run(args)
      expect(result.code).to.equal(0)
      expectNoSecrets(result, EXAMPLE_TOKEN)
      const report = JSON.parse(result.stdout) as Report
      expect(report).to.deep.include({
        activeOrganization: 'user-namespace', configPath: config.file, exists: true, tokenExpiry: null,
      })
      expect(Object.keys(report.organizations)).to.deep.equal(['another-user-org', 'futher-user-org'])
      expect(report.organizations['another-user-org']).to.deep.equal({default_public_key: 'pk_test_public', default_public_key_name: 'Test Key'})
      expect(report.settings.token).to.deep.equal({env: 'PIPECAT_TOKEN', source: 'file', value: 'pcc_pat_****'})
      expect(report.settings.api_host).to.deep.equal({env: 'PIPECAT_API_HOST', source: 'default', value: 'https://api.pipecat.daily.co'})
    }
  })

  it('precedence: environment over file over the organization table over the default', async () => {
    config = await tempConfig(`token = "file-token-value"
org = "acme"

[acme]
default_public_key = "pk_from_org"
default_public_key_name = "Org Key"
api_host = "https://org.example.test"
login_path = "/org/login"

[other]
default_public_key = "pk_other"
`)
    const result = await run(['cloud', 'config', '--json'], {PIPECAT_DEFAULT_PUBLIC_KEY_NAME: 'Env Key', PIPECAT_LOGIN_PATH: '/env/login'})
    expect(result.code).to.equal(0)
    const {settings} = JSON.parse(result.stdout) as Report
    expect(settings.default_public_key_name).to.deep.equal({env: 'PIPECAT_DEFAULT_PUBLIC_KEY_NAME', source: 'environment', value: 'Env Key'})
    expect(settings.login_path).to.include({source: 'environment', value: '/env/login'})
    expect(settings.org).to.include({source: 'file', value: 'acme'})
    expect(settings.default_public_key).to.include({source: 'organization', value: 'pk_from_org'})
    expect(settings.api_host).to.include({source: 'organization', value: 'https://org.example.test'})
    expect(settings.whoami_path).to.include({source: 'default', value: '/v1/users'})
    expect(settings.refresh_token).to.deep.equal({env: 'PIPECAT_REFRESH_TOKEN', source: null, value: null})
  })

  it('the human form names the environment variable a value came from', async () => {
    config = await tempConfig()
    const {stdout} = await run(['cloud', 'config'], {PIPECAT_API_HOST: 'https://env.example.test'})
    expect(stdout).to.match(/^api_host\s+https:\/\/env\.example\.test\s+environment \(PIPECAT_API_HOST\)$/mv)
  })

  it('PIPECAT_ORG switches the active organization table', async () => {
    config = await tempConfig('org = "acme"\n[acme]\ndefault_public_key = "pk_acme"\n[other]\ndefault_public_key = "pk_other"\n')
    const {stdout} = await run(['cloud', 'config', '--json'], {PIPECAT_ORG: 'other'})
    const report = JSON.parse(stdout) as Report
    expect(report.activeOrganization).to.equal('other')
    expect(report.settings.default_public_key).to.include({source: 'organization', value: 'pk_other'})
  })

  it('redacts tokens from the file and the environment; shows the expiry as a date and a relative time', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + (3 * 3600) + 120
    config = await tempConfig(`token = "eyJhbGciOiJSUzI1NiJ9.payload.signature"\nrefresh_token = "rt_verysecretrefresh"\ntoken_expires_at = ${expiresAt}.5\n`)
    const fromFile = await run(['cloud', 'config'])
    expect(fromFile.stdout).to.match(/^token\s+eyJ\*{4}\s+config file$/mv)
    expect(fromFile.stdout).to.match(/^refresh_token\s+\*{4}\s+config file$/mv)
    expect(fromFile.stdout).to.match(new RegExp(String.raw`^token_expires_at\s+${new Date((expiresAt * 1000) + 500).toISOString().replaceAll('.', String.raw`\.`)} \(in 3 h\)`, 'mv'))
    expectNoSecrets(fromFile, 'payload', 'verysecretrefresh')

    const fromEnv = await run(['cloud', 'config'], {PIPECAT_TOKEN: 'pcc_pat_envsecretvalue'})
    expect(fromEnv.stdout).to.match(/^token\s+pcc_pat_\*{4}\s+environment \(PIPECAT_TOKEN\)$/mv)
    expectNoSecrets(fromEnv, 'envsecretvalue')
  })

  it('says when the token has expired', async () => {
    config = await tempConfig(`token = "abc"\nrefresh_token = "def"\ntoken_expires_at = ${Math.floor(Date.now() / 1000) - 7200}\n`)
    const {stdout} = await run(['cloud', 'config', '--json'])
    expect((JSON.parse(stdout) as Report).tokenExpiry).to.include({expired: true, relative: 'expired 2 h ago'})
  })

  it('redacts secret-looking keys in organization tables but keeps publishable keys', async () => {
    config = await tempConfig('[acme]\ndefault_public_key = "pk_live_shown"\nprivate_key = "sk_live_hidden_SECRET"\nwebhook_secret = "whsec_0a1b2c_SECRET"\n')
    const result = await run(['cloud', 'config', '--json'])
    const {organizations} = JSON.parse(result.stdout) as Report
    expect(organizations.acme).to.deep.equal({default_public_key: 'pk_live_shown', private_key: 'sk_live_****', webhook_secret: 'whsec_****'})
    expectNoSecrets(result, 'hidden_SECRET', '0a1b2c_SECRET')
  })

  it('redacts by key name anywhere: nested tables, lists, numbers, keys under other names; public keys stay', async () => {
    config = await tempConfig([
      '[acme]',
      'default_public_key = "pk_live_shown"',
      'client_secret = "cs_hidden_SECRET"',
      'api_token = ["at_one_SECRET", "at_two_SECRET"]',
      'private_key_pem = "-----BEGIN hidden_SECRET"',
      'credentials = {user = "u", pass = "inline_SECRET"}',
      'auth = "auth_hidden_SECRET"',
      'password = "pw_hidden_SECRET"',
      'pin_key = 987654321',
      '[acme.sub]',
      'token = "sub_tok_SECRET"',
      'name = "visible"',
      '',
    ].join('\n'))
    for (const args of [['cloud', 'config'], ['cloud', 'config', '--json']]) {
      const result = await run(args)
      expect(result.code, result.stderr).to.equal(0)
      expectNoSecrets(result, 'SECRET', '987654321')
      expect(result.stdout).to.contain('pk_live_shown').and.contain('visible')
    }

    const {organizations} = JSON.parse((await run(['cloud', 'config', '--json'])).stdout) as Report
    expect(organizations.acme).to.deep.include({
      api_token: '****', client_secret: '****', credentials: '****', pin_key: '****',
    })
    expect(organizations.acme?.sub).to.deep.equal({name: 'visible', token: '****'})
  })

  it('lists what a user sets: API paths at their defaults only with --all, and always in --json', async () => {
    config = await tempConfig(EXAMPLE_FILE)
    const plain = await run(['cloud', 'config'], {PIPECAT_WHOAMI_PATH: '/v2/users'})
    expect(plain.stdout).to.not.match(/^login_status_path\s/mv)
    expect(plain.stdout).to.match(/^whoami_path\s+\/v2\/users\s+environment \(PIPECAT_WHOAMI_PATH\)$/mv)
    expect(plain.stdout).to.match(/^api_host\s/mv)
    expect(plain.stdout).to.contain('(6 API paths at their defaults are not shown; --all shows them.)')
    const all = await run(['cloud', 'config', '--all'])
    expect(all.stdout).to.match(/^login_status_path\s+\/auth\/status\s+default$/mv)
    expect(all.stdout).to.not.contain('not shown')
    const same = await run(['cloud', '--config', '--all'])
    expect(same.stdout).to.equal(all.stdout)
    const {settings} = JSON.parse((await run(['cloud', 'config', '--json'])).stdout) as Report
    expect(settings).to.have.property('login_status_path')
  })

  it('without a config file: says it does not exist yet, exit 0, and creates nothing', async () => {
    config = await tempConfig()
    const result = await run(['cloud', 'config'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain(`Config file: ${config.file} (does not exist yet)`).and.contain('Organization tables: none')
    expect((JSON.parse((await run(['cloud', 'config', '--json'])).stdout) as Report).exists).to.equal(false)
    expect(await exists(config.dir + '/pipecatcloud')).to.equal(false)
  })

  it('`cloud` alone shows the topic help', async () => {
    config = await tempConfig()
    const {code, stdout} = await run(['cloud'])
    expect(code).to.equal(0)
    expect(stdout).to.contain('USAGE').and.contain('cloud config')
  })

  describe('a config file that cannot be used', () => {
    it('malformed TOML: exit 1, names the file and the line, says logout resets it; nothing on stdout', async () => {
      config = await tempConfig('token = "abc\norg = 1\n')
      const result = await run(['cloud', 'config'])
      expect(result.code).to.equal(1)
      expect(result.stdout).to.equal('')
      const lines = result.stderr.trimEnd().split('\n')
      expect(lines).to.have.length(2)
      expect(lines[0]).to.match(/^Error: .*is not valid TOML \(line 1/v).and.contain(config.file)
      expect(lines[1]).to.match(/^Try this: .*pipecat cloud auth logout/v)
    })

    it('malformed TOML under --json: one JSON error document, exit 1', async () => {
      config = await tempConfig('token = "abc\n')
      const result = await run(['cloud', 'config', '--json'])
      expect(result.code).to.equal(1)
      const {error} = JSON.parse(result.stdout) as ErrorJson
      expect(error.message).to.contain(config.file)
      expect(error.exit).to.equal(1)
      expect(error.code).to.equal('config')
      expect(error.suggestions[0]).to.contain('cloud auth logout')
    })

    it('a known key of the wrong type', async () => {
      config = await tempConfig('token = 42\n')
      const result = await run(['cloud', 'config'])
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(/"token" must be a string, not a number/v)
    })

    it('a non-table organization section', async () => {
      config = await tempConfig('token = "abc"\nsomeorg = "not a table"\n')
      const result = await run(['cloud', 'config'])
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(/"someorg" must be an organization table/v)
    })

    it('a folder where the file should be', async () => {
      config = await tempConfig()
      await mkdir(config.file, {recursive: true})
      const result = await run(['cloud', 'config'])
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(/Could not read the config file .+: it is a directory/v)
    })
  })

  it('repairs a group/world-readable file to 0600, with a warning on stderr (also under --json)', async () => {
    config = await tempConfig(EXAMPLE_FILE)
    await chmod(config.file, 0o644)
    const result = await run(['cloud', 'config', '--json'])
    expect(result.code).to.equal(0)
    expect(await fileMode(config.file)).to.equal(0o600)
    expect(result.stderr).to.match(/^Warning: The config file .+ was accessible to other users \(mode 0644\); its permissions are now 0600/v)
    expect((JSON.parse(result.stdout) as Report).exists).to.equal(true)
  })
})
