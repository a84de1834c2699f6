import {expect} from 'chai'

import {renderLogin} from '../../src/auth/login.js'
import {type LogoutResult, logoutWarnings, renderLogout} from '../../src/auth/logout.js'
import {renderWhoami, type WhoamiReport} from '../../src/auth/whoami.js'
import {configReport, renderConfigReport} from '../../src/config/report.js'
import {tempConfig, type TempConfig} from '../support/config.js'
import {testContext} from '../support/in-process.js'

describe('render functions', () => {
  describe('renderConfigReport', () => {
    let config: TempConfig

    afterEach(async () => {
      await config.cleanup()
    })

    const report = async (content: string | undefined, env: Record<string, string> = {}, now = 1_800_000_000) => {
      config = await tempConfig(content)
      return configReport(await (await testContext({config, env})).context.loadConfig(), now)
    }

    it('a table: setting, value, source, in aligned columns, the expiry as a date and a relative time', async () => {
      const lines = renderConfigReport(await report('token = "emu_at_secretpart"\ntoken_expires_at = 1800007200\norg = "acme"\n[acme]\ndefault_public_key = "pk_a"\n'))
      expect(lines[0]).to.equal(`Config file: ${config.file} (exists)`)
      expect(lines[1]).to.equal('')
      const header = lines[2]!
      const valueColumn = header.indexOf('VALUE')
      expect(lines.find(line => line.startsWith('token '))).to.equal(`${'token'.padEnd(valueColumn)}${'emu_at_****'.padEnd(header.indexOf('SOURCE') - valueColumn)}config file`)
      expect(lines.find(line => line.startsWith('token_expires_at'))).to.contain('2027-01-15T10:00:00.000Z (in 2 h)')
      expect(lines.find(line => line.startsWith('default_public_key '))).to.match(/pk_a\s+organization table$/v)
      expect(lines.find(line => line.startsWith('refresh_token'))).to.match(/^refresh_token\s+\(not set\)$/v)
      expect(lines.slice(-3)).to.deep.equal(['Organization tables:', '  [acme]  (active)', '    default_public_key  pk_a'])
      expect(lines.join('\n')).not.to.contain('secretpart')
    })

    it('without a file: "does not exist yet" and no organization tables', async () => {
      const lines = renderConfigReport(await report(undefined))
      expect(lines[0]).to.equal(`Config file: ${config.file} (does not exist yet)`)
      expect(lines.at(-1)).to.equal('Organization tables: none')
    })

    it('an empty organization table says so', async () => {
      const lines = renderConfigReport(await report('[empty-org]\n'))
      expect(lines.slice(-2)).to.deep.equal(['  [empty-org]', '    (empty)'])
    })

    it('control characters from the file never reach the terminal', async () => {
      const lines = renderConfigReport(await report('["evil\\u001b[31morg"]\nname = "x\\u0007y"\n'))
      const text = lines.join('\n')
      // eslint-disable-next-line no-control-regex -- the point: no escape or bell character is printed
      expect(text).not.to.match(/[\u{0}-\u{8}\u{B}-\u{1F}]/v)
      expect(text).to.contain('[evil [31morg]').and.contain('name  x y')
    })

    it('a value set in the environment names its variable', async () => {
      const lines = renderConfigReport(await report(undefined, {PIPECAT_ORG: 'acme'}))
      expect(lines.find(line => line.startsWith('org '))).to.match(/^org\s+acme\s+environment \(PIPECAT_ORG\)$/v)
    })
  })

  describe('renderWhoami', () => {
    const base: WhoamiReport = {
      authMethod: 'oauth',
      dailyApiKey: 'daily-key-value',
      dailyApiKeyError: null,
      email: 'dev@example.com',
      organization: {name: 'acme', verboseName: 'Acme Inc'},
      tokenExpiry: {at: '2030-01-01T00:00:00.000Z', expired: false, relative: 'in 2 h'},
      tokenIssuer: 'https://api.pipecat.daily.co',
      tokenSource: {configPath: '/home/u/.config/pipecatcloud/pipecatcloud.toml', type: 'file'},
      userId: 'user_01',
      warnings: [],
    }

    it('a heading, then aligned rows', () => {
      expect(renderWhoami(base)).to.deep.equal([
        'Logged in to Pipecat Cloud as dev@example.com',
        '',
        'Email:          dev@example.com',
        'User ID:        user_01',
        'Organization:   Acme Inc (acme)',
        'Auth method:    OAuth',
        'Token source:   /home/u/.config/pipecatcloud/pipecatcloud.toml',
        'Token expires:  2030-01-01T00:00:00.000Z (in 2 h)',
        'Issued by:      https://api.pipecat.daily.co',
        'Daily API key:  daily-key-value',
      ])
    })

    it('without an email: the user ID in the heading, "(none)" in the row', () => {
      const lines = renderWhoami({...base, email: null})
      expect(lines[0]).to.equal('Logged in to Pipecat Cloud as user_01')
      expect(lines[2]).to.equal('Email:          (none)')
    })

    it('a token from PIPECAT_TOKEN: where it came from, expiry unknown', () => {
      const lines = renderWhoami({
        ...base, authMethod: 'token', tokenExpiry: null, tokenSource: {type: 'environment', variable: 'PIPECAT_TOKEN'},
      })
      expect(lines).to.include('Auth method:    token')
      expect(lines).to.include('Token source:   PIPECAT_TOKEN (environment)')
      expect(lines).to.include('Token expires:  unknown (set by PIPECAT_TOKEN)')
    })

    it('a personal access token never expires; a Daily key that failed says why', () => {
      const lines = renderWhoami({
        ...base, authMethod: 'personal-access-token', dailyApiKey: null, dailyApiKeyError: 'HTTP 403', organization: null, tokenExpiry: null,
      })
      expect(lines).to.include('Auth method:    personal access token')
      expect(lines).to.include('Token expires:  never (valid until revoked in the dashboard)')
      expect(lines).to.include('Organization:   (none)')
      expect(lines).to.include('Daily API key:  not available (HTTP 403)')
    })
  })

  describe('renderLogout', () => {
    const base: LogoutResult = {
      backup: null,
      configPath: '/c/pipecatcloud.toml',
      credentialsRemoved: true,
      environmentToken: false,
      newerSignInKept: false,
      revocation: 'revoked',
      revocationDetail: null,
      signOutUrl: 'https://dash.example.test/sign-out',
      tokenIssuer: null,
      warnings: [],
      wasLoggedIn: true,
    }
    /** What a user sees: the lines on stdout, the warnings on stderr. */
    const shown = (result: LogoutResult) => ({stderr: logoutWarnings(result), stdout: renderLogout(result)})
    const removed = 'Logged out: removed the credentials from /c/pipecatcloud.toml (the organization settings were kept).'

    it('revoked', () => {
      expect(shown(base)).to.deep.equal({stderr: [], stdout: ['Your session was revoked on Pipecat Cloud.', removed]})
    })

    it('the session had already ended', () => {
      expect(shown({...base, revocation: 'session-ended'}).stdout[0]).to.equal('Your session had already ended on Pipecat Cloud.')
    })

    it('nothing to revoke: the dashboard sign-out address', () => {
      expect(shown({...base, revocation: 'not-attempted'}).stdout[0]).to.contain('visit https://dash.example.test/sign-out')
    })

    it('not confirmed: a warning with the reason and the sign-out address; the credentials line still on stdout', () => {
      const {stderr, stdout} = shown({...base, revocation: 'not-confirmed', revocationDetail: 'Could not reach host'})
      expect(stdout).to.deep.equal([removed])
      expect(stderr).to.deep.equal(['Pipecat Cloud did not confirm that your session was revoked (Could not reach host); it stays valid until it expires (within 24 hours). To end it now, sign out at https://dash.example.test/sign-out'])
    })

    it('a malformed file moved aside', () => {
      const {stderr, stdout} = shown({
        ...base, backup: '/c/pipecatcloud.toml.bak-1', revocation: 'not-attempted', wasLoggedIn: null,
      })
      expect(stdout[0]).to.equal('The config file /c/pipecatcloud.toml could not be read; it was moved to /c/pipecatcloud.toml.bak-1.')
      expect(stderr[0]).to.contain('sign out at https://dash.example.test/sign-out')
    })

    it('not logged in, with and without PIPECAT_TOKEN', () => {
      expect(shown({...base, credentialsRemoved: false, wasLoggedIn: false})).to.deep.equal({stderr: [], stdout: ['You are not logged in.']})
      const withToken = shown({
        ...base, credentialsRemoved: false, environmentToken: true, wasLoggedIn: false,
      })
      expect(withToken.stdout).to.deep.equal(['No credentials are stored in /c/pipecatcloud.toml; there was nothing to remove.'])
      expect(withToken.stderr[0]).to.contain('PIPECAT_TOKEN is set in the environment and still authenticates every command')
    })
  })

  describe('renderLogin', () => {
    it('who, which organization, where the credentials went', () => {
      expect(renderLogin({
        authMethod: 'oauth',
        configPath: '/c/pipecatcloud.toml',
        email: 'dev@example.com',
        environmentTokenOverrides: false,
        organization: {name: 'acme', verboseName: 'Acme Inc'},
        previousSessionIssuer: null,
        previousSessionRevocation: null,
        tokenExpiry: null,
        userId: 'user_01',
        warnings: [],
      })).to.deep.equal(['Logged in as dev@example.com', 'Organization: Acme Inc (acme)', 'Credentials saved to /c/pipecatcloud.toml'])
    })

    it('without an email or a user ID, and an organization without a display name', () => {
      const lines = renderLogin({
        authMethod: 'token',
        configPath: '/c',
        email: null,
        environmentTokenOverrides: false,
        organization: {name: 'acme', verboseName: null},
        previousSessionIssuer: null,
        previousSessionRevocation: null,
        tokenExpiry: null,
        userId: null,
        warnings: [],
      })
      expect(lines.slice(0, 2)).to.deep.equal(['Logged in as an account whose email could not be looked up', 'Organization: acme'])
    })
  })
})
