import {expect} from 'chai'
import {createHash, randomBytes} from 'node:crypto'
import {createServer, type Server} from 'node:http'

import {authorizeRedirect, playBrowser} from './browser.js'
import {
  dailyApiKey,
  type Emulator,
  type Knobs,
  startEmulator,
} from './server.js'

// ---------------------------------------------------------------- helpers

function pkcePair(): {challenge: string; verifier: string} {
  const verifier = randomBytes(32).toString('base64url')
  return {challenge: createHash('sha256').update(verifier).digest('base64url'), verifier}
}

type Callback = {
  close(): Promise<void>;
  redirectUri: string;
}

/** The CLI's loopback listener, on the first free port of 8400-8404. */
async function startCallbackListener(): Promise<Callback> {
  for (let port = 8400; port <= 8404; port++) {
    const server: Server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams
      res.writeHead(200, {'content-type': 'text/html'})
      res.end(query.has('code') ? '<p>Signed in</p>' : `<p>Sign-in failed: ${query.get('error')}</p>`)
    })
    const isBound = await new Promise<boolean>(resolve => {
      server.once('error', () => {
        resolve(false);
      })
      server.listen(port, '127.0.0.1', () => {
        resolve(true);
      })
    })
    if (isBound)
      return {
        close: async () =>
          new Promise(resolve => {
            server.close(() => {
              resolve();
            })
            server.closeAllConnections()
          }),
        redirectUri: `http://127.0.0.1:${port}/oauth_callback`,
      }
  }

  throw new Error('ports 8400-8404 are all busy')
}

function authorizeUrl(emu: Emulator, redirectUri: string, challenge: string, overrides: Record<string, string> = {}): string {
  const url = new URL(`${emu.issuer}/authorize`)
  const params = {
    client_id: emu.clientId,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid profile email offline_access',
    state: randomBytes(16).toString('base64url'),
    ...overrides,
  }
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  return url.href
}

async function postForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {body: new URLSearchParams(fields), method: 'POST'})
}

async function exchangeCode(emu: Emulator, code: string, verifier: string, redirectUri: string): Promise<Response> {
  return postForm(`${emu.issuer}/token`, {
    client_id: emu.clientId, code, code_verifier: verifier, grant_type: 'authorization_code', redirect_uri: redirectUri,
  })
}

async function refresh(emu: Emulator, refreshToken: string): Promise<Response> {
  return postForm(`${emu.issuer}/token`, {client_id: emu.clientId, grant_type: 'refresh_token', refresh_token: refreshToken})
}

async function api(emu: Emulator, path: string, token?: string, init: RequestInit = {}): Promise<Response> {
  return fetch(emu.url + path, {...init, headers: {...(token && {authorization: `Bearer ${token}`}), ...(init.headers as Record<string, string>)}})
}

/** Approve in the "browser" without a listener and return the code from the redirect. */
async function approvedCode(emu: Emulator, redirectUri = 'http://127.0.0.1:8404/oauth_callback') {
  const {challenge, verifier} = pkcePair()
  const location = new URL(await authorizeRedirect(authorizeUrl(emu, redirectUri, challenge)))
  return {code: location.searchParams.get('code') ?? '', redirectUri, verifier}
}

async function startFlow(emu: Emulator, hasCode = true) {
  const res = await fetch(`${emu.url}/auth/login${hasCode ? '?use_code=true' : ''}`, {method: 'POST'})
  expect(res.status).to.equal(200)
  return json<{code?: string; token_flow_id: string; wait_secret: string; web_url: string}>(res)
}

async function pollStatus(emu: Emulator, flow: {token_flow_id: string; wait_secret: string}): Promise<Response> {
  const query = new URLSearchParams({token_flow_id: flow.token_flow_id, wait_secret: flow.wait_secret})
  return fetch(`${emu.url}/auth/status?${query.toString()}`)
}

type Loose = Record<string, unknown>
type Tokens = {access_token: string; error?: string; expires_in: number; refresh_token?: string; scope: string; token_type: string}

/** A response body as JSON of the shape the test expects (assertions check it). */
async function json<T = Loose>(res: Promise<Response> | Response): Promise<T> {
  return (await res).json() as Promise<T>
}

/** The low-level code behind a fetch failure (undici puts it on `cause`). */
function causeCode(error: unknown): unknown {
  return (error as undefined | {cause?: {code?: unknown}})?.cause?.code
}

const sleep = async (ms: number) =>
  new Promise(resolve => {
    setTimeout(resolve, ms)
  })

// ---------------------------------------------------------------- tests

describe('emulator', () => {
  let emu: Emulator

  before(async () => {
    emu = await startEmulator()
  })

  afterEach(() => {
    emu.reset();
  })

  after(async () => emu.close())

  it('listens on 127.0.0.1 and exposes its issuer and client id', () => {
    expect(emu.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/v)
    expect(emu.issuer).to.equal(`${emu.url}/oauth`)
    expect(emu.clientId).to.equal('pipecat-cli')
  })

  describe('OAuth configuration', () => {
    it('answers /auth/config, and 404 when legacyOnly', async () => {
      const res = await fetch(`${emu.url}/auth/config`)
      expect(res.headers.get('content-type')).to.equal('application/json')
      expect(await json(res)).to.deep.equal({client_id: 'pipecat-cli', issuer: emu.issuer, scopes: 'openid profile email offline_access'})
      emu.knobs.legacyOnly = true
      const legacy = await fetch(`${emu.url}/auth/config`)
      expect(legacy.status).to.equal(404)
      expect(await json(legacy)).to.have.property('error')
    })

    it('serves the discovery document, merged with knobs.discovery', async () => {
      const doc = await json(await fetch(`${emu.issuer}/.well-known/openid-configuration`))
      expect(doc).to.include({
        authorization_endpoint: `${emu.issuer}/authorize`,
        issuer: emu.issuer,
        revocation_endpoint: `${emu.issuer}/revoke`,
        token_endpoint: `${emu.issuer}/token`,
      })
      expect(doc.response_types_supported).to.deep.equal(['code'])
      expect(doc.code_challenge_methods_supported).to.deep.equal(['S256'])
      expect(doc.grant_types_supported).to.include.members(['authorization_code', 'refresh_token'])

      emu.knobs.discovery = {code_challenge_methods_supported: ['plain'], issuer: 'https://evil.example'}
      const broken = await json(await fetch(`${emu.issuer}/.well-known/openid-configuration`))
      expect(broken.issuer).to.equal('https://evil.example')
      expect(broken.code_challenge_methods_supported).to.deep.equal(['plain'])
      expect(broken.token_endpoint).to.equal(`${emu.issuer}/token`)
    })
  })

  describe('authorization code flow with PKCE', () => {
    let callback: Callback

    before(async () => {
      callback = await startCallbackListener()
    })

    after(async () => callback.close())

    it('signs in through the page, exchanges the code and calls the API with the token', async () => {
      const {challenge, verifier} = pkcePair()
      const url = authorizeUrl(emu, callback.redirectUri, challenge, {state: 'st-123'})
      const pageRes = await fetch(url)
      const html = await pageRes.text()
      expect(pageRes.status).to.equal(200)
      expect(pageRes.headers.get('content-type')).to.match(/^text\/html/v)
      expect(html).to.include('Sign in to Pipecat Cloud (emulator)')
      expect(html).to.match(/<button[^>]*name="decision"[^>]*value="approve"[^>]*>Approve<\/button>/v)
      expect(html).to.match(/<button[^>]*name="decision"[^>]*value="deny"[^>]*>Deny<\/button>/v)

      const result = await playBrowser(url)
      expect(result.status).to.equal(200)
      expect(result.body).to.include('Signed in')
      const redirect = new URL(result.callbackUrl ?? '')
      expect(redirect.origin + redirect.pathname).to.equal(callback.redirectUri)
      expect(redirect.searchParams.get('state')).to.equal('st-123')
      expect(redirect.searchParams.get('iss')).to.equal(emu.issuer)
      const code = redirect.searchParams.get('code') ?? ''
      expect(code).to.not.equal('')

      const tokenRes = await exchangeCode(emu, code, verifier, callback.redirectUri)
      expect(tokenRes.status).to.equal(200)
      expect(tokenRes.headers.get('cache-control')).to.equal('no-store')
      const tokens = await json<Tokens>(tokenRes)
      expect(tokens).to.include({expires_in: 3600, scope: 'openid profile email offline_access', token_type: 'Bearer'})
      expect(tokens.access_token).to.match(/^emu_at_/v)
      expect(tokens.refresh_token).to.match(/^emu_rt_/v)
      expect(emu.stats.codeExchanges).to.equal(1)

      const orgs = await api(emu, '/v1/organizations', tokens.access_token)
      expect(orgs.status).to.equal(200)
      expect((await json(orgs)).organizations).to.have.length(2)
    })

    it('rejects a code_verifier that does not match the challenge', async () => {
      const {code, redirectUri} = await approvedCode(emu)
      const res = await exchangeCode(emu, code, pkcePair().verifier, redirectUri)
      expect(res.status).to.equal(400)
      expect(await json(res)).to.deep.equal({error: 'invalid_grant', error_description: 'PKCE verification failed'})
    })

    it('rejects a second use of a code and revokes what the first one issued', async () => {
      const {code, redirectUri, verifier} = await approvedCode(emu)
      const first = await json<Tokens>(await exchangeCode(emu, code, verifier, redirectUri))
      expect(emu.isValid(first.access_token)).to.equal(true)
      const again = await exchangeCode(emu, code, verifier, redirectUri)
      expect(again.status).to.equal(400)
      expect((await json(again)).error).to.equal('invalid_grant')
      expect(emu.isValid(first.access_token)).to.equal(false)
      expect(emu.stats.codeExchanges).to.equal(2)
    })

    it('binds the code to its redirect_uri and client_id, and wants a form body', async () => {
      const {code, redirectUri, verifier} = await approvedCode(emu)
      const wrongUri = await exchangeCode(emu, code, verifier, 'http://127.0.0.1:8400/oauth_callback')
      expect((await json(wrongUri)).error).to.equal('invalid_grant')
      const wrongClient = await postForm(`${emu.issuer}/token`, {
        client_id: 'other', code, code_verifier: verifier, grant_type: 'authorization_code', redirect_uri: redirectUri,
      })
      expect(wrongClient.status).to.equal(401)
      expect((await json(wrongClient)).error).to.equal('invalid_client')
      const jsonBody = await fetch(`${emu.issuer}/token`, {
        body: JSON.stringify({
          client_id: emu.clientId, code, code_verifier: verifier, grant_type: 'authorization_code', redirect_uri: redirectUri,
        }),
        headers: {'content-type': 'application/json'},
        method: 'POST',
      })
      expect((await json(jsonBody)).error).to.equal('invalid_request')
      const unsupported = await postForm(`${emu.issuer}/token`, {grant_type: 'password'})
      expect((await json(unsupported)).error).to.equal('unsupported_grant_type')
      // the code survived the failed attempts
      expect((await exchangeCode(emu, code, verifier, redirectUri)).status).to.equal(200)
    })

    it('redirects with error=access_denied when the user denies', async () => {
      const url = authorizeUrl(emu, callback.redirectUri, pkcePair().challenge, {state: 'st-deny'})
      const result = await playBrowser(url, {decision: 'deny'})
      expect(result.status).to.equal(200)
      expect(result.body).to.include('access_denied')
      const redirect = new URL(result.callbackUrl ?? '')
      expect(Object.fromEntries(redirect.searchParams)).to.deep.equal({
        error: 'access_denied',
        error_description: 'The user denied the request',
        iss: emu.issuer,
        state: 'st-deny',
      })
      expect(result.callbackUrl).to.include('error_description=The+user+denied+the+request')
    })

    it('sends the iss chosen by knobs.callbackIss, or none', async () => {
      emu.knobs.callbackIss = 'https://other-issuer.example'
      const url = () => authorizeUrl(emu, callback.redirectUri, pkcePair().challenge)
      let location = new URL(await authorizeRedirect(url()))
      expect(location.searchParams.get('iss')).to.equal('https://other-issuer.example')
      emu.knobs.callbackIss = null
      location = new URL(await authorizeRedirect(url()))
      expect(location.searchParams.has('iss')).to.equal(false)
      expect(location.searchParams.has('code')).to.equal(true)
    })

    it('answers an invalid authorization request with a 400 page, never a redirect', async () => {
      const {challenge} = pkcePair()
      const cases: Array<[Record<string, string>, string]> = [
        [{redirect_uri: 'http://127.0.0.1:8405/oauth_callback'}, 'redirect_uri'],
        [{redirect_uri: 'http://localhost:8400/oauth_callback'}, 'redirect_uri'],
        [{code_challenge_method: 'plain'}, 'code_challenge_method'],
        [{code_challenge: ''}, 'code_challenge'],
        [{state: ''}, 'state'],
        [{response_type: 'token'}, 'response_type'],
        [{client_id: 'someone-else'}, 'client_id'],
      ]
      for (const [override, reason] of cases) {
        const res = await fetch(authorizeUrl(emu, callback.redirectUri, challenge, override), {redirect: 'manual'})
        expect(res.status, reason).to.equal(400)
        expect(res.headers.get('location')).to.equal(null)
        expect(res.headers.get('content-type')).to.match(/^text\/html/v)
        expect(await res.text()).to.include(reason)
      }
    })

    it('with autoApprove, redirects at once with a code', async () => {
      emu.knobs.autoApprove = true
      const {challenge, verifier} = pkcePair()
      const url = authorizeUrl(emu, callback.redirectUri, challenge, {state: 'auto'})
      const res = await fetch(url, {redirect: 'manual'})
      expect(res.status).to.equal(302)
      expect(new URL(res.headers.get('location') ?? '').searchParams.get('state')).to.equal('auto')
      const result = await playBrowser(url)
      expect(result.body).to.include('Signed in')
      const code = new URL(result.callbackUrl ?? '').searchParams.get('code') ?? ''
      expect((await exchangeCode(emu, code, verifier, callback.redirectUri)).status).to.equal(200)
    })

    it('leaves out the refresh token when issueRefreshToken is off, and reports accessTokenTtl', async () => {
      emu.knobs.issueRefreshToken = false
      emu.knobs.accessTokenTtl = 120
      const {code, redirectUri, verifier} = await approvedCode(emu)
      const tokens = await json(await exchangeCode(emu, code, verifier, redirectUri))
      expect(tokens).to.not.have.property('refresh_token')
      expect(tokens.expires_in).to.equal(120)
    })
  })

  describe('tokens', () => {
    it('rotates refresh tokens and revokes the family on reuse', async () => {
      const seeded = emu.issueTokens()
      const first = await refresh(emu, seeded.refresh_token)
      expect(first.status).to.equal(200)
      const rotated = await json<Tokens>(first)
      expect(rotated.refresh_token).to.not.equal(seeded.refresh_token)
      expect(emu.isValid(rotated.access_token)).to.equal(true)

      const reuse = await refresh(emu, seeded.refresh_token)
      expect(reuse.status).to.equal(400)
      expect((await json(reuse)).error).to.equal('invalid_grant')
      expect(emu.stats.refreshReuseDetected).to.equal(1)
      expect(emu.isValid(rotated.access_token)).to.equal(false)
      expect(emu.isValid(seeded.access_token)).to.equal(false)

      const afterRevoke = await refresh(emu, rotated.refresh_token ?? '')
      expect((await json(afterRevoke)).error).to.equal('invalid_grant')
      expect(emu.stats.refreshGrants).to.equal(3)
      expect(emu.stats.refreshReuseDetected).to.equal(1)
    })

    it('reuse of any spent refresh token revokes every token descended from the same login, and no other login', async () => {
      const seeded = emu.issueTokens()
      const other = emu.issueTokens()
      const second = await json<Tokens>(await refresh(emu, seeded.refresh_token))
      const third = await json<Tokens>(await refresh(emu, second.refresh_token ?? ''))
      expect(emu.isValidRefresh(third.refresh_token ?? '')).to.equal(true)
      expect((await json(await refresh(emu, seeded.refresh_token))).error).to.equal('invalid_grant')
      for (const token of [second.access_token, third.access_token]) expect(emu.isValid(token)).to.equal(false)
      expect(emu.isValidRefresh(third.refresh_token ?? ''), 'the newest refresh token of the family').to.equal(false)
      expect(emu.isValid(other.access_token)).to.equal(true)
      expect(emu.isValidRefresh(other.refresh_token)).to.equal(true)
    })

    it('tokenPadding makes access tokens that much longer (a provider with large JWTs)', async () => {
      emu.knobs.tokenPadding = 10_000
      const {access_token: token} = await json<Tokens>(await refresh(emu, emu.issueTokens().refresh_token))
      expect(token.length).to.be.above(10_000)
      expect(emu.isValid(token)).to.equal(true)
    })

    it('rejects unknown refresh tokens and access tokens used as refresh tokens', async () => {
      expect((await json(await refresh(emu, 'emu_rt_nope'))).error).to.equal('invalid_grant')
      const {access_token: accessToken} = emu.issueTokens()
      expect((await json(await refresh(emu, accessToken))).error).to.equal('invalid_grant')
    })

    it('expires access tokens after their ttl', async () => {
      const {access_token: accessToken, expires_in: expiresIn} = emu.issueTokens({ttl: 1})
      expect(expiresIn).to.equal(1)
      expect((await api(emu, '/v1/users', accessToken)).status).to.equal(200)
      await sleep(1100)
      const expired = await api(emu, '/v1/users', accessToken)
      expect(expired.status).to.equal(401)
      expect(await json(expired)).to.deep.equal({code: '401', error: 'Unauthorized'})
    })

    it('keeps PATs and legacy tokens valid, and refuses missing or unknown bearers', async () => {
      const pat = emu.issuePat()
      expect(pat).to.match(/^pcc_pat_/v)
      expect(emu.issueLegacyToken()).to.match(/^emu_lt_/v)
      expect((await api(emu, '/v1/organizations', pat)).status).to.equal(200)
      expect((await api(emu, '/v1/organizations', emu.issueLegacyToken())).status).to.equal(200)
      expect((await api(emu, '/v1/organizations')).status).to.equal(401)
      expect((await api(emu, '/v1/organizations', 'pcc_pat_made_up')).status).to.equal(401)
      expect((await api(emu, '/v1/organizations', emu.issueTokens().refresh_token)).status).to.equal(401)
    })

    it('revokes the session on /auth/logout', async () => {
      const tokens = emu.issueTokens()
      const res = await api(emu, '/auth/logout', tokens.access_token, {
        body: JSON.stringify({refresh_token: tokens.refresh_token}),
        headers: {'content-type': 'application/json'},
        method: 'POST',
      })
      expect(res.status).to.equal(200)
      expect(await json(res)).to.deep.equal({status: 'revoked'})
      expect(emu.stats.revocations).to.equal(1)
      expect(emu.isValid(tokens.access_token)).to.equal(false)
      expect((await json(await refresh(emu, tokens.refresh_token))).error).to.equal('invalid_grant')
      const logoutRequest = emu.requests.find(r => r.path === '/auth/logout')
      expect(logoutRequest?.body).to.equal(JSON.stringify({refresh_token: tokens.refresh_token}))

      const unknown = await api(emu, '/auth/logout', emu.issuePat(), {body: '{"refresh_token":"emu_rt_unknown"}', method: 'POST'})
      expect(unknown.status).to.equal(200)
      const noBearer = await api(emu, '/auth/logout', undefined, {body: '{}', method: 'POST'})
      expect(noBearer.status).to.equal(401)
    })

    it('revokes a token on /oauth/revoke (RFC 7009)', async () => {
      const tokens = emu.issueTokens()
      const res = await postForm(`${emu.issuer}/revoke`, {token: tokens.refresh_token})
      expect(res.status).to.equal(200)
      expect(emu.isValid(tokens.access_token)).to.equal(false)
      expect((await postForm(`${emu.issuer}/revoke`, {token: 'unknown'})).status).to.equal(200)
    })
  })

  describe('earlier token flow', () => {
    it('starts a flow with or without a code', async () => {
      const flow = await startFlow(emu)
      expect(flow.code).to.match(/^[A-Z]{4}-\d{4}$/v)
      expect(flow.web_url).to.equal(`${emu.url}/login/${flow.token_flow_id}`)
      expect(flow.wait_secret).to.be.a('string').and.not.equal('')
      expect(await startFlow(emu, false)).to.not.have.property('code')
    })

    it('goes from pending to complete once approved, and hands the token out once', async () => {
      const flow = await startFlow(emu)
      expect(await json(await pollStatus(emu, flow))).to.deep.equal({status: 'pending'})
      const pageHtml = await (await fetch(flow.web_url)).text()
      expect(pageHtml).to.include(flow.code ?? 'missing code')
      const approved = await playBrowser(flow.web_url)
      expect(approved.status).to.equal(200)
      expect(approved.callbackUrl).to.equal(undefined)
      const done = await json<{status: string; token: string}>(await pollStatus(emu, flow))
      expect(done.status).to.equal('complete')
      expect(done.token).to.match(/^emu_lt_/v)
      expect((await api(emu, '/v1/users', done.token)).status).to.equal(200)
      expect((await pollStatus(emu, flow)).status).to.equal(404)
    })

    it('reports failure when denied', async () => {
      const flow = await startFlow(emu)
      await playBrowser(flow.web_url, {decision: 'deny'})
      expect(await json(await pollStatus(emu, flow))).to.deep.equal({status: 'failure'})
    })

    it('refuses a wrong wait_secret', async () => {
      const flow = await startFlow(emu)
      const res = await pollStatus(emu, {...flow, wait_secret: 'wrong'})
      expect(res.status).to.equal(403)
      expect(await json(res)).to.have.property('error')
    })

    it('holds a pending poll for longPollMs', async () => {
      emu.knobs.longPollMs = 300
      const flow = await startFlow(emu)
      const started = Date.now()
      expect(await json(await pollStatus(emu, flow))).to.deep.equal({status: 'pending'})
      expect(Date.now() - started).to.be.within(280, 2000)
    })

    it('answers a held poll early when the flow completes', async () => {
      emu.knobs.longPollMs = 10_000
      const flow = await startFlow(emu)
      const started = Date.now()
      const poll = pollStatus(emu, flow)
      await sleep(100)
      await playBrowser(flow.web_url)
      expect((await json(await poll)).status).to.equal('complete')
      expect(Date.now() - started).to.be.below(2000)
    })

    it('completes on the first poll with autoApprove', async () => {
      emu.knobs.autoApprove = true
      const flow = await startFlow(emu)
      expect((await json(await pollStatus(emu, flow))).status).to.equal('complete')
    })
  })

  describe('account API', () => {
    it('returns the user, with emails', async () => {
      const res = await api(emu, '/v1/users', emu.issuePat())
      expect(await json(res)).to.deep.equal({user: {emails: [{emailAddress: 'dev@example.com'}], userId: 'user_emulator_01'}})
    })

    it('omits emails when the user has none', async () => {
      emu.knobs.user = {emails: [], userId: 'user_x'}
      const body = await json(await api(emu, '/v1/users', emu.issuePat()))
      expect(body).to.deep.equal({user: {userId: 'user_x'}})
    })

    it('lists knobs.organizations', async () => {
      const pat = emu.issuePat()
      expect(await json(await api(emu, '/v1/organizations', pat))).to.deep.equal({
        organizations: [
          {name: 'user-namespace', verboseName: 'Demo User'},
          {name: 'acme', verboseName: 'Acme Inc'},
        ],
      })
      emu.knobs.organizations = []
      expect(await json(await api(emu, '/v1/organizations', pat))).to.deep.equal({organizations: []})
    })

    it('returns a deterministic Daily key per organization, 404 for others', async () => {
      const pat = emu.issuePat()
      const acme = await json(await api(emu, '/v1/organizations/acme/daily', pat))
      const mine = await json(await api(emu, '/v1/organizations/user-namespace/daily', pat))
      expect(acme.apiKey).to.equal(dailyApiKey('acme')).and.match(/^emu-daily-/v)
      expect(mine.apiKey).to.not.equal(acme.apiKey)
      const missing = await api(emu, '/v1/organizations/nobody/daily', pat)
      expect(missing.status).to.equal(404)
      expect((await json(missing)).error).to.equal('Organization not found')
      expect((await api(emu, '/v1/organizations/acme/daily')).status).to.equal(401)
    })

    it('serves the dashboard sign-out page', async () => {
      const res = await fetch(`${emu.url}/sign-out`)
      expect(res.status).to.equal(200)
      expect(res.headers.get('content-type')).to.match(/^text\/html/v)
    })

    it('answers 404 and 405 as JSON for unknown routes', async () => {
      const unknown = await fetch(`${emu.url}/v2/nothing`)
      expect(unknown.status).to.equal(404)
      expect(await json(unknown)).to.deep.equal({code: '404', error: 'Not found'})
      expect((await fetch(`${emu.url}/v1/users`, {method: 'DELETE'})).status).to.equal(405)
    })

    it('records every request', async () => {
      await fetch(`${emu.url}/auth/login?use_code=true`, {body: 'hello', headers: {'user-agent': 'pipecat-test/1.0'}, method: 'POST'})
      expect(emu.requests).to.have.length(1)
      expect(emu.requests[0]).to.include({body: 'hello', method: 'POST', path: '/auth/login'})
      expect(emu.requests[0]!.query).to.deep.equal({use_code: 'true'})
      expect(emu.requests[0]!.headers['user-agent']).to.equal('pipecat-test/1.0')
      expect(emu.requests[0]!.at).to.be.closeTo(Date.now(), 5000)
    })
  })

  describe('failures', () => {
    it("'status' answers that status with a JSON error and Retry-After", async () => {
      emu.knobs.failures['/v1/organizations'] = {retryAfter: 7, status: 503}
      const res = await api(emu, '/v1/organizations', emu.issuePat())
      expect(res.status).to.equal(503)
      expect(res.headers.get('retry-after')).to.equal('7')
      expect(await json(res)).to.deep.equal({code: '503', error: 'Injected failure (503)'})
      emu.knobs.failures['/auth/config'] = {}
      expect((await fetch(`${emu.url}/auth/config`)).status).to.equal(500)
    })

    it('stops failing after `times`', async () => {
      emu.knobs.failures['/oauth/token'] = {status: 502, times: 2}
      const statuses = []
      for (let i = 0; i < 3; i++) {
        statuses.push((await refresh(emu, emu.issueTokens().refresh_token)).status)
      }

      expect(statuses).to.deep.equal([502, 502, 200])
    })

    it("prefers 'METHOD /path' over '/path', and matches route templates", async () => {
      emu.knobs.failures = {'/v1/organizations/{org}/daily': {status: 429}, '/v1/users': {status: 500}, 'GET /v1/users': {status: 418}}
      const pat = emu.issuePat()
      expect((await api(emu, '/v1/users', pat)).status).to.equal(418)
      expect((await api(emu, '/v1/organizations/acme/daily', pat)).status).to.equal(429)
      expect((await api(emu, '/v1/organizations', pat)).status).to.equal(200)
    })

    it("'bad-json' answers 200 with a body that is not JSON", async () => {
      emu.knobs.failures['/auth/config'] = {kind: 'bad-json'}
      const res = await fetch(`${emu.url}/auth/config`)
      expect(res.status).to.equal(200)
      expect(await res.text()).to.equal('{not json')
    })

    it("'html' answers a Cloudflare-like page", async () => {
      emu.knobs.failures['/auth/config'] = {kind: 'html'}
      const ok = await fetch(`${emu.url}/auth/config`)
      expect(ok.status).to.equal(200)
      expect(ok.headers.get('content-type')).to.match(/^text\/html/v)
      expect(await ok.text()).to.include('Cloudflare')
      emu.knobs.failures['/auth/config'] = {kind: 'html', status: 403}
      expect((await fetch(`${emu.url}/auth/config`)).status).to.equal(403)
    })

    it("'truncated' promises more bytes than it sends", async () => {
      emu.knobs.failures['/auth/config'] = {kind: 'truncated'}
      const res = await fetch(`${emu.url}/auth/config`)
      expect(res.status).to.equal(200)
      let error: unknown
      await res.text().catch((error_: unknown) => {
        error = error_
      })
      expect(error).to.be.instanceOf(Error)
      expect(causeCode(error)).to.not.equal('ECONNRESET') // a clean close, unlike 'reset'
    })

    it("'wrong-shape' answers valid JSON of the wrong shape", async () => {
      emu.knobs.failures['/v1/users'] = {kind: 'wrong-shape'}
      const res = await api(emu, '/v1/users', emu.issuePat())
      expect(res.status).to.equal(200)
      expect(await json(res)).to.deep.equal({unexpected: true})
    })

    it("'hang' never answers", async () => {
      emu.knobs.failures['/v1/users'] = {kind: 'hang'}
      let error: unknown
      await fetch(`${emu.url}/v1/users`, {signal: AbortSignal.timeout(300)}).catch((error_: unknown) => {
        error = error_
      })
      expect((error as Error)?.name).to.equal('TimeoutError')
    })

    it("'reset' breaks the connection mid-answer", async () => {
      emu.knobs.failures['/v1/users'] = {kind: 'reset'}
      let error: unknown
      await fetch(`${emu.url}/v1/users`)
      .then(async res => res.text())
      .catch((error_: unknown) => {
        error = error_
      })
      expect(causeCode(error)).to.equal('ECONNRESET')
      // the emulator keeps serving afterwards
      expect((await fetch(`${emu.url}/auth/config`)).status).to.equal(200)
    })
  })

  describe('latency', () => {
    it('pathLatencyMs delays one route (by its most specific key), after latencyMs; a grant is spent after the wait', async () => {
      emu.knobs.pathLatencyMs = {'/auth/config': 5000, 'POST /oauth/token': 300}
      const seeded = emu.issueTokens()
      let started = Date.now()
      await fetch(`${emu.url}/v1/users`)
      expect(Date.now() - started, 'other routes are not delayed').to.be.below(200)
      started = Date.now()
      const answer = await refresh(emu, seeded.refresh_token)
      expect(Date.now() - started).to.be.at.least(290)
      expect(answer.status).to.equal(200)
      expect(emu.isValidRefresh(seeded.refresh_token), 'spent').to.equal(false)
    })

    it('delays every answer by latencyMs, but not the control API', async () => {
      emu.knobs.latencyMs = 250
      let started = Date.now()
      await fetch(`${emu.url}/auth/config`)
      expect(Date.now() - started).to.be.at.least(240)
      started = Date.now()
      await fetch(`${emu.url}/__emulator/state`)
      expect(Date.now() - started).to.be.below(200)
    })
  })

  describe('control API', () => {
    it('reads state, sets knobs, issues tokens and resets', async () => {
      await fetch(`${emu.url}/auth/config`)
      const knobsAnswer = await fetch(`${emu.url}/__emulator/knobs`, {body: JSON.stringify({failures: {'/auth/config': {status: 503}}, legacyOnly: true}), method: 'POST'})
      expect(knobsAnswer.status).to.equal(200)
      expect(emu.knobs.legacyOnly).to.equal(true)
      expect((await fetch(`${emu.url}/auth/config`)).status).to.equal(503) // failures come before normal handling

      const state = await json<{knobs: Knobs; requests: number; stats: Loose}>(await fetch(`${emu.url}/__emulator/state`))
      expect(state.knobs.legacyOnly).to.equal(true)
      expect(state.requests).to.equal(2) // control requests are not recorded
      expect(state.stats).to.deep.equal({
        codeExchanges: 0, refreshGrants: 0, refreshReuseDetected: 0, revocations: 0,
      })

      const typo = await fetch(`${emu.url}/__emulator/knobs`, {body: '{"latency": 5}', method: 'POST'})
      expect(typo.status).to.equal(400)

      const {token} = await json<{token: string}>(await fetch(`${emu.url}/__emulator/pat`, {method: 'POST'}))
      expect(token).to.match(/^pcc_pat_/v)
      expect(emu.isValid(token)).to.equal(true)
      const tokens = await json<Tokens>(await fetch(`${emu.url}/__emulator/tokens`, {body: '{"ttl": 60}', method: 'POST'}))
      expect(tokens.expires_in).to.equal(60)
      expect(emu.isValid(tokens.access_token)).to.equal(true)

      expect((await fetch(`${emu.url}/__emulator/reset`, {method: 'POST'})).status).to.equal(200)
      expect(emu.knobs.legacyOnly).to.equal(false)
      expect(emu.knobs.failures).to.deep.equal({})
      expect(emu.requests).to.have.length(0)
      expect((await fetch(`${emu.url}/auth/config`)).status).to.equal(200)
    })
  })

  describe('lifecycle', () => {
    it('starts with knobs, and reset() returns to them', async () => {
      const own = await startEmulator({knobs: {legacyOnly: true, organizations: []}})
      try {
        expect((await fetch(`${own.url}/auth/config`)).status).to.equal(404)
        own.knobs.legacyOnly = false
        own.reset()
        expect(own.knobs.legacyOnly).to.equal(true)
        expect(own.knobs.organizations).to.deep.equal([])
      } finally {
        await own.close()
      }
    })

    it('close() ends hanging requests and long polls promptly', async () => {
      const own = await startEmulator({knobs: {failures: {'/v1/users': {kind: 'hang'}}, latencyMs: 0, longPollMs: 60_000}})
      const hanging = fetch(`${own.url}/v1/users`)
      .then(() => 'answered')
      .catch(() => 'failed')
      const flow = await startFlow(own)
      const polling = pollStatus(own, flow)
      .then(() => 'answered')
      .catch(() => 'failed')
      while (own.requests.length < 3) {
        await sleep(10)
      }

      const started = Date.now()
      await own.close()
      expect(Date.now() - started).to.be.below(1000)
      expect(await hanging).to.equal('failed')
      expect(await polling).to.equal('failed')
      await own.close() // idempotent
    })
  })
})
