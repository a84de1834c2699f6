/**
 * The service misbehaving, for every command that talks to it: error statuses
 * with and without Retry-After, HTML instead of JSON, broken or unexpected
 * JSON, no answer, a closed port, a connection reset mid-answer.
 *
 * Each case runs the built CLI against its own emulator. The cases run side by
 * side in `before` (they mostly wait on retries and timeouts), then each `it`
 * checks one case: the exit code, one clear error line naming the host and one
 * saying what to do, no stack trace, no token, and the config folder exactly
 * as it was (logout instead removes the credentials: docs/protocol.md, "Logout").
 */
import {expect} from 'chai'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {parse} from 'smol-toml'

import {
  type Emulator,
  type Failure,
  type Knobs,
  startEmulator,
} from '../emulator/server.js'
import {type CliResult, startCli} from '../support/cli.js'
import {
  bindingTable,
  expectSameFolder,
  type FolderSnapshot,
  snapshotFolder,
  tempConfig,
} from '../support/config.js'
import {errorLines, expectNoLeaks} from '../support/expect.js'
import {closedPort} from '../support/net.js'
import {inPool} from '../support/pool.js'

// ------------------------------------------------------------------ faults

type Fault = {
  /** Injected at the flow's path (absent for `refused`). */
  failure?: Failure;
  /** 401: the credentials are rejected. */
  isAuth?: boolean;
  /** The flow's host is a port nothing listens on. */
  isRefused?: boolean;
  /** What the error line says happened. */
  says: RegExp;
}

const FAULTS = {
  'bad JSON': {failure: {kind: 'bad-json'}, says: /not JSON/v},
  'connection refused': {isRefused: true, says: /connection refused/v},
  'connection reset mid-body': {failure: {kind: 'reset'}, says: /broke before its answer was complete|connection was reset/v},
  'HTML (a Cloudflare block page, 403)': {failure: {kind: 'html', status: 403}, says: /HTTP 403|web page|not JSON/v},
  'HTML instead of JSON (200)': {failure: {kind: 'html'}, says: /web page|not JSON/v},
  'HTTP 401': {failure: {status: 401}, isAuth: true, says: /./v},
  'HTTP 429': {failure: {status: 429}, says: /rate limiting|429/v},
  'HTTP 429, Retry-After: 1': {failure: {retryAfter: 1, status: 429}, says: /rate limiting|429/v},
  'HTTP 500': {failure: {status: 500}, says: /HTTP 500/v},
  'HTTP 502': {failure: {status: 502}, says: /HTTP 502/v},
  'HTTP 502, Retry-After: 1': {failure: {retryAfter: 1, status: 502}, says: /HTTP 502/v},
  'HTTP 503': {failure: {status: 503}, says: /HTTP 503/v},
  'HTTP 503, Retry-After: 1': {failure: {retryAfter: 1, status: 503}, says: /HTTP 503/v},
  'HTTP 503, Retry-After: 3600 (longer than anyone waits)': {failure: {retryAfter: 3600, status: 503}, says: /HTTP 503/v},
  'JSON of the wrong shape': {failure: {kind: 'wrong-shape'}, says: /does not understand|unsafe or incomplete|without an access token/v},
  'no answer (timeout)': {failure: {kind: 'hang'}, says: /no answer within 1 s/v},
  'truncated JSON': {failure: {kind: 'truncated'}, says: /broke before its answer was complete/v},
} satisfies Record<string, Fault>

type FaultName = keyof typeof FAULTS
const ALL = Object.keys(FAULTS) as FaultName[]
/** Requests sent once (POSTs of single-use grants, logout): a status is a status, retries do not apply. */
const ONCE: FaultName[] = [
  'HTTP 401',
  'HTTP 429',
  'HTTP 500',
  'HTTP 502',
  'HTTP 503',
  'bad JSON',
  'connection refused',
  'connection reset mid-body',
  'HTML (a Cloudflare block page, 403)',
  'HTML instead of JSON (200)',
  'JSON of the wrong shape',
  'no answer (timeout)',
  'truncated JSON',
]

// ------------------------------------------------------------------ flows

type Setup = {
  config: string;
  env?: Record<string, string>;
  input?: string;
  knobs?: Partial<Knobs>;
  /** Secrets this case must never print. */
  secrets: string[];
}

type Flow = {
  args: string[];
  /** Exit code for a 401 here (4 where the command needs a session; login fails with 1). */
  authExit?: number;
  /** What a 401 says here. */
  authSays?: RegExp;
  /** Drive the sign-in in a "browser" once the CLI prints the address. */
  browser?: boolean;
  faults: FaultName[];
  /** How the file may change: not at all, or (logout) the credentials removed. */
  file: 'logged-out' | 'unchanged';
  name: string;
  /** The failure key: a path or 'METHOD /path'. */
  path: string;
  /** Where the refused case points: the API host, or (token) the provider's token endpoint. */
  refuse?: 'api' | 'token-endpoint';
  /** What a fault says here instead, when the flow words it its own way. */
  says?: Partial<Record<FaultName, RegExp>>;
  setup(emulator: Emulator): Setup;
}

const ORG_TABLES = `
[user-namespace]
default_public_key = "pk_user_namespace"
default_public_key_name = "Default Key"

[acme]
default_public_key = "pk_acme"
default_public_key_name = "Acme Key"
note = "a key the plugin does not know"
`

/** Bound to the emulator already (binding.ts), so that no command writes the file to record its first use. */
function patFile(pat: string, emulator: Emulator): string {
  return `token = "${pat}"\norg = "user-namespace"\nrefresh_token = ""\ntoken_expires_at = 0\n${ORG_TABLES}${bindingTable(emulator.url, {token: pat}, 'personal-access-token')}`
}

function oauthFile(emulator: Emulator): {file: string; secrets: string[]} {
  const tokens = emulator.issueTokens({ttl: 3600})
  const expiresAt = Math.floor(Date.now() / 1000) + 3600
  return {
    file: `token = "${tokens.access_token}"\norg = "user-namespace"\nrefresh_token = "${tokens.refresh_token}"\ntoken_expires_at = ${expiresAt}.5\n${ORG_TABLES}`
      + bindingTable(emulator.url, {refreshToken: tokens.refresh_token, token: tokens.access_token}, 'oauth'),
    secrets: [tokens.access_token, tokens.refresh_token],
  }
}

const LOGIN_OAUTH = ['cloud', 'auth', 'login', '--headless', '--timeout', '30']

/** An earlier sign-in is on file: a failed login must leave it exactly as it was. */
function previousLogin(emulator: Emulator): Setup {
  const {file, secrets} = oauthFile(emulator)
  return {config: file, knobs: {autoApprove: true}, secrets}
}

const FLOWS: Flow[] = [
  {
    args: ['cloud', 'auth', 'whoami'],
    authExit: 4,
    authSays: /session has expired or was revoked/v,
    faults: ALL,
    file: 'unchanged',
    name: 'whoami (personal access token)',
    path: '/v1/users',
    setup(emulator) {
      const pat = emulator.issuePat()
      return {config: patFile(pat, emulator), secrets: [pat]}
    },
  },
  {
    args: ['cloud', 'auth', 'whoami'],
    faults: ALL.filter(name => name !== 'HTTP 401'), // a 401 here refreshes the token, which writes the file: see the cases below
    file: 'unchanged',
    name: 'whoami (OAuth token)',
    path: '/v1/organizations',
    setup(emulator) {
      const {file, secrets} = oauthFile(emulator)
      return {config: file, secrets}
    },
  },
  {
    args: ['cloud', 'auth', 'whoami'],
    faults: ['HTTP 500', 'HTTP 503', 'HTTP 429', 'HTML instead of JSON (200)', 'JSON of the wrong shape', 'no answer (timeout)', 'connection reset mid-body'],
    file: 'unchanged',
    name: 'whoami (expired OAuth token, refresh grant)',
    path: 'POST /oauth/token',
    // Once sent, the grant's answer is waited for 30 s whatever PIPECAT_HTTP_TIMEOUT says: it spends the stored refresh token.
    says: {'no answer (timeout)': /no answer within 30 s\. The session renewal got no answer; if the service renewed it anyway, the stored session no longer works/v},
    setup(emulator) {
      const {file, secrets} = oauthFile(emulator)
      return {config: file.replace(/token_expires_at = [\d.]+/v, 'token_expires_at = 1000.0'), secrets}
    },
  },
  {
    args: ['cloud', 'auth', 'logout'],
    faults: ONCE,
    file: 'logged-out',
    name: 'logout (refresh token stored)',
    path: 'POST /auth/logout',
    setup(emulator) {
      const {file, secrets} = oauthFile(emulator)
      return {config: file, secrets}
    },
  },
  {
    args: ['cloud', 'auth', 'login', '--with-token'],
    authExit: 1,
    authSays: /rejected the personal access token/v,
    faults: ALL,
    file: 'unchanged',
    name: 'login --with-token',
    path: '/v1/organizations',
    setup(emulator) {
      const old = emulator.issuePat()
      const pat = emulator.issuePat()
      return {config: patFile(old, emulator), input: `${pat}\n`, secrets: [old, pat]}
    },
  },
  {
    args: LOGIN_OAUTH,
    faults: ['HTTP 500',
      'HTTP 503, Retry-After: 1',
      'HTTP 429',
      'HTML instead of JSON (200)',
      'HTML (a Cloudflare block page, 403)',
      'bad JSON',
      'truncated JSON',
      'JSON of the wrong shape',
      'no answer (timeout)',
      'connection reset mid-body',
      'connection refused'],
    file: 'unchanged',
    name: 'login (OAuth config)',
    path: '/auth/config',
    setup: previousLogin,
  },
  {
    args: LOGIN_OAUTH,
    faults: ['HTTP 500',
      'HTTP 503, Retry-After: 1',
      'HTML instead of JSON (200)',
      'bad JSON',
      'truncated JSON',
      'JSON of the wrong shape',
      'no answer (timeout)',
      'connection reset mid-body'],
    file: 'unchanged',
    name: 'login (OAuth discovery)',
    path: '/oauth/.well-known/openid-configuration',
    setup: previousLogin,
  },
  {
    args: LOGIN_OAUTH,
    authExit: 1,
    authSays: /did not accept the authorization code \(HTTP 401/v,
    browser: true,
    faults: ONCE,
    file: 'unchanged',
    name: 'login (OAuth token exchange)',
    path: 'POST /oauth/token',
    refuse: 'token-endpoint',
    setup: previousLogin,
  },
  {
    args: LOGIN_OAUTH,
    authExit: 1,
    authSays: /did not accept the token the sign-in returned/v,
    browser: true,
    faults: ['HTTP 500',
      'HTTP 503, Retry-After: 1',
      'HTTP 401',
      'HTML instead of JSON (200)',
      'truncated JSON',
      'JSON of the wrong shape',
      'no answer (timeout)',
      'connection reset mid-body'],
    file: 'unchanged',
    name: 'login (OAuth, organizations after sign-in)',
    path: '/v1/organizations',
    setup: previousLogin,
  },
]

// ------------------------------------------------------------------ running a case

type Case = {fault: Fault; faultName: FaultName; flow: Flow}

type Outcome = {
  after: FolderSnapshot;
  before: FolderSnapshot;
  config: string;
  file: string;
  /** The host the error must name. */
  host: string;
  result: CliResult;
  secrets: string[];
  signOutUrl: string;
}

const AUTHORIZE_URL = /http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v

async function runCase({fault, flow}: Case, jsonFlag = false): Promise<Outcome> {
  const emulator = await startEmulator()
  const setup = flow.setup(emulator)
  let apiHost = emulator.url
  let {host} = new URL(emulator.url)
  if (fault.isRefused) {
    const port = await closedPort()
    host = `127.0.0.1:${port}`
    if (flow.refuse === 'token-endpoint') emulator.knobs.discovery = {token_endpoint: `http://${host}/oauth/token`}
    else apiHost = `http://${host}`
  } else if (fault.failure) {
    emulator.knobs.failures[flow.path] = {...fault.failure}
  }

  // The credentials on file are bound to the API host this case uses (the refused one too), as a first use would have.
  const temp = await tempConfig(setup.config.replaceAll(`issuer = "${emulator.url}"`, () => `issuer = "${apiHost}"`))
  try {
    Object.assign(emulator.knobs, setup.knobs)

    const before = await snapshotFolder(path.dirname(temp.file))
    const child = startCli([...flow.args, ...(jsonFlag ? ['--json'] : [])], {
      env: {
        ...temp.env,
        PIPECAT_API_HOST: apiHost,
        PIPECAT_DASHBOARD_HOST: emulator.url,
        PIPECAT_HTTP_TIMEOUT: fault.failure?.kind === 'hang' ? '1' : '10',
        ...setup.env,
      },
      timeoutMs: 60_000,
    })
    child.stdin.end(setup.input ?? '')
    if (flow.browser) playBrowser(child)
    const result = await child.result
    return {
      after: await snapshotFolder(path.dirname(temp.file)),
      before,
      config: setup.config,
      file: temp.file,
      host,
      result,
      secrets: setup.secrets,
      signOutUrl: `${emulator.url}/sign-out`,
    }
  } finally {
    await emulator.close()
    await temp.cleanup()
  }
}

/** Approves the sign-in as a browser would (the emulator auto-approves), following the redirect to the CLI's loopback callback. */
function playBrowser(child: ReturnType<typeof startCli>): void {
  let seen = ''
  let isPlayed = false
  child.stderr.on('data', (chunk: Buffer | string) => {
    seen += chunk.toString()
    const url = AUTHORIZE_URL.exec(seen)?.[0]
    if (!url || isPlayed) return
    isPlayed = true
    fetch(url).then(async response => response.arrayBuffer()).catch(() => {})
  })
}

// ------------------------------------------------------------------ what the user must see

const CREDENTIALS = new Set(['@pipecat-ai/plugin-cloud', 'refresh_token', 'token', 'token_expires_at'])

function withoutCredentials(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !CREDENTIALS.has(key)))
}

function expectFailure(outcome: Outcome, {fault, faultName, flow}: Case): void {
  const {result} = outcome
  const stderr = `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`
  expect(result.signal, stderr).to.equal(null)
  expect(result.code, stderr).to.equal(fault.isAuth ? flow.authExit : 1)
  expectNoLeaks(result, ...outcome.secrets)
  const {error, suggestion} = errorLines(result)
  if (fault.isAuth) {
    expect(error).to.match(flow.authSays!)
    if (flow.authExit === 4) expect(suggestion).to.match(/cloud auth login/v)
  } else {
    expect(error, 'names the host').to.contain(outcome.host)
    expect(error).to.match(flow.says?.[faultName] ?? fault.says)
  }

  expect(result.stdout, 'nothing on stdout').to.equal('')
  expectSameFolder(outcome.after, outcome.before)
}

/** What logout says for these answers of the revocation endpoint; for any other, that the revocation was not confirmed. */
const LOGOUT_SAYS: Partial<Record<FaultName, {stderr?: RegExp; stdout?: string}>> = {
  // The access token was renewed once and the service still refused it: the session is over anyway.
  'HTTP 401': {stdout: 'Your session had already ended on Pipecat Cloud.'},
  'HTTP 503': {stderr: /could not revoke your session right now \(503/v},
  // A 2xx is a confirmation, whatever its body.
  'JSON of the wrong shape': {stdout: 'Your session was revoked on Pipecat Cloud.'},
}

/** Logout on a failing service: the outcome docs/protocol.md gives for each answer, the credentials removed, everything else kept. */
function expectLoggedOut(outcome: Outcome, {fault, faultName}: Case): void {
  const {result} = outcome
  const output = `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`
  expect(result.code, output).to.equal(0)
  expectNoLeaks(result, ...outcome.secrets)
  expect(result.stdout).to.contain(`Logged out: removed the credentials from ${outcome.file}`)

  const special = LOGOUT_SAYS[faultName]
  if (special?.stdout) expect(result.stdout).to.contain(special.stdout)
  if (special?.stderr) expect(result.stderr).to.match(special.stderr)
  if (!special) {
    expect(result.stderr).to.contain('did not confirm that your session was revoked')
    expect(result.stderr, 'names the host').to.contain(outcome.host)
    expect(result.stderr).to.match(fault.says)
    expect(result.stderr, 'where to end it').to.contain(outcome.signOutUrl)
  }

  const now = parse(outcome.after[path.basename(outcome.file)]!.toString('utf8'))
  expect(now).to.deep.equal(withoutCredentials(parse(outcome.config)))
  expect(Object.keys(outcome.after), 'no leftover files').to.deep.equal(Object.keys(outcome.before))
}

// ------------------------------------------------------------------ the suite

const CASES: Case[] = FLOWS.flatMap(flow => flow.faults.map(faultName => ({fault: FAULTS[faultName], faultName, flow})))
const CASES_BY_FLOW = new Map(FLOWS.map(flow => [flow, CASES.filter(item => item.flow === flow)]))
const JSON_CASES: Case[] = CASES.filter(({faultName, flow}) =>
  (flow.name === 'whoami (personal access token)' && (faultName === 'HTTP 500' || faultName === 'HTTP 401'))
  || (flow.name === 'login --with-token' && faultName === 'no answer (timeout)')
  || (flow.name === 'login (OAuth config)' && faultName === 'HTML instead of JSON (200)'))

describe('faults: the service misbehaves', function () {
  this.timeout(180_000)
  const outcomes = new Map<Case, Outcome>()
  const jsonOutcomes = new Map<Case, Outcome>()

  before(async function () {
    this.timeout(240_000)
    // Most of a case is waiting (retries, timeouts); four at a time keeps two cores busy. At most four
    // logins hold a loopback port (8400-8404) at once.
    const jobs = [...CASES.map(item => ({item, json: false})), ...JSON_CASES.map(item => ({item, json: true}))]
    await inPool(jobs, 4, async ({item, json}) => {
      const outcome = await runCase(item, json);
      (json ? jsonOutcomes : outcomes).set(item, outcome)
    })
  })

  for (const flow of FLOWS) {
    describe(flow.name, () => {
      for (const item of CASES_BY_FLOW.get(flow)!) {
        it(item.faultName, () => {
          const outcome = outcomes.get(item)!
          if (flow.file === 'logged-out') expectLoggedOut(outcome, item)
          else expectFailure(outcome, item)
        })
      }
    })
  }

  describe('--json', () => {
    for (const item of JSON_CASES) {
      it(`${item.flow.name}, ${item.faultName}: one JSON error document on stdout, the same exit code`, () => {
        const {after, before, host, result, secrets} = jsonOutcomes.get(item)!
        expect(result.code, result.stderr).to.equal(item.fault.isAuth ? item.flow.authExit : 1)
        expectNoLeaks(result, ...secrets)
        const {error} = JSON.parse(result.stdout) as {error: {exit: number; message: string; suggestions?: string[]}}
        expect(error.exit).to.equal(result.code)
        if (!item.fault.isAuth) expect(error.message).to.contain(host)
        expect(error.suggestions ?? []).to.have.length(1)
        expectSameFolder(after, before)
      })
    }
  })

  describe('whoami (OAuth token): the service keeps refusing it', () => {
    /** whoami with a valid OAuth sign-in on file, after `prepare` sets the emulator up. */
    async function whoamiWithOAuth(prepare: (emulator: Emulator, refreshToken: string) => Promise<void> | void) {
      const emulator = await startEmulator()
      const {file, secrets} = oauthFile(emulator)
      const temp = await tempConfig(file)
      try {
        await prepare(emulator, /refresh_token = "([^"]+)"/v.exec(file)![1]!)
        const before = await snapshotFolder(path.dirname(temp.file))
        const child = startCli(['cloud', 'auth', 'whoami'], {env: {...temp.env, PIPECAT_API_HOST: emulator.url}})
        child.stdin.end()
        const result = await child.result
        expect(result.code, result.stderr).to.equal(4)
        expectNoLeaks(result, ...secrets)
        expect(errorLines(result).suggestion).to.match(/cloud auth login/v)
        expect(emulator.stats.refreshGrants, 'one refresh attempt').to.equal(1)
        return {
          after: await snapshotFolder(path.dirname(temp.file)), before, file, now: await readFile(temp.file, 'utf8'),
        }
      } finally {
        await emulator.close()
        await temp.cleanup()
      }
    }

    it('a revoked session: exit 4 with the login advice, one refresh attempt, the file untouched', async () => {
      const {after, before} = await whoamiWithOAuth(async (emulator, refreshToken) => {
        await fetch(`${emulator.url}/oauth/revoke`, {body: new URLSearchParams({token: refreshToken}), method: 'POST'})
      })
      expectSameFolder(after, before)
    })

    it('a 401 even after a successful refresh: exit 4; only the renewed credentials were written, everything else kept', async () => {
      const {file, now} = await whoamiWithOAuth(emulator => {
        emulator.knobs.failures['/v1/organizations'] = {status: 401}
      })
      const was = parse(file)
      const stored = parse(now)
      expect(stored.refresh_token).to.not.equal(was.refresh_token) // rotated: the old one is spent
      expect(withoutCredentials(stored)).to.deep.equal(withoutCredentials(was))
    })
  })
})
