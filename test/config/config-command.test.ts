import {expect} from 'chai'
import {
  chmod,
  mkdir,
  readFile,
  symlink,
  writeFile,
} from 'node:fs/promises'
import path from 'node:path'

import {runCli} from '../support/cli.js'
import {fileMode, tempConfig} from '../support/config.js'

// The product documentation's example, with a token that must never be shown.
const SEED_TOKEN = 'pcc_pat_0123456789abcdefSECRET'
const SEED_FILE = `token = "${SEED_TOKEN}"
org = "user-namespace"

[another-user-org]
default_public_key = "pk_test_public"
default_public_key_name = "Test Key"

[futher-user-org]
default_public_key = "pk_test_other"
default_public_key_name = "Pipecat Cloud Public Key"
`

type Report = {
  activeOrganization: null | string;
  exists: boolean;
  organizations: Record<string, Record<string, unknown>>;
  path: string;
  settings: Record<string, {env: string; source: null | string; value: null | number | string}>;
  tokenExpiry: null | {at: string; expired: boolean; relative: string};
}

describe('cloud config', () => {
  let config: Awaited<ReturnType<typeof tempConfig>>

  afterEach(async () => {
    await config.cleanup()
  })

  it('shows the documented example file: org, both organization tables, token redacted (--config and config agree)', async () => {
    config = await tempConfig(SEED_FILE)
    const viaFlag = await runCli(['cloud', '--config'], {env: config.env})
    const viaCommand = await runCli(['cloud', 'config'], {env: config.env})
    expect(viaFlag.code).to.equal(0)
    expect(viaFlag.stdout).to.equal(viaCommand.stdout)
    expect(viaFlag.stdout).to.contain(config.file).and.contain('(exists)')
    expect(viaFlag.stdout).to.match(/^org\s+user-namespace\s+config file$/mv)
    expect(viaFlag.stdout).to.contain('[another-user-org]').and.contain('[futher-user-org]').and.contain('Test Key')
    expect(viaFlag.stdout).to.match(/^token\s+pcc_pat_\*{4}\s+config file$/mv)
    expect(viaFlag.stdout + viaFlag.stderr).not.to.contain(SEED_TOKEN)
    expect(viaFlag.stderr).to.equal('')
  })

  it('--json prints one JSON document with the same data, token redacted', async () => {
    config = await tempConfig(SEED_FILE)
    for (const args of [['cloud', 'config', '--json'], ['cloud', '--config', '--json']]) {
      const {code, stdout} = await runCli(args, {env: config.env})
      expect(code).to.equal(0)
      expect(stdout).not.to.contain(SEED_TOKEN)
      const report = JSON.parse(stdout) as Report
      expect(report.path).to.equal(config.file)
      expect(report.exists).to.equal(true)
      expect(report.activeOrganization).to.equal('user-namespace')
      expect(Object.keys(report.organizations)).to.deep.equal(['another-user-org', 'futher-user-org'])
      expect(report.organizations['another-user-org']).to.deep.equal({default_public_key: 'pk_test_public', default_public_key_name: 'Test Key'})
      expect(report.settings.token).to.deep.equal({env: 'PIPECAT_TOKEN', source: 'file', value: 'pcc_pat_****'})
      expect(report.settings.api_host).to.deep.equal({env: 'PIPECAT_API_HOST', source: 'default', value: 'https://api.pipecat.daily.co'})
    }
  })

  it('resolves every setting from environment, then file, then the active organization table, then the default', async () => {
    config = await tempConfig(`token = "file-token-value"
org = "acme"

[acme]
default_public_key = "pk_from_org"
default_public_key_name = "Org Key"
api_host = "https://org.example.test"

[other]
default_public_key = "pk_other"
`)
    const {code, stdout} = await runCli(['cloud', 'config', '--json'], {
      env: {...config.env, PIPECAT_DEFAULT_PUBLIC_KEY_NAME: 'Env Key', PIPECAT_LOGIN_PATH: '/env/login'},
    })
    expect(code).to.equal(0)
    const {settings} = JSON.parse(stdout) as Report
    expect(settings.default_public_key_name).to.include({source: 'environment', value: 'Env Key'})
    expect(settings.login_path).to.include({source: 'environment', value: '/env/login'})
    expect(settings.org).to.include({source: 'file', value: 'acme'})
    expect(settings.default_public_key).to.include({source: 'organization', value: 'pk_from_org'})
    expect(settings.api_host).to.include({source: 'organization', value: 'https://org.example.test'})
    expect(settings.whoami_path).to.include({source: 'default', value: '/v1/users'})
    expect(settings.refresh_token).to.include({source: null, value: null})
  })

  it('PIPECAT_ORG switches the active organization table', async () => {
    config = await tempConfig('org = "acme"\n[acme]\ndefault_public_key = "pk_acme"\n[other]\ndefault_public_key = "pk_other"\n')
    const {stdout} = await runCli(['cloud', 'config', '--json'], {env: {...config.env, PIPECAT_ORG: 'other'}})
    const report = JSON.parse(stdout) as Report
    expect(report.activeOrganization).to.equal('other')
    expect(report.settings.default_public_key).to.include({source: 'organization', value: 'pk_other'})
  })

  it('redacts the token and refresh token from the environment and file, and shows expiry as date and relative time', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + (3 * 3600) + 120
    config = await tempConfig(`token = "eyJhbGciOiJSUzI1NiJ9.payload.signature"
refresh_token = "rt_verysecretrefresh"
token_expires_at = ${expiresAt}.5
org = "acme"
`)
    const {code, stdout} = await runCli(['cloud', 'config'], {env: config.env})
    expect(code).to.equal(0)
    expect(stdout).not.to.contain('payload').and.not.to.contain('verysecretrefresh')
    expect(stdout).to.match(/^token\s+eyJ\*{4}/mv)
    expect(stdout).to.match(/^refresh_token\s+rt_\*{4}/mv)
    expect(stdout).to.contain(new Date((expiresAt * 1000) + 500).toISOString()).and.contain('(in 3 h)')

    const fromEnv = await runCli(['cloud', 'config'], {env: {...config.env, PIPECAT_TOKEN: 'pcc_pat_envsecretvalue'}})
    expect(fromEnv.stdout).to.match(/^token\s+pcc_pat_\*{4}\s+environment \(PIPECAT_TOKEN\)$/mv)
    expect(fromEnv.stdout).not.to.contain('envsecretvalue')
  })

  it('says when the token has expired', async () => {
    config = await tempConfig(`token = "abc"\nrefresh_token = "def"\ntoken_expires_at = ${Math.floor(Date.now() / 1000) - 7200}\n`)
    const {stdout} = await runCli(['cloud', 'config', '--json'], {env: config.env})
    const {tokenExpiry} = JSON.parse(stdout) as Report
    expect(tokenExpiry).to.include({expired: true, relative: 'expired 2 h ago'})
  })

  it('works without a config file, and does not create one', async () => {
    config = await tempConfig()
    const {code, stdout} = await runCli(['cloud', 'config'], {env: config.env})
    expect(code).to.equal(0)
    expect(stdout).to.contain('does not exist yet').and.contain('Organization tables: none')
    let isExists = true
    await readFile(config.file).catch(() => {
      isExists = false
    })
    expect(isExists).to.equal(false)
  })

  it('`cloud` alone shows the topic help', async () => {
    config = await tempConfig()
    const {code, stdout} = await runCli(['cloud'], {env: config.env})
    expect(code).to.equal(0)
    expect(stdout).to.contain('USAGE').and.contain('cloud config')
  })

  describe('a bad config file', () => {
    const expectConfigError = (result: {code: null | number; stderr: string; stdout: string}, pattern: RegExp) => {
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(pattern)
      expect(result.stderr).to.contain(config.file)
      expect(result.stderr).not.to.match(/\bat .+:\d+:\d+/v) // no stack trace
    }

    it('malformed TOML: exit 1, names the file and the line, says logout resets it', async () => {
      config = await tempConfig('token = "abc\norg = 1\n')
      const result = await runCli(['cloud', 'config'], {env: config.env})
      expectConfigError(result, /is not valid TOML \(line 1/v)
      expect(result.stderr).to.contain('pipecat cloud auth logout')
      expect(result.stdout).to.equal('')
    })

    it('a non-table organization section', async () => {
      config = await tempConfig('token = "abc"\nsomeorg = "not a table"\n')
      expectConfigError(await runCli(['cloud', 'config'], {env: config.env}), /"someorg" must be an organization table/v)
    })

    it('a known key of the wrong type', async () => {
      config = await tempConfig('token = 42\n')
      expectConfigError(await runCli(['cloud', 'config'], {env: config.env}), /"token" must be a string, not a number/v)
    })

    it('invalid UTF-8', async () => {
      config = await tempConfig('')
      await writeFile(config.file, Buffer.from([0x74, 0x6F, 0x6B, 0x65, 0x6E, 0x20, 0x3D, 0x20, 0x22, 0xFF, 0xFE, 0x22, 0x0A]))
      expectConfigError(await runCli(['cloud', 'config'], {env: config.env}), /not valid UTF-8/v)
    })

    it('the --json error is one JSON document with the same exit code', async () => {
      config = await tempConfig('token = "abc\n')
      const {code, stdout} = await runCli(['cloud', 'config', '--json'], {env: config.env})
      expect(code).to.equal(1)
      const {error} = JSON.parse(stdout) as {error: {message: string; oclif: {exit: number}; suggestions: string[]}}
      expect(error.message).to.contain(config.file)
      expect(error.oclif.exit).to.equal(1)
      expect(error.suggestions[0]).to.contain('cloud auth logout')
    })

    it('a folder where the file should be', async () => {
      config = await tempConfig()
      await mkdir(config.file, {recursive: true})
      expectConfigError(await runCli(['cloud', 'config'], {env: config.env}), /Could not read the config file .+: it is a directory/v)
    })

    it('a symlink loop at the config path', async () => {
      config = await tempConfig()
      await mkdir(path.dirname(config.file), {recursive: true})
      await symlink(config.file, config.file)
      expectConfigError(await runCli(['cloud', 'config'], {env: config.env}), /too many levels of symbolic links/v)
    })
  })

  it('repairs a group/world-readable file to 0600 with a warning on stderr', async () => {
    config = await tempConfig(SEED_FILE)
    await chmod(config.file, 0o644)
    const {code, stderr, stdout} = await runCli(['cloud', 'config', '--json'], {env: config.env})
    expect(code).to.equal(0)
    expect(await fileMode(config.file)).to.equal(0o600)
    expect(stderr).to.match(/Warning: The config file .+ was accessible to other users \(mode 0644\); its permissions are now 0600/v)
    expect((JSON.parse(stdout) as Report).exists).to.equal(true)
  })
})
