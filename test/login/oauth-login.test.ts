import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {
  chmod,
  mkdir,
  readFile,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {authorizeRedirect, playBrowser} from '../emulator/browser.js'
import {runCli} from '../support/cli.js'
import {
  emulatorEnv,
  exists,
  storedConfig,
  tempConfig,
} from '../support/config.js'
import {requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {
  finished,
  printed,
  printedUrl,
  startLogin,
} from '../support/login.js'
import {occupyPorts, portsAreFree} from '../support/net.js'
import {waitFor} from '../support/poll.js'
import {pythonLoad} from '../support/python.js'
import {emulatorSuite} from '../support/suite.js'

describe('cloud auth login (OAuth + PKCE, against the emulator)', () => {
  const suite = emulatorSuite()

  it('signs in through the browser and stores token, refresh token, expiry and organization (0600, loads in tomllib)', async () => {
    const run = startLogin(suite.emulator, suite.config)
    const url = new URL(await printedUrl(run))
    // The authorization request carries exactly the protocol's parameters, no prompt.
    expect(names(url.searchParams)).to.deep.equal([
      'client_id', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'response_type', 'scope', 'state',
    ])
    expect(url.searchParams.get('redirect_uri')).to.equal('http://127.0.0.1:8400/oauth_callback')
    expect(url.searchParams.get('code_challenge_method')).to.equal('S256')
    expect(url.searchParams.get('state')!.length).to.be.greaterThanOrEqual(32)

    const page = await playBrowser(url.href)
    expect(page.status).to.equal(200)
    expect(page.body).to.contain('Signed in to Pipecat Cloud')
    const result = await finished(run)

    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(`Logged in as dev@example.com\nOrganization: Demo User (user-namespace)\nCredentials saved to ${suite.config.file}\n`)
    // The address is on its own line, before anything else happens.
    expect(result.stderr.split('\n', 2)[1]).to.equal(url.href)
    expectNoSecrets(result)

    const stored = await storedConfig(suite.config.file)
    expect(Object.keys(stored).toSorted()).to.deep.equal(['@pipecat-ai/plugin-cloud', 'org', 'refresh_token', 'token', 'token_expires_at', 'user-namespace'])
    expect(stored['@pipecat-ai/plugin-cloud'], 'bound to the service that issued them').to.deep.include({issuer: suite.emulator.url})
    expect(stored.org).to.equal('user-namespace')
    expect(stored['user-namespace']).to.deep.equal({})
    expect(suite.emulator.isValid(stored.token as string)).to.equal(true)
    expect(stored.refresh_token).to.match(/^emu_rt_/v)
    expect(stored.token_expires_at).to.be.closeTo((Date.now() / 1000) + 3600, 30)
    // The official CLI's own TOML library reads the same data.
    expect(await pythonLoad(suite.config.file, 'toml')).to.deep.equal(stored)

    // The code exchange (PKCE checked by the emulator), then both account lookups with the new token.
    expect(suite.emulator.stats.codeExchanges).to.equal(1)
    expect(requested(suite.emulator)).to.include.members(['GET /auth/config', 'GET /oauth/.well-known/openid-configuration', 'POST /oauth/token', 'GET /v1/organizations', 'GET /v1/users'])
    const exchange = new URLSearchParams(suite.emulator.requests.find(request => request.path === '/oauth/token')!.body)
    expect(names(exchange)).to.deep.equal(['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri'])
    const lookups = suite.emulator.requests.filter(request => request.path.startsWith('/v1/'))
    const bearer = `Bearer ${String(stored.token)}`
    expect(lookups.map(request => request.headers.authorization)).to.deep.equal([bearer, bearer])
    expect(await portsAreFree()).to.equal(true)
  })

  it('keeps the stored organization when the account still belongs to it, and every other table and key', async () => {
    suite.config = await tempConfig(`org = "acme"

[acme]
default_public_key = "pk_acme"
default_public_key_name = "Acme Key"

[another-user-org]
default_public_key = "pk_other"
default_public_key_name = "Test Key"
custom_setting = "kept"
`)
    const run = startLogin(suite.emulator, suite.config)
    await playBrowser(await printedUrl(run))
    const result = await finished(run)

    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain('Organization: Acme Inc (acme)')
    const stored = await storedConfig(suite.config.file)
    expect(stored.org).to.equal('acme')
    expect(stored.acme).to.deep.equal({default_public_key: 'pk_acme', default_public_key_name: 'Acme Key'})
    expect(stored['another-user-org']).to.deep.equal({custom_setting: 'kept', default_public_key: 'pk_other', default_public_key_name: 'Test Key'})
    expect(stored).not.to.have.property('user-namespace')
  })

  it('takes the first organization when the stored one is no longer the account\'s, and makes a table for it', async () => {
    suite.config = await tempConfig('org = "left-company"\n\n[left-company]\ndefault_public_key = "pk_old"\n')
    const run = startLogin(suite.emulator, suite.config)
    await playBrowser(await printedUrl(run))
    const result = await finished(run)

    expect(result.code).to.equal(0)
    const stored = await storedConfig(suite.config.file)
    expect(stored.org).to.equal('user-namespace')
    expect(stored['user-namespace']).to.deep.equal({})
    expect(stored['left-company']).to.deep.equal({default_public_key: 'pk_old'})
  })

  it('signing in again replaces the credentials and revokes the previous refresh token', async () => {
    const old = suite.emulator.issueTokens()
    suite.config = await tempConfig(`token = "${old.access_token}"
org = "user-namespace"
refresh_token = "${old.refresh_token}"
token_expires_at = ${(Date.now() / 1000) + 3600}

[user-namespace]
`)
    const run = startLogin(suite.emulator, suite.config)
    await playBrowser(await printedUrl(run))
    const result = await finished(run)

    expect(result.code).to.equal(0)
    expectNoSecrets(result, old.access_token, old.refresh_token)
    const stored = await storedConfig(suite.config.file)
    expect(stored.token).not.to.equal(old.access_token)
    expect(stored.refresh_token).not.to.equal(old.refresh_token)
    expect(suite.emulator.stats.revocations).to.equal(1)
    const logout = suite.emulator.requests.find(request => request.path === '/auth/logout')!
    expect(JSON.parse(logout.body)).to.deep.equal({refresh_token: old.refresh_token})
    // The old session is over; the new one works. The revocation came after the new credentials were saved.
    expect(suite.emulator.isValid(old.access_token)).to.equal(false)
    expect(suite.emulator.isValid(stored.token as string)).to.equal(true)
    expect(requested(suite.emulator).indexOf('POST /auth/logout')).to.equal(requested(suite.emulator).length - 1)
  })

  it('a failed email lookup does not undo a good sign-in', async () => {
    suite.emulator.knobs.failures['/v1/users'] = {status: 404}
    const run = startLogin(suite.emulator, suite.config)
    await playBrowser(await printedUrl(run))
    const result = await finished(run)
    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain('Logged in as an account whose email could not be looked up\nOrganization: Demo User (user-namespace)')
    expect((await storedConfig(suite.config.file)).token).to.match(/^emu_at_/v)
  })

  it('with PIPECAT_TOKEN set, still stores the new credentials and warns that the variable overrides them', async () => {
    const run = startLogin(suite.emulator, suite.config, ['--headless'], {PIPECAT_TOKEN: 'pcc_pat_from_the_environment'})
    await playBrowser(await printedUrl(run))
    const result = await finished(run)

    expect(result.code).to.equal(0)
    expect(result.stderr).to.match(/Warning: PIPECAT_TOKEN is set/v)
    expect((await storedConfig(suite.config.file)).token).to.match(/^emu_at_/v)
  })

  it('-h and --no-browser mean headless: no browser is tried', async () => {
    for (const flag of ['-h', '--no-browser']) {
      suite.emulator.reset()
      const run = startLogin(suite.emulator, suite.config, [flag])
      await playBrowser(await printedUrl(run))
      const result = await finished(run)
      expect(result.code, flag).to.equal(0)
      expect(result.stderr, flag).not.to.match(/Not opening|Opening the address|Could not open/v)
      expect(result.stdout, flag).to.contain('Logged in as dev@example.com')
    }
  })

  it('without --headless, says why no browser can be opened and carries on', async () => {
    const run = startLogin(suite.emulator, suite.config, [], {
      BROWSER: undefined, DISPLAY: undefined, SSH_CONNECTION: '10.0.0.1 5000 10.0.0.2 22', WAYLAND_DISPLAY: undefined,
    })
    const url = await printedUrl(run)
    await printed(run, /Not opening a browser: this is an SSH session/v)
    await playBrowser(url)
    const result = await finished(run)
    expect(result.code).to.equal(0)
    // The address came before the attempt.
    expect(result.stderr.indexOf(url)).to.be.lessThan(result.stderr.indexOf('Not opening a browser'))
  })

  describe('opening the browser', () => {
    let xdg: string
    let opened: string

    beforeEach(async () => {
      xdg = path.join(suite.config.dir, 'xdg')
      opened = path.join(suite.config.dir, 'opened.txt')
      await mkdir(xdg)
    })

    /** A stand-in browser that records its arguments, one a line. */
    const recorder = async (name: string): Promise<string> => {
      const program = path.join(suite.config.dir, name)
      await writeFile(program, `#!/bin/sh\nfor arg in "$@"; do printf '%s\\n' "$arg"; done > '${opened}.part' && mv '${opened}.part' '${opened}'\n`)
      await chmod(program, 0o755)
      return program
    }

    const recorded = async () => waitFor(async () => (existsSync(opened) ? readFile(opened, 'utf8') : ''), {intervalMs: 50, what: 'the browser to be opened'})

    // A desktop with no registered handler: xdg-open (what `open` runs) falls back to x-www-browser on PATH.
    const desktop = (bin: string) => ({
      BROWSER: undefined, DISPLAY: ':0', PATH: `${bin}:${process.env.PATH ?? ''}`, SSH_CLIENT: undefined, SSH_CONNECTION: undefined, SSH_TTY: undefined,
      XDG_CONFIG_DIRS: xdg, XDG_CONFIG_HOME: xdg, XDG_CURRENT_DESKTOP: undefined, XDG_DATA_DIRS: xdg, XDG_DATA_HOME: xdg,
    })

    it('without BROWSER, opens the printed address with `open`', async () => {
      await recorder('x-www-browser')
      const run = startLogin(suite.emulator, suite.config, [], desktop(suite.config.dir))
      const url = await printedUrl(run)

      expect(await recorded()).to.equal(`${url}\n`)
      await playBrowser(url)
      const result = await finished(run)
      expect(result.code).to.equal(0)
      expect(result.stderr).to.contain('Opening the address in your browser...')
      expect(result.stderr).not.to.contain('Could not open')
    })

    // Where a BROWSER is set, it is the user's choice: with or without a display, over SSH too (a helper that forwards it).
    const places = {
      'a desktop': {DISPLAY: ':0'},
      'an SSH session': {DISPLAY: undefined, SSH_CONNECTION: '10.0.0.1 5000 10.0.0.2 22', WAYLAND_DISPLAY: undefined},
      'no display': {DISPLAY: undefined, WAYLAND_DISPLAY: undefined},
    }
    for (const [place, env] of Object.entries(places)) {
      it(`BROWSER set to a program, on ${place}: that program gets the address`, async () => {
        const program = await recorder('my browser')
        const run = startLogin(suite.emulator, suite.config, [], {...env, BROWSER: program})
        const url = await printedUrl(run)

        expect(await recorded()).to.equal(`${url}\n`)
        await playBrowser(url)
        const result = await finished(run)
        expect(result.code).to.equal(0)
        expect(result.stderr).to.contain(`Opening the address with ${program} (from BROWSER)...`)
        expect(result.stderr).not.to.match(/Not opening a browser|Could not open/v)
      })
    }

    it('BROWSER with arguments and %s, after a program that is missing: the next one, the address where %s was', async () => {
      const program = await recorder('browser.sh')
      const missing = path.join(tmpdir(), 'no-such-browser-here')
      const run = startLogin(suite.emulator, suite.config, [], {BROWSER: `${missing}:${program} --new-window '%s' "two words"`, DISPLAY: undefined})
      const url = await printedUrl(run)

      expect(await recorded()).to.equal(`--new-window\n${url}\ntwo words\n`)
      await playBrowser(url)
      expect((await finished(run)).code).to.equal(0)
    })

    it('BROWSER naming a program that cannot start, or one that fails: says so and carries on as headless', async () => {
      const failing = path.join(suite.config.dir, 'failing.sh')
      await writeFile(failing, '#!/bin/sh\nexit 3\n')
      await chmod(failing, 0o755)
      const missing = path.join(tmpdir(), 'no-such-browser-here')
      const cases: Array<[string, RegExp]> = [
        [missing, /Could not open a browser: BROWSER names \S+no-such-browser-here, which could not be started\. Open the address above yourself\./v],
        [failing, /Could not open a browser: \S+failing\.sh \(from BROWSER\) exited with status 3\. Open the address above yourself\./v],
      ]
      for (const [browser, failure] of cases) {
        suite.emulator.reset()
        const run = startLogin(suite.emulator, suite.config, [], {BROWSER: browser})

        const url = await printedUrl(run)

        await printed(run, failure)

        await playBrowser(url)

        expect((await finished(run)).code).to.equal(0)
      }
    })
  })

  describe('failures: clear message, exit 1, nothing written', () => {
    async function expectNothingSaved(result: {code: null | number; stderr: string}, message: RegExp): Promise<void> {
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(message)
      expect(result.stderr).to.match(/^Try this: /mv)
      expect(result.stderr).not.to.match(/^\s+at /mv)
      expect(await exists(suite.config.file)).to.equal(false)
      expect(await portsAreFree()).to.equal(true)
    }

    it('a redirect whose state does not match gets an error page and is ignored: its code is never exchanged, the sign-in goes on', async () => {
      const run = startLogin(suite.emulator, suite.config)
      const genuine = await authorizeRedirect(await printedUrl(run))
      const redirect = new URL(genuine)
      redirect.searchParams.set('state', 'forged-state')
      const page = await fetch(redirect)
      expect(page.status).to.equal(400)
      expect(await page.text()).to.contain('Not this sign-in').and.contain('state does not match')
      expect(suite.emulator.stats.codeExchanges).to.equal(0)

      expect((await fetch(genuine)).status).to.equal(200)
      const result = await finished(run)
      expect(result.code, result.stderr).to.equal(0)
      expect(suite.emulator.stats.codeExchanges).to.equal(1)
      expectNoSecrets(result)
    })

    it('a denial in the browser', async () => {
      const run = startLogin(suite.emulator, suite.config)
      const page = await playBrowser(await printedUrl(run), {decision: 'deny'})
      expect(page.body).to.contain('Sign-in failed').and.contain('denied')
      await expectNothingSaved(await finished(run), /Error: The sign-in was denied in the browser\./v)
    })

    it('an answer carrying another issuer (RFC 9207 mix-up defence)', async () => {
      suite.emulator.knobs.callbackIss = 'https://evil.example'
      const run = startLogin(suite.emulator, suite.config)
      await playBrowser(await printedUrl(run))
      await expectNothingSaved(await finished(run), /Error: The sign-in answer came from another issuer \(https:\/\/evil\.example, expected http:\/\/127/v)
      expect(suite.emulator.stats.codeExchanges).to.equal(0)
    })

    it('a code exchange the provider refuses; the browser page says so too', async () => {
      suite.emulator.knobs.failures['POST /oauth/token'] = {status: 400}
      const run = startLogin(suite.emulator, suite.config)
      const page = await playBrowser(await printedUrl(run))
      expect(page.status).to.equal(400)
      expect(page.body).to.contain('did not accept the authorization code')
      await expectNothingSaved(await finished(run), /Error: The sign-in provider did not accept the authorization code \(HTTP 400/v)
    })

    it('an error answer is shown escaped on the page and without control characters in the terminal', async () => {
      const run = startLogin(suite.emulator, suite.config)
      const url = new URL(await printedUrl(run))
      const callback = new URL(url.searchParams.get('redirect_uri')!)
      callback.searchParams.set('state', url.searchParams.get('state')!)
      callback.searchParams.set('error', 'server_error')
      callback.searchParams.set('error_description', '<script>alert(1)</script>\u{1B}[31mred')
      const page = await fetch(callback)
      const html = await page.text()
      expect(html).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;')
      expect(html).not.to.contain('<script>')
      expect(page.headers.get('content-security-policy')).to.contain("default-src 'none'")
      const result = await finished(run)
      await expectNothingSaved(result, /Error: The sign-in provider reported an error \(server_error\): <script>alert\(1\)<\/script> \[31mred\./v)
      expect(result.stderr).not.to.contain('\u{1B}')
    })

    it('the callback server answers only GET /oauth_callback; other paths are 404 and do not end the sign-in', async () => {
      const run = startLogin(suite.emulator, suite.config)
      const url = await printedUrl(run)
      const {origin} = new URL(new URL(url).searchParams.get('redirect_uri')!)
      expect((await fetch(`${origin}/`)).status).to.equal(404)
      expect((await fetch(`${origin}/favicon.ico`)).status).to.equal(404)
      expect((await fetch(`${origin}/oauth_callback`, {method: 'POST'})).status).to.equal(405)
      expect((await fetch(`${origin}/oauth_callback`)).status).to.equal(400)
      await playBrowser(url)
      const result = await finished(run)
      expect(result.code).to.equal(0)
    })

    it('an account without an organization: the onboarding message, nothing stored', async () => {
      suite.emulator.knobs.organizations = []
      const run = startLogin(suite.emulator, suite.config)
      await playBrowser(await printedUrl(run))
      const result = await finished(run)
      await expectNothingSaved(result, /Error: This Pipecat Cloud account has no organization yet: its onboarding is not finished\./v)
      expect(result.stderr).to.contain(`Finish setting up your account at ${suite.emulator.url}`)
    })

    for (const [name, discovery, message] of [
      ['an issuer that is not the expected one', {issuer: 'https://evil.example'}, /its issuer is "https:\/\/evil\.example", expected "http:\/\/127/v],
      // eslint-disable-next-line unicorn/prefer-https -- plain http is the point of this case
      ['a plain-http endpoint on another host', {authorization_endpoint: 'http://login.example.com/authorize'}, /authorization_endpoint http:\/\/login\.example\.com\/authorize is not https/v],
      ['no PKCE with S256', {code_challenge_methods_supported: ['plain']}, /it does not support PKCE with S256/v],
    ] as const) {
      it(`discovery: ${name} stops the sign-in before any address is shown`, async () => {
        suite.emulator.knobs.discovery = {...discovery}
        const result = await runCli(['cloud', 'auth', 'login', '--headless', '--timeout', '20'], {env: emulatorEnv(suite.emulator, suite.config)})
        await expectNothingSaved(result, message)
        expect(result.stderr).to.match(/The sign-in provider's configuration is unsafe or incomplete/v)
        expect(result.stderr).not.to.contain('authorize?')
        expect(requested(suite.emulator)).not.to.include('GET /oauth/authorize')
      })
    }

    it('all five loopback ports busy: names them', async () => {
      const release = await occupyPorts([8400, 8401, 8402, 8403, 8404])
      try {
        const result = await runCli(['cloud', 'auth', 'login', '--headless'], {env: emulatorEnv(suite.emulator, suite.config)})
        expect(result.code).to.equal(1)
        expect(result.stderr).to.contain('Error: Could not listen for the sign-in answer: ports 8400, 8401, 8402, 8403 and 8404 on 127.0.0.1 are all in use.')
        expect(await exists(suite.config.file)).to.equal(false)
      } finally {
        await release()
      }
    })

    it('a busy port is skipped: the redirect goes to the first free one', async () => {
      const release = await occupyPorts([8400, 8401])
      try {
        const run = startLogin(suite.emulator, suite.config)
        const url = new URL(await printedUrl(run))
        expect(url.searchParams.get('redirect_uri')).to.equal('http://127.0.0.1:8402/oauth_callback')
        await playBrowser(url.href)
        expect((await finished(run)).code).to.equal(0)
      } finally {
        await release()
      }
    })

    it('--timeout: gives up after that many seconds', async () => {
      const started = Date.now()
      const run = startLogin(suite.emulator, suite.config, ['--headless', '--timeout', '2'])
      await printedUrl(run)
      const result = await run.result
      expect(Date.now() - started).to.be.within(1900, 6000)
      await expectNothingSaved(result, /Error: Timed out after 2 s waiting for the sign-in to complete\./v)
      expect(result.stderr).to.match(/Run `pipecat cloud auth login` again/v)
    })

    it('Ctrl-C: closes the callback server, writes nothing, exits 130', async () => {
      const run = startLogin(suite.emulator, suite.config)
      await printedUrl(run)
      expect(await portsAreFree()).to.equal(false)
      run.kill('SIGINT')
      const result = await run.result
      expect(result.code).to.equal(130)
      expect(result.stderr).to.contain('Error: Sign-in interrupted.\nTry this: Run `pipecat cloud auth login` to start again. Nothing was saved.')
      expect(await exists(suite.config.file)).to.equal(false)
      expect(await portsAreFree()).to.equal(true)
    })
  })

  it('a config file left by an earlier failure is untouched by a failed sign-in', async () => {
    const original = 'org = "acme"\n\n[acme]\ndefault_public_key = "pk_acme"\n'
    suite.config = await tempConfig(original)
    const run = startLogin(suite.emulator, suite.config)
    await playBrowser(await printedUrl(run), {decision: 'deny'})
    const result = await finished(run)
    expect(result.code).to.equal(1)
    expect(await readFile(suite.config.file, 'utf8')).to.equal(original)
  })
})

/** The parameter names, sorted. */
function names(params: URLSearchParams): string[] {
  return Object.keys(Object.fromEntries(params)).toSorted()
}
