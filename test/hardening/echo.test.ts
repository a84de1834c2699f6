/**
 * A service that echoes what it was sent, at any status, on any endpoint that
 * carries a secret, never gets one printed: not the bearer, the refresh token,
 * the authorization code, the PKCE verifier nor the token flow's wait secret,
 * in the human form or under --json. The secrets checked are the ones the
 * emulator actually received.
 */
import {expect} from 'chai'
import {Readable} from 'node:stream'

import type {RecordedRequest} from '../emulator/server.js'

import {configText, emulatorEnv, tempConfig} from '../support/config.js'
import {expectNoSecrets} from '../support/expect.js'
import {openStdin, runCommand} from '../support/in-process.js'
import {AUTHORIZE_URL} from '../support/login.js'
import {emulatorSuite} from '../support/suite.js'

const STATUSES = [400, 401, 403, 404, 409, 429, 500, 502, 503]
/** Values that are protocol words, not secrets (as the client sends them). */
const PUBLIC = new Set(['client_id', 'code_challenge_method', 'grant_type', 'redirect_uri', 'token_flow_id', 'use_code'])

type Scenario = {
  /** The failure key: which endpoint echoes. */
  endpoint: string;
  /** What runs: the command's words and how it is set up. */
  run: 'login-code' | 'login-token-flow' | 'login-with-token' | 'logout' | 'whoami' | 'whoami-refresh';
}

const SCENARIOS: Scenario[] = [
  {endpoint: 'GET /v1/users', run: 'whoami'},
  {endpoint: 'GET /v1/organizations', run: 'whoami'},
  {endpoint: 'GET /v1/organizations/{org}/daily', run: 'whoami'},
  {endpoint: 'POST /oauth/token', run: 'whoami-refresh'},
  {endpoint: 'POST /auth/logout', run: 'logout'},
  {endpoint: 'POST /oauth/token', run: 'login-code'},
  {endpoint: 'GET /auth/status', run: 'login-token-flow'},
  {endpoint: 'GET /v1/organizations', run: 'login-with-token'},
]

/** Every secret value the CLI's requests carried (not the browser's): the bearer, body values (form or JSON) and query values. */
function carriedSecrets(requests: RecordedRequest[]): string[] {
  const secrets: string[] = []
  const fromCli = requests.filter(({headers}) => String(headers['user-agent']).startsWith('@pipecat-ai/plugin-cloud/'))
  for (const request of fromCli) {
    const {authorization} = request.headers
    if (typeof authorization === 'string') secrets.push(authorization.replace(/^Bearer /v, ''))
    let fields: Record<string, unknown>
    try {
      fields = JSON.parse(request.body) as Record<string, unknown>
    } catch {
      fields = Object.fromEntries(new URLSearchParams(request.body))
    }

    for (const [key, value] of [...Object.entries(fields ?? {}), ...Object.entries(request.query)]) {
      if (typeof value === 'string' && value.length >= 8 && !PUBLIC.has(key)) secrets.push(value)
    }
  }

  return secrets
}

describe('echoed secrets are never printed, at any status, on any endpoint', function () {
  this.timeout(120_000)
  const suite = emulatorSuite()

  const run = async (scenario: Scenario, json: boolean) => {
    const {emulator} = suite
    const flag = json ? ['--json'] : []
    const login = ['cloud', 'auth', 'login', '--timeout', '10', ...flag]
    switch (scenario.run) {
    case 'login-code': {
      emulator.knobs.autoApprove = true
      let seen = ''
      let browser: Promise<unknown> | undefined
      return runCommand([...login, '--headless'], {
        env: emulatorEnv(emulator, suite.config),
        onStderr(text) {
          seen += text
          const url = AUTHORIZE_URL.exec(seen)?.[0]
          // The browser: the emulator approves at once and redirects to the loopback callback.
          browser ??= url ? fetch(url).catch(() => {}) : undefined
        },
        stdin: openStdin(),
      })
    }

    case 'login-token-flow': {
      Object.assign(emulator.knobs, {autoApprove: true, legacyOnly: true})
      return runCommand([...login, '--headless'], {env: emulatorEnv(emulator, suite.config), stdin: openStdin()})
    }

    case 'login-with-token': {
      return runCommand([...login, '--with-token'], {env: emulatorEnv(emulator, suite.config), stdin: Readable.from([emulator.issuePat()])})
    }

    case 'logout':
    case 'whoami':
    case 'whoami-refresh': {
      const ttl = scenario.run === 'whoami-refresh' ? 10 : 3600
      const tokens = emulator.issueTokens({ttl})
      suite.config = await tempConfig(configText({expiresIn: ttl, refreshToken: tokens.refresh_token, token: tokens.access_token}))
      const command = scenario.run === 'logout' ? 'logout' : 'whoami'
      return runCommand(['cloud', 'auth', command, ...flag], {env: emulatorEnv(emulator, suite.config)})
    }
    }
  }

  for (const scenario of SCENARIOS) {
    for (const status of STATUSES) {
      for (const json of [false, true]) {
        it(`${scenario.endpoint} (${scenario.run}) echoes at ${status}${json ? ', --json' : ''}`, async () => {
          // A past date: retried statuses are retried at once, so the echo is what finally fails.
          suite.emulator.knobs.failures[scenario.endpoint] = {kind: 'echo', retryAfter: 'Thu, 01 Jan 1970 00:00:00 GMT', status}
          const result = await run(scenario, json)
          const [method, path] = scenario.endpoint.split(' ') as [string, string]
          const pattern = new RegExp(`^${path.replaceAll(/\{\w+\}/gv, String.raw`[^\/]+`)}$`, 'v')
          const echoed = suite.emulator.requests.filter(request => request.method === method && pattern.test(request.path))
          expect(echoed, `the emulator received ${scenario.endpoint}`).not.to.deep.equal([])
          const secrets = carriedSecrets(suite.emulator.requests)
          expect(secrets, 'the request carried secrets').not.to.deep.equal([])
          expectNoSecrets(result, ...secrets)
        })
      }
    }
  }
})
