import {expect} from 'chai'
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import {type AddressInfo} from 'node:net'
import Provider from 'oidc-provider'

import {HttpClient} from '../../src/api/http.js'
import {NotLoggedInError} from '../../src/errors.js'
import {discover, refreshTokens} from '../../src/session/oauth.js'
import {startCli} from '../support/cli.js'
import {exists, storedConfig, tempConfig} from '../support/config.js'
import {LOOPBACK_PORTS} from '../support/net.js'
import {waitFor} from '../support/poll.js'

const CLIENT_ID = 'pipecat-cli'
const SCOPES = 'openid profile email offline_access'

/**
 * The OAuth client against an OpenID provider we did not write: `oidc-provider`
 * (panva), certified, with its development sign-in pages. A tiny Pipecat API
 * in front of it names it as the issuer and checks its access tokens.
 */
describe('cloud auth login against a real OpenID provider (oidc-provider)', () => {
  let provider: Provider
  let providerServer: Server
  let issuer: string
  let api: Server
  let apiUrl: string

  before(async () => {
    providerServer = createServer()
    issuer = `http://127.0.0.1:${await listen(providerServer)}`
    provider = quietly(() => new Provider(issuer, {
      claims: {email: ['email'], openid: ['sub'], profile: ['name']},
      clients: [{
        application_type: 'native',
        client_id: CLIENT_ID,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: LOOPBACK_PORTS.map(port => `http://127.0.0.1:${port}/oauth_callback`),
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }],
      cookies: {keys: ['a-test-only-cookie-signing-key']},
      async findAccount(_context: unknown, id: string) {
        return {accountId: id, claims: async () => ({email: `${id}@example.org`, sub: id})}
      },
      // As the real service does: a refresh token without prompt=consent (the CLI never sends a prompt).
      async issueRefreshToken(_context: unknown, client: {grantTypeAllowed(type: string): boolean}) {
        return client.grantTypeAllowed('refresh_token')
      },
      pkce: {required: () => true},
      scopes: SCOPES.split(' '),
      ttl: {
        AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, RefreshToken: 3600, Session: 3600,
      },
    }))
    providerServer.on('request', provider.callback())

    api = createServer((req, res) => {
      pipecatApi(req, res).catch(() => {
        res.writeHead(500).end()
      })
    })
    apiUrl = `http://127.0.0.1:${await listen(api)}`
  })

  const runs: Array<ReturnType<typeof startCli>> = []

  afterEach(async () => {
    // A failed test must not leave a login holding the callback port.
    for (const run of runs) run.kill()
    await Promise.all(runs.map(async run => run.result))
    runs.length = 0
  })

  after(async () => {
    await Promise.all([close(api), close(providerServer)])
  })

  /** Pipecat Cloud's side: auth config names the provider; the account endpoints accept its access tokens. */
  async function pipecatApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, {'content-type': 'application/json'}).end(JSON.stringify(body))
    }

    if (req.url === '/auth/config') {
      json(200, {client_id: CLIENT_ID, issuer, scopes: SCOPES})
      return
    }

    const bearer = /^Bearer (\S+)$/v.exec(req.headers.authorization ?? '')?.[1]
    const token = bearer ? await provider.AccessToken.find(bearer) : undefined
    if (!token) json(401, {error: 'Unauthorized'})
    else if (req.url === '/v1/organizations') json(200, {organizations: [{name: 'oidc-org', verboseName: 'OIDC Org'}]})
    else if (req.url === '/v1/users') json(200, {user: {emails: [{emailAddress: `${token.accountId}@example.org`}], userId: token.accountId}})
    else json(404, {error: 'Not found'})
  }

  /** `cloud auth login` against the API in front of the provider; resolves with the address it printed. */
  async function startLogin(config: Awaited<ReturnType<typeof tempConfig>>) {
    const run = startCli(['cloud', 'auth', 'login', '--headless', '--timeout', '20'], {
      env: {...config.env, PIPECAT_API_HOST: apiUrl, PIPECAT_DASHBOARD_HOST: apiUrl},
      timeoutMs: 30_000,
    })
    runs.push(run)
    let seen = ''
    run.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
    })
    const url = await waitFor(() => new RegExp(String.raw`${issuer}/auth\?\S+`, 'v').exec(seen)?.[0])
    return {run, url}
  }

  it('signs in through the provider\'s own pages (PKCE checked by it) and the refresh token it issued works', async () => {
    const config = await tempConfig()
    try {
      const {run, url} = await startLogin(config)
      const callback = await signInAsUser(url, 'ada')
      // The provider says who answered (RFC 9207); the CLI checks it.
      expect(new URL(callback).searchParams.get('iss')).to.equal(issuer)
      const page = await fetch(callback)
      expect(await page.text()).to.contain('Signed in to Pipecat Cloud')
      run.stdin.end()
      const result = await run.result

      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.equal(`Logged in as ada@example.org\nOrganization: OIDC Org (oidc-org)\nCredentials saved to ${config.file}\n`)
      const stored = await storedConfig(config.file)
      expect(stored.org).to.equal('oidc-org')
      expect((await provider.AccessToken.find(stored.token as string))?.accountId).to.equal('ada')
      expect(stored.refresh_token).to.be.a('string').and.not.equal('')
      expect(stored.token_expires_at).to.be.closeTo((Date.now() / 1000) + 600, 30)

      // The refresh grant, with the plugin's own OAuth client: a new access token, the refresh token rotated.
      const http = await HttpClient.create({userAgent: 'plugin-cloud-test'})
      const discovered = await discover(http, {clientId: CLIENT_ID, issuer, scopes: SCOPES})
      const renewed = await refreshTokens(http, discovered, stored.refresh_token as string)
      expect(renewed.accessToken).not.to.equal(stored.token)
      expect((await provider.AccessToken.find(renewed.accessToken))?.accountId).to.equal('ada')
      expect(renewed.refreshToken).to.be.a('string').and.not.equal(stored.refresh_token)
      expect(renewed.expiresAt).to.be.closeTo((Date.now() / 1000) + 600, 30)
      // A rotated-out refresh token is spent: reusing it ends the session.
      let reuse: unknown
      try {
        await refreshTokens(http, discovered, stored.refresh_token as string)
      } catch (error) {
        reuse = error
      }

      expect(reuse).to.be.instanceOf(NotLoggedInError)
    } finally {
      await config.cleanup()
    }
  })

  it('a denial on the provider\'s pages ends the sign-in with exit 1 and nothing written', async () => {
    const config = await tempConfig()
    try {
      const {run, url} = await startLogin(config)
      const callback = await signInAsUser(url, 'ada', {abort: true})
      expect(new URL(callback).searchParams.get('error')).to.equal('access_denied')
      await fetch(callback)
      run.stdin.end()
      const result = await run.result
      expect(result.code).to.equal(1)
      expect(result.stderr).to.contain('The sign-in was denied in the browser.')
      expect(await exists(config.file)).to.equal(false)
    } finally {
      await config.cleanup()
    }
  })
})

/**
 * Plays a user on oidc-provider's development pages: follows its redirects
 * with a cookie jar, signs in as `login` and consents (or aborts), and
 * returns the redirect to the CLI's loopback callback without following it.
 */
async function signInAsUser(url: string, login: string, options: {abort?: boolean} = {}): Promise<string> {
  const jar = new Map<string, string>()
  let next = url
  let init: RequestInit = {}
  for (let step = 0; step < 12; step++) {
    if (/^http:\/\/127\.0\.0\.1:840\d\/oauth_callback/v.test(next)) return next
    const response = await fetch(next, {...init, headers: {...(init.headers as Record<string, string>), cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ')}, redirect: 'manual'})
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';', 1)
      const at = pair.indexOf('=')
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }

    const location = response.headers.get('location')
    if (location) {
      await response.arrayBuffer()
      next = new URL(location, next).href
      init = {}
      continue
    }

    const html = await response.text()
    if (options.abort && html.includes('/abort')) {
      next = new URL(/href="([^"]*\/abort)"/v.exec(html)![1]!, next).href
      init = {}
      continue
    }

    const action = /<form[^>]*action="([^"]+)"/v.exec(html)?.[1]
    if (!action) throw new Error(`no form on ${next} (HTTP ${response.status}): ${html.slice(0, 500)}`)
    const fields = new URLSearchParams()
    for (const [, name, value] of html.matchAll(/<input[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?/gv)) fields.set(name!, value ?? '')
    if (fields.has('login')) fields.set('login', login)
    if (fields.has('password')) fields.set('password', 'any password')
    next = new URL(action.replaceAll('&amp;', '&'), next).href
    init = {body: fields.toString(), headers: {'content-type': 'application/x-www-form-urlencoded'}, method: 'POST'}
  }

  throw new Error(`the sign-in did not reach the callback; last at ${next}`)
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', () => {
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => {
    server.close(() => {
      resolve()
    })
  })
}

/** oidc-provider warns on the console about its development defaults; these tests use them on purpose. */
function quietly<T>(make: () => T): T {
  const {info, warn} = console
  console.info = () => {}
  console.warn = () => {}
  try {
    return make()
  } finally {
    Object.assign(console, {info, warn})
  }
}
