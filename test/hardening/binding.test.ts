/**
 * Credentials go only to the host they are bound to. Two emulators stand for
 * two services, A (where the credentials were first used) and B (another API
 * host, set by PIPECAT_API_HOST): B must never receive A's access or refresh
 * token, whether the user runs whoami, a refresh, logout or signs in again at
 * B; and that holds however the credentials were bound: by a plugin sign-in,
 * on first use of the official CLI's file, or by an earlier version's
 * top-level `token_issuer`. Credentials another program wrote over a binding
 * never inherit it.
 */
import {expect} from 'chai'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {parse} from 'smol-toml'

import {playBrowser} from '../emulator/browser.js'
import {type Emulator, startEmulator} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {
  binding,
  configText,
  emulatorEnv,
  readText,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {
  finished,
  printedUrl,
  startLogin,
  stopLeftovers,
} from '../support/login.js'

/** Every place a request could carry a token: the Authorization header, the body, the query. */
function carried(emulator: Emulator): string {
  return emulator.requests.map(request => `${String(request.headers.authorization)} ${request.body} ${JSON.stringify(request.query)}`).join('\n')
}

const BINDING = '@pipecat-ai/plugin-cloud'

async function writeConfig(config: TempConfig, text: string): Promise<void> {
  await mkdir(path.dirname(config.file), {mode: 0o700, recursive: true})
  await writeFile(config.file, text, {mode: 0o600})
}

/** How the credentials at A came to be bound to A. */
const ORIGINS = {
  /** an earlier version's top-level token_issuer, moved by the first use */
  async 'an earlier version\'s token_issuer'(serviceA: Emulator, config: TempConfig) {
    const tokens = serviceA.issueTokens({ttl: 3600})
    const text = configText({refreshToken: tokens.refresh_token, token: tokens.access_token})
    await writeConfig(config, text.replace('\n[', () => `token_issuer = "${serviceA.url}"\n\n[`))
    const first = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(serviceA, config)})
    expect(first.code, first.stderr).to.equal(0)
  },
  /** a real browser sign-in at A, as a user would have done */
  async 'a plugin sign-in'(serviceA: Emulator, config: TempConfig) {
    const run = startLogin(serviceA, config)
    await playBrowser(await printedUrl(run))
    const result = await finished(run)
    expect(result.code, result.stderr).to.equal(0)
  },
  /** the official CLI's file (no binding), then a first use at A */
  async 'first use of the official CLI\'s file'(serviceA: Emulator, config: TempConfig) {
    const tokens = serviceA.issueTokens({ttl: 3600})
    await writeConfig(config, configText({refreshToken: tokens.refresh_token, token: tokens.access_token}))
    const first = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(serviceA, config)})
    expect(first.code, first.stderr).to.equal(0)
  },
}

for (const [origin, bind] of Object.entries(ORIGINS)) {
  describe(`credentials bound by ${origin} go only to that host`, function () {
    this.timeout(60_000)
    let serviceA: Emulator
    let serviceB: Emulator
    let config: TempConfig
    let tokens: {access: string; refresh: string}

    before(async () => {
      serviceA = await startEmulator()
      serviceB = await startEmulator()
    })

    after(async () => {
      await serviceA.close()
      await serviceB.close()
    })

    beforeEach(async () => {
      serviceA.reset()
      serviceB.reset()
      config = await tempConfig()
      await bind(serviceA, config)
      const stored = parse(await readText(config.file))
      tokens = {access: stored.token as string, refresh: stored.refresh_token as string}
      expect(stored[BINDING], 'the binding is a table the official CLI accepts, naming these credentials').to.deep.include(
        binding(serviceA.url, {refreshToken: tokens.refresh, token: tokens.access}),
      )
      expect(stored[BINDING]).to.have.property('method', 'oauth')
      expect(stored).to.not.have.property('token_issuer')
      serviceA.requests.length = 0
    })

    afterEach(async () => {
      await stopLeftovers()
      await config.cleanup()
    })

    const atB = (extra: Record<string, string> = {}) => emulatorEnv(serviceB, config, {PIPECAT_DASHBOARD_HOST: serviceB.url, ...extra})

    it('whoami with another API host stops with exit 4, naming both services; the other service receives nothing', async () => {
      const result = await runCli(['cloud', 'auth', 'whoami'], {env: atB()})
      expect(result.code, result.stderr).to.equal(4)
      expect(result.stderr).to.contain(`issued by ${serviceA.url}`)
      expect(result.stderr).to.contain(`configured API host is ${serviceB.url} (PIPECAT_API_HOST)`)
      expect(result.stderr).to.match(/^Try this: Run `pipecat cloud auth login` to sign in to http:\/\/127\.0\.0\.1:\d+, or point PIPECAT_API_HOST at /mv)
      expect(serviceB.requests, 'B received no request at all').to.deep.equal([])
    })

    it('an expired token is not refreshed at another service', async () => {
      const text = await readText(config.file)
      await writeFile(config.file, text.replace(/token_expires_at = [\d.]+/v, () => `token_expires_at = ${(Date.now() / 1000) - 10}`))
      const result = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: atB()})
      expect(result.code).to.equal(4)
      expect(carried(serviceB)).to.not.contain(tokens.refresh)
      expect(serviceB.stats.refreshGrants).to.equal(0)
    })

    it('a refresh at A keeps the binding, for the new credentials; B still receives nothing', async () => {
      const text = await readText(config.file)
      await writeFile(config.file, text.replace(/token_expires_at = [\d.]+/v, () => `token_expires_at = ${(Date.now() / 1000) + 10}`))
      const renewed = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(serviceA, config)})
      expect(renewed.code, renewed.stderr).to.equal(0)
      expect(serviceA.stats.refreshGrants).to.equal(1)
      const stored = parse(await readText(config.file))
      expect(stored.refresh_token).to.not.equal(tokens.refresh)
      expect(stored[BINDING]).to.deep.include(binding(serviceA.url, {refreshToken: stored.refresh_token as string, token: stored.token as string}))
      const result = await runCli(['cloud', 'auth', 'whoami'], {env: atB()})
      expect(result.code).to.equal(4)
      expect(serviceB.requests).to.deep.equal([])
    })

    it('logout with another API host removes the credentials and their binding without sending them', async () => {
      const result = await runCli(['cloud', 'auth', 'logout', '--json'], {env: atB()})
      expect(result.code, result.stderr).to.equal(0)
      const outcome = JSON.parse(result.stdout) as {credentialsRemoved: boolean; revocation: string; tokenIssuer: string}
      expect(outcome).to.deep.include({credentialsRemoved: true, revocation: 'not-sent', tokenIssuer: serviceA.url})
      expect(result.stderr).to.match(/not revoked: it was issued by http/v)
      expect(carried(serviceB)).to.not.contain(tokens.access).and.not.contain(tokens.refresh)
      expect(parse(await readText(config.file))).to.not.have.any.keys('token', 'refresh_token', 'token_issuer', BINDING)
    })

    it('signing in at another service leaves the old session signed in and says where; B never sees A\'s tokens', async () => {
      const pat = serviceB.issuePat()
      const result = await runCli(['cloud', 'auth', 'login', '--with-token', '--json'], {env: atB(), input: `${pat}\n`})
      expect(result.code, result.stderr).to.equal(0)
      const outcome = JSON.parse(result.stdout) as {previousSessionIssuer: string; previousSessionRevocation: string}
      expect(outcome).to.deep.include({previousSessionIssuer: serviceA.url, previousSessionRevocation: 'not-sent'})
      expect(result.stderr).to.contain(`The previous session, with ${serviceA.url}, was left signed in`)
      expect(carried(serviceB)).to.not.contain(tokens.access).and.not.contain(tokens.refresh)
      const stored = parse(await readText(config.file))
      expect(stored).to.include({token: pat})
      expect(stored[BINDING]).to.deep.equal({...binding(serviceB.url, {token: pat}), method: 'personal-access-token'})
      expect(serviceA.isValid(tokens.access), 'the old session is still signed in at A').to.equal(true)
    })

    it('cloud config and whoami show the host', async () => {
      const shown = await runCli(['cloud', 'config'], {env: emulatorEnv(serviceA, config)})
      expect(shown.stdout).to.contain(`Credentials issued by: ${serviceA.url}`)
      const report = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: emulatorEnv(serviceA, config)})
      expect(JSON.parse(report.stdout)).to.deep.include({tokenIssuer: serviceA.url})
    })

    it('credentials another program wrote over the binding do not inherit it: unbound, then bound to their first host', async () => {
      // as the official CLI's `auth use-pat` does: new credentials, every other table kept as it was
      const pat = serviceB.issuePat()
      const text = await readText(config.file)
      await writeFile(config.file, text.replace(/^token = .*$/mv, () => `token = "${pat}"`).replace(/^refresh_token = .*$/mv, 'refresh_token = ""'))
      const atFirst = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: atB()})
      expect(atFirst.code, atFirst.stderr).to.equal(0)
      expect(JSON.parse(atFirst.stdout)).to.deep.include({tokenIssuer: serviceB.url})
      expect(parse(await readText(config.file))[BINDING]).to.deep.include(binding(serviceB.url, {token: pat}))
      const atA = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(serviceA, config)})
      expect(atA.code).to.equal(4)
      expect(carried(serviceA)).to.not.contain(pat)
    })
  })
}

describe('credentials with no recorded host', function () {
  this.timeout(60_000)
  let service: Emulator
  let config: TempConfig

  before(async () => {
    service = await startEmulator()
  })

  after(async () => {
    await service.close()
  })

  afterEach(async () => {
    await config.cleanup()
  })

  const EMPTY_RECORDS = {
    'an empty table record': (text: string) => `${text}\n["${BINDING}"]\nissuer = ""\ncredentials = ""\n`,
    'an empty token_issuer': (text: string) => text.replace('\n[', 'token_issuer = ""\n\n['),
    'no record (the official CLI\'s file)': (text: string) => text,
  }

  it('a host that cannot be reached, or that refuses them, is not recorded: the next host that accepts them is', async () => {
    const tokens = service.issueTokens({ttl: 3600})
    config = await tempConfig(configText({refreshToken: tokens.refresh_token, token: tokens.access_token}))
    const before = await readText(config.file)
    const unreachable = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv({url: 'http://127.0.0.1:9'}, config)})
    expect(unreachable.code).to.equal(1)
    const stranger = await startEmulator()
    try {
      const refused = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(stranger, config)})
      expect(refused.code).to.equal(4)
    } finally {
      await stranger.close()
    }

    expect(await readText(config.file), 'nothing recorded').to.equal(before)
    const accepted = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: emulatorEnv(service, config)})
    expect(accepted.code, accepted.stderr).to.equal(0)
    expect(parse(await readText(config.file))[BINDING]).to.deep.include(binding(service.url, {refreshToken: tokens.refresh_token, token: tokens.access_token}))
  })

  for (const [what, edit] of Object.entries(EMPTY_RECORDS)) {
    it(`${what}: used with the configured host, and bound to it`, async () => {
      const tokens = service.issueTokens({ttl: 3600})
      config = await tempConfig(edit(configText({refreshToken: tokens.refresh_token, token: tokens.access_token})))
      const result = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: emulatorEnv(service, config)})
      expect(result.code, result.stderr).to.equal(0)
      expect(JSON.parse(result.stdout)).to.deep.include({tokenIssuer: service.url})
      const stored = parse(await readText(config.file))
      expect(stored[BINDING]).to.deep.include(binding(service.url, {refreshToken: tokens.refresh_token, token: tokens.access_token}))
      expect(stored).to.not.have.property('token_issuer')
    })
  }
})
