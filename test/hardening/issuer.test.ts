/**
 * Credentials go only to the service that issued them. Two emulators stand for
 * two services, A (where the user signed in) and B (another API host, set by
 * PIPECAT_API_HOST): B must never receive A's access or refresh token, whether
 * the user runs whoami, logout or signs in again at B.
 */
import {expect} from 'chai'
import {parse} from 'smol-toml'

import {playBrowser} from '../emulator/browser.js'
import {type Emulator, startEmulator} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {
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

describe('credentials go only to the service that issued them', function () {
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
    // A real browser sign-in at A, as a user would have done.
    const run = startLogin(serviceA, config)
    await playBrowser(await printedUrl(run))
    const result = await finished(run)
    expect(result.code, result.stderr).to.equal(0)
    const stored = parse(await readText(config.file))
    expect(stored.token_issuer, 'the issuer is recorded with the credentials').to.equal(serviceA.url)
    tokens = {access: stored.token as string, refresh: stored.refresh_token as string}
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
    const {writeFile} = await import('node:fs/promises')
    await writeFile(config.file, text.replace(/token_expires_at = [\d.]+/v, () => `token_expires_at = ${(Date.now() / 1000) - 10}`))
    const result = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: atB()})
    expect(result.code).to.equal(4)
    expect(carried(serviceB)).to.not.contain(tokens.refresh)
    expect(serviceB.stats.refreshGrants).to.equal(0)
  })

  it('logout with another API host removes the credentials without sending them, and says the session was not revoked', async () => {
    const result = await runCli(['cloud', 'auth', 'logout', '--json'], {env: atB()})
    expect(result.code, result.stderr).to.equal(0)
    const outcome = JSON.parse(result.stdout) as {credentialsRemoved: boolean; revocation: string; tokenIssuer: string}
    expect(outcome).to.deep.include({credentialsRemoved: true, revocation: 'not-sent', tokenIssuer: serviceA.url})
    expect(result.stderr).to.match(/not revoked: it was issued by http/v)
    expect(carried(serviceB)).to.not.contain(tokens.access).and.not.contain(tokens.refresh)
    expect(parse(await readText(config.file))).to.not.have.any.keys('token', 'refresh_token', 'token_issuer')
  })

  it('signing in at another service leaves the old session alone and says so; B never sees A\'s tokens', async () => {
    const pat = serviceB.issuePat()
    const result = await runCli(['cloud', 'auth', 'login', '--with-token', '--json'], {env: atB(), input: `${pat}\n`})
    expect(result.code, result.stderr).to.equal(0)
    const outcome = JSON.parse(result.stdout) as {previousSessionIssuer: string; previousSessionRevocation: string}
    expect(outcome).to.deep.include({previousSessionIssuer: serviceA.url, previousSessionRevocation: 'not-sent'})
    expect(result.stderr).to.contain(`issued by ${serviceA.url}, so it was not sent to this service`)
    expect(carried(serviceB)).to.not.contain(tokens.access).and.not.contain(tokens.refresh)
    const stored = parse(await readText(config.file))
    expect(stored).to.deep.include({token: pat, token_issuer: serviceB.url})
  })

  it('cloud config and whoami show the issuer', async () => {
    const shown = await runCli(['cloud', 'config'], {env: emulatorEnv(serviceA, config)})
    expect(shown.stdout).to.contain(`Credentials issued by: ${serviceA.url}`)
    const report = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: emulatorEnv(serviceA, config)})
    expect(JSON.parse(report.stdout)).to.deep.include({tokenIssuer: serviceA.url})
  })

  it('credentials without a recorded issuer (the official CLI\'s) keep working with the configured host', async () => {
    const text = await readText(config.file)
    const {writeFile} = await import('node:fs/promises')
    await writeFile(config.file, text.replace(/^token_issuer = .*\n/mv, ''))
    const result = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: emulatorEnv(serviceA, config)})
    expect(result.code, result.stderr).to.equal(0)
    expect(JSON.parse(result.stdout)).to.deep.include({tokenIssuer: null})
  })
})
