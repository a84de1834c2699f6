import {expect} from 'chai'
import {networkInterfaces} from 'node:os'

import {browserCommands, browserUnavailable} from '../../src/auth/browser.js'
import {loopbackCallback} from '../../src/auth/loopback.js'
import {parsePasted} from '../../src/auth/methods/browser-oauth.js'
import {LoginError} from '../../src/errors.js'
import {
  authorizationCode,
  authorizationRequest,
  codeChallenge,
  type Provider,
} from '../../src/session/oauth.js'
import {occupyPorts, portsAreFree} from '../support/net.js'

// The pieces of sign-in on their own, in-process (the CLI tests cover them end to end).
describe('sign-in pieces', () => {
  describe('PKCE', () => {
    it('S256 matches the RFC 7636 Appendix B test vector', () => {
      expect(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).to.equal('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
    })

    it('each authorization request has a fresh 43-character verifier, its challenge and an unguessable state', () => {
      const provider: Provider = {
        authorizationEndpoint: 'https://auth.example/authorize?tenant=x',
        clientId: 'cli',
        issuer: 'https://auth.example',
        scopes: 'openid offline_access',
        tokenEndpoint: 'https://auth.example/token',
      }
      const first = authorizationRequest(provider, 'http://127.0.0.1:8400/oauth_callback')
      const second = authorizationRequest(provider, 'http://127.0.0.1:8400/oauth_callback')
      expect(first.verifier).to.match(/^[\w\-]{43}$/v)
      expect(first.verifier).not.to.equal(second.verifier)
      expect(first.state).not.to.equal(second.state)
      const url = new URL(first.url)
      expect(url.searchParams.get('tenant')).to.equal('x')
      expect(url.searchParams.get('code_challenge')).to.equal(codeChallenge(first.verifier))
      expect(url.searchParams.get('scope')).to.equal('openid offline_access')
      expect(url.searchParams.has('prompt')).to.equal(false)
    })
  })

  describe('the authorization answer', () => {
    const expected = {issuer: 'https://auth.example', state: 'the-state'}
    const fails = (answer: Parameters<typeof authorizationCode>[0], message: RegExp) => {
      expect(() => authorizationCode(answer, expected)).to.throw(LoginError, message)
    }

    it('gives the code when state matches and iss is absent or ours', () => {
      expect(authorizationCode({code: 'c1', state: 'the-state'}, expected)).to.equal('c1')
      expect(authorizationCode({code: 'c2', iss: 'https://auth.example', state: 'the-state'}, expected)).to.equal('c2')
    })

    it('rejects a missing or different state, another issuer, errors, and a missing code', () => {
      fails({code: 'c'}, /state does not match/v)
      fails({code: 'c', state: 'the-statf'}, /state does not match/v)
      fails({error: 'access_denied', state: 'other'}, /state does not match/v)
      fails({code: 'c', iss: 'https://evil.example', state: 'the-state'}, /another issuer \(https:\/\/evil\.example, expected https:\/\/auth\.example\)/v)
      fails({error: 'access_denied', state: 'the-state'}, /denied in the browser/v)
      // Terminal escapes from the query string are not passed on.
      const escapes = {error: 'temporarily_unavailable', errorDescription: 'try\u{1B}]0;pwned\u{7} later', state: 'the-state'}
      fails(escapes, /^The sign-in provider reported an error \(temporarily_unavailable\): try \]0;pwned later\.$/v)
      fails({state: 'the-state'}, /carries no authorization code/v)
    })

    it('pasted input: the whole address, its query string, or code and state', () => {
      expect(parsePasted('http://127.0.0.1:8400/oauth_callback?code=abc&state=xyz&iss=https%3A%2F%2Fi')).to.deep.include({code: 'abc', iss: 'https://i', state: 'xyz'})
      expect(parsePasted('  ?code=abc&state=xyz ')).to.deep.include({code: 'abc', state: 'xyz'})
      expect(parsePasted('/oauth_callback?error=access_denied&state=xyz')).to.deep.include({error: 'access_denied', state: 'xyz'})
      expect(parsePasted('abc xyz')).to.deep.equal({code: 'abc', state: 'xyz'})
      for (const noise of ['yes', 'http://127.0.0.1:8400/', 'a b c', 'foo=bar', 'http://[bad']) expect(parsePasted(noise), noise).to.equal(undefined)
    })
  })

  describe('whether a browser can be opened', () => {
    const desktop = {DISPLAY: ':0'}

    it('not with BROWSER=none, in an SSH session, or on Linux (and WSL) without a display', () => {
      expect(browserUnavailable({...desktop, BROWSER: 'none'}, 'linux')).to.contain('BROWSER is set to "none"')
      expect(browserUnavailable({...desktop, SSH_CONNECTION: '1.2.3.4 1 5.6.7.8 22'}, 'linux')).to.contain('SSH session')
      expect(browserUnavailable({SSH_TTY: '/dev/pts/1'}, 'darwin')).to.contain('SSH session')
      expect(browserUnavailable({}, 'linux', '6.1.0-13-amd64')).to.contain('there is no display')
      expect(browserUnavailable({}, 'linux', '5.15.90.1-microsoft-standard-WSL2')).to.contain('WSL without a display')
      expect(browserUnavailable({WSL_DISTRO_NAME: 'Debian'}, 'linux', '6.1.0')).to.contain('WSL without a display')
    })

    it('yes on a desktop: Linux with X11 or Wayland, macOS, Windows', () => {
      expect(browserUnavailable(desktop, 'linux')).to.equal(undefined)
      expect(browserUnavailable({WAYLAND_DISPLAY: 'wayland-0'}, 'linux')).to.equal(undefined)
      expect(browserUnavailable({BROWSER: 'firefox'}, 'darwin')).to.equal(undefined)
      expect(browserUnavailable({}, 'win32')).to.equal(undefined)
    })

    it('yes wherever the user set BROWSER to a program: without a display, over SSH, on WSL (a helper may forward it)', () => {
      for (const BROWSER of ['/usr/bin/w3m', 'code-helper --open', ' none-of-these ']) {
        expect(browserUnavailable({BROWSER}, 'linux', '6.1.0'), BROWSER).to.equal(undefined)
        expect(browserUnavailable({BROWSER, SSH_TTY: '/dev/pts/1'}, 'darwin'), BROWSER).to.equal(undefined)
        expect(browserUnavailable({BROWSER, WSL_DISTRO_NAME: 'Debian'}, 'linux', '6.1.0'), BROWSER).to.equal(undefined)
      }

      for (const BROWSER of ['none', 'NONE', ' None ']) expect(browserUnavailable({BROWSER, DISPLAY: ':0'}, 'linux'), BROWSER).to.contain('"none"')
      expect(browserUnavailable({BROWSER: '', DISPLAY: undefined}, 'linux', '6.1.0')).to.contain('there is no display')
    })

    it('reads BROWSER as Python\'s webbrowser does: programs in turn, %s for the address, else the address last', () => {
      const url = 'http://127.0.0.1:1/a?b=c d'
      expect(browserCommands(undefined, url)).to.deep.equal([])
      expect(browserCommands('none', url)).to.deep.equal([])
      expect(browserCommands('firefox', url)).to.deep.equal([['firefox', url]])
      expect(browserCommands('/opt/My Browser/run', url)).to.deep.equal([['/opt/My Browser/run', url]])
      expect(browserCommands('w3m:firefox', url)).to.deep.equal([['w3m', url], ['firefox', url]])
      expect(browserCommands('open -a "Google Chrome" %s', url)).to.deep.equal([['open', '-a', 'Google Chrome', url]])
      expect(browserCommands(String.raw`'/opt/My Browser/run' --url=%s --x\ y`, url)).to.deep.equal([['/opt/My Browser/run', `--url=${url}`, '--x y']])
      expect(browserCommands('::', url)).to.deep.equal([])
    })
  })

  describe('the loopback callback', () => {
    it('listens on 127.0.0.1 only, at the first free port, and frees it when closed', async () => {
      const release = await occupyPorts([8400])
      let callback: Awaited<ReturnType<typeof loopbackCallback>> | undefined
      try {
        callback = await loopbackCallback()
        expect(callback.redirectUri).to.equal('http://127.0.0.1:8401/oauth_callback')
        // Not reachable from the network: the machine's other addresses refuse the connection.
        const external = Object.values(networkInterfaces()).flat().find(address => address && !address.internal && address.family === 'IPv4')
        if (external) {
          const refused = await fetch(`http://${external.address}:8401/oauth_callback`).then(() => false).catch(() => true)
          expect(refused, external.address).to.equal(true)
        }
      } finally {
        await callback?.close()
        await release()
      }

      expect(await portsAreFree()).to.equal(true)
    })

    it('hands over the first answer and shows the page the login decides on; later ones are turned away', async () => {
      const callback = await loopbackCallback()
      try {
        const next = callback.next()
        const page = fetch(`${callback.redirectUri}?code=abc&state=s&extra=1`)
        const request = await next
        expect(request.params.get('code')).to.equal('abc')
        const again = await fetch(`${callback.redirectUri}?code=def&state=s`)
        expect(again.status).to.equal(409)
        request.respond({detail: 'Welcome <b>back</b>', ok: true})
        const response = await page
        expect(response.status).to.equal(200)
        const html = await response.text()
        expect(html).to.contain('Welcome &lt;b&gt;back&lt;/b&gt;')
        expect(html).not.to.match(/<script|<link|src=|https?:\/\//v)
        expect(response.headers.get('cache-control')).to.equal('no-store')
      } finally {
        await callback.close()
      }
    })

    it('an abort rejects the wait with its reason', async () => {
      const callback = await loopbackCallback()
      try {
        const controller = new AbortController()
        const waiting = callback.next(controller.signal)
        controller.abort(new LoginError('stopped'))
        let reason: unknown
        try {
          await waiting
        } catch (error) {
          reason = error
        }

        expect(reason).to.be.instanceOf(LoginError)
      } finally {
        await callback.close()
      }
    })

    it('a browser still waiting for its page when the login ends gets one saying the sign-in stopped', async () => {
      const callback = await loopbackCallback()
      let pending: Promise<Response> | undefined
      try {
        pending = fetch(`${callback.redirectUri}?error=x&state=s`)
        await callback.next()
      } finally {
        await callback.close()
      }

      const response = await pending
      expect(response.status).to.equal(400)
      expect(await response.text()).to.contain('Sign-in stopped')
      expect(await portsAreFree()).to.equal(true)
    })
  })
})
