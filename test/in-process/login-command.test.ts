import {expect} from 'chai'
import {Readable} from 'node:stream'

import {playBrowser} from '../emulator/browser.js'
import {
  binding,
  emulatorEnv,
  exists,
  readConfig,
  storedConfig,
} from '../support/config.js'
import {requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {openStdin, runCommand} from '../support/in-process.js'
import {AUTHORIZE_URL, TOKEN_FLOW_URL} from '../support/login.js'
import {portsAreFree} from '../support/net.js'
import {emulatorSuite} from '../support/suite.js'

type LoginJson = {
  authMethod: string;
  configPath: string;
  email: null | string;
  environmentTokenOverrides: boolean;
  organization: {name: string; verboseName: null | string};
  previousSessionRevocation: null | string;
  tokenExpiry: null | {at: string; expired: boolean; relative: string};
  userId: null | string;
}

describe('cloud auth login (in-process)', () => {
  const suite = emulatorSuite()

  /** Login with the browser played by `browser` once the address is printed; stdin stays open as on a terminal left alone. */
  const signIn = async (args: string[], browser: (url: string) => Promise<unknown>, env: Record<string, string> = {}) => {
    let pending: Promise<unknown> | undefined
    let seen = ''
    return runCommand<LoginJson>(['cloud', 'auth', 'login', '--timeout', '20', ...args], {
      env: emulatorEnv(suite.emulator, suite.config, env),
      onStderr(text) {
        seen += text
        const url = (AUTHORIZE_URL.exec(seen) ?? TOKEN_FLOW_URL.exec(seen))?.[0]
        if (url && !pending) pending = browser(url)
      },
      stdin: openStdin(),
    })
  }

  // The official CLI's `auth use-pat` is the same sign-in: every case holds for both names.
  for (const words of [['cloud', 'auth', 'login', '--with-token'], ['cloud', 'auth', 'use-pat']]) {
    describe(words.join(' '), () => {
      const withToken = async (input: string, args: string[] = [], env: Record<string, string> = {}) =>
        runCommand<LoginJson>([...words, ...args], {env: emulatorEnv(suite.emulator, suite.config, env), stdin: Readable.from([input])})

      it('reads a personal access token from stdin, checks it and stores it without refresh or expiry', async () => {
        const pat = suite.emulator.issuePat()
        const result = await withToken(`${pat}\n`)

        expect(result.code).to.equal(0)
        expect(result.stdout).to.equal(`Logged in as dev@example.com\nOrganization: Demo User (user-namespace)\nCredentials saved to ${suite.config.file}\n`)
        // Private (0600), and what the official CLI's Python reads.
        expect(await storedConfig(suite.config.file)).to.deep.equal({
          '@pipecat-ai/plugin-cloud': {...binding(suite.emulator.url, {token: pat}), method: 'personal-access-token'}, org: 'user-namespace', refresh_token: '', token: pat, token_expires_at: 0, 'user-namespace': {},
        })
        expect(requested(suite.emulator).toSorted()).to.deep.equal(['GET /v1/organizations', 'GET /v1/users'])
        expect(suite.emulator.requests[0]!.headers.authorization).to.equal(`Bearer ${pat}`)
        expectNoSecrets(result, pat)
      })

      it('--json: the login as data', async () => {
        const pat = suite.emulator.issuePat()
        const result = await withToken(pat, ['--json'])
        expect(result.code).to.equal(0)
        expect(JSON.parse(result.stdout)).to.deep.include({
          authMethod: 'personal-access-token',
          configPath: suite.config.file,
          email: 'dev@example.com',
          organization: {name: 'user-namespace', verboseName: 'Demo User'},
          previousSessionRevocation: null,
          tokenExpiry: null,
        })
        expectNoSecrets(result, pat)
      })

      it('a token without the pcc_pat_ prefix: refused before anything is sent, exit 1', async () => {
        const result = await withToken('emu_lt_not-a-personal-token\n')
        expect(result.code).to.equal(1)
        expect(result.stderr).to.contain('Error: That is not a personal access token: they start with pcc_pat_.')
        expectNoSecrets(result, 'not-a-personal-token')
        expect(suite.emulator.requests).to.deep.equal([])
        expect(await exists(suite.config.file)).to.equal(false)
      })

      it('a token the service rejects: exit 1, nothing stored', async () => {
        const result = await withToken('pcc_pat_revoked-or-made-up\n')
        expect(result.code).to.equal(1)
        expect(result.stderr).to.contain('Error: Pipecat Cloud rejected the personal access token.')
        expectNoSecrets(result, 'pcc_pat_revoked-or-made-up')
        expect(await exists(suite.config.file)).to.equal(false)
      })

      it('nothing on stdin: says how to pass the token, exit 1', async () => {
        const result = await withToken('')
        expect(result.code).to.equal(1)
        expect(result.stderr).to.contain('Error: No token was given on stdin.')
        expect(result.stderr).to.contain('pipecat cloud auth login --with-token < token.txt')
        expect(await exists(suite.config.file)).to.equal(false)
      })

      it('a token given as an argument: a usage error (exit 2), nothing sent', async () => {
        const result = await runCommand([...words, 'pcc_pat_on_the_command_line'], {env: emulatorEnv(suite.emulator, suite.config)})
        expect(result.code).to.equal(2)
        expect(suite.emulator.requests).to.deep.equal([])
        expect(await exists(suite.config.file)).to.equal(false)
      })

      it('PIPECAT_TOKEN set: the login succeeds and warns that the variable still wins', async () => {
        const pat = suite.emulator.issuePat()
        const result = await withToken(`${pat}\n`, [], {PIPECAT_TOKEN: suite.emulator.issuePat()})
        expect(result.code).to.equal(0)
        expect(result.stderr).to.contain('Warning: PIPECAT_TOKEN is set, so commands keep using it instead of the credentials just saved.')
      })
    })
  }

  describe('--headless (OAuth)', () => {
    it('prints the address; approved in the browser, it stores token, refresh token, expiry and organization', async () => {
      suite.emulator.knobs.autoApprove = true
      const result = await signIn(['--headless'], async url => fetch(url))

      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.equal(`Logged in as dev@example.com\nOrganization: Demo User (user-namespace)\nCredentials saved to ${suite.config.file}\n`)
      const url = AUTHORIZE_URL.exec(result.stderr)![0]
      expect(result.stderr.split('\n')).to.include(url)
      expect(new URL(url).searchParams.get('redirect_uri')).to.equal('http://127.0.0.1:8400/oauth_callback')
      const stored = await readConfig(suite.config.file)
      expect(Object.keys(stored).toSorted()).to.deep.equal(['@pipecat-ai/plugin-cloud', 'org', 'refresh_token', 'token', 'token_expires_at', 'user-namespace'])
      expect(suite.emulator.isValid(stored.token as string)).to.equal(true)
      expect(stored.token_expires_at).to.be.closeTo((Date.now() / 1000) + 3600, 30)
      expect(suite.emulator.stats.codeExchanges).to.equal(1)
      expect(await portsAreFree()).to.equal(true)
      expectNoSecrets(result)
    })

    it('--json: the address on stderr, the result as JSON on stdout', async () => {
      suite.emulator.knobs.autoApprove = true
      const result = await signIn(['--headless', '--json'], async url => fetch(url))
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr).to.match(AUTHORIZE_URL)
      // Progress is for people: under --json only what must be acted on (the address) reaches stderr.
      expect(result.stderr).not.to.contain('Waiting')
      const data = JSON.parse(result.stdout) as LoginJson
      expect(data).to.deep.include({
        authMethod: 'oauth',
        configPath: suite.config.file,
        email: 'dev@example.com',
        environmentTokenOverrides: false,
        organization: {name: 'user-namespace', verboseName: 'Demo User'},
        previousSessionRevocation: null,
        userId: 'user_emulator_01',
      })
      expect(Date.parse(data.tokenExpiry!.at) / 1000).to.be.closeTo((Date.now() / 1000) + 3600, 30)
    })

    it('denied in the browser: exit 1, nothing written', async () => {
      const result = await signIn(['--headless'], async url => playBrowser(url, {decision: 'deny'}))
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(/^Error: /mv)
      expect(await exists(suite.config.file)).to.equal(false)
      expect(await portsAreFree()).to.equal(true)
      expectNoSecrets(result)
    })

    it('signing in again ends the previous session on the service', async () => {
      suite.emulator.knobs.autoApprove = true
      await signIn(['--headless'], async url => fetch(url))
      const first = await readConfig(suite.config.file)
      const result = await signIn(['--headless', '--json'], async url => fetch(url))

      expect(result.code, result.stderr).to.equal(0)
      expect((JSON.parse(result.stdout) as LoginJson).previousSessionRevocation).to.equal('revoked')
      expect(suite.emulator.stats.revocations).to.equal(1)
      expect(suite.emulator.isValid(first.token as string)).to.equal(false)
      expect((await readConfig(suite.config.file)).token).not.to.equal(first.token)
    })
  })

  describe('the earlier token flow (a service without OAuth)', () => {
    it('shows the page and a code; approved, it stores the token without refresh or expiry', async () => {
      suite.emulator.knobs.legacyOnly = true
      suite.emulator.knobs.autoApprove = true
      const result = await signIn(['--headless'], async () => undefined)

      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr).to.match(TOKEN_FLOW_URL).and.match(/code: [A-Z]{4}-\d{4}/v)
      expect(result.stdout).to.contain('Logged in as dev@example.com')
      const stored = await readConfig(suite.config.file)
      expect(stored.token).to.match(/^emu_lt_/v)
      expect(stored).to.deep.include({org: 'user-namespace', refresh_token: '', token_expires_at: 0})
      expect(requested(suite.emulator)).not.to.include('GET /oauth/.well-known/openid-configuration')
      expect(suite.emulator.requests.find(request => request.path === '/auth/login')?.query).to.deep.equal({use_code: 'true'})
      expectNoSecrets(result)
    })

    it('denied on the page: exit 1, nothing written', async () => {
      suite.emulator.knobs.legacyOnly = true
      const result = await signIn(['--headless', '--json'], async url => playBrowser(url, {decision: 'deny'}))
      expect(result.code).to.equal(1)
      const {error} = JSON.parse(result.stdout) as {error: {message: string}}
      expect(error.message).to.contain('The sign-in was denied or did not complete')
      expect(await exists(suite.config.file)).to.equal(false)
    })
  })
})
