/**
 * The plugin against the emulator over HTTPS (`npm run emulator -- --tls`):
 * the whole session works when NODE_EXTRA_CA_CERTS names the emulator's
 * authority, and a certificate it does not trust ends the command cleanly.
 */
import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {request} from 'node:https'
import {connect, type PeerCertificate} from 'node:tls'

import {playBrowser} from '../emulator/browser.js'
import {type Emulator, startEmulator} from '../emulator/server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {
  emulatorEnv,
  exists,
  storedConfig,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {expectNoSecrets} from '../support/expect.js'
import {
  finished,
  printedUrl,
  startLogin,
  stopLeftovers,
} from '../support/login.js'

const HTTPS_AUTHORIZE_URL = /https:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v

describe('over HTTPS (the emulator started with tls)', () => {
  let emu: Emulator
  /** a second emulator: its authority is a valid one, just not the one that signed `emu`'s certificate */
  let stranger: Emulator
  let config: TempConfig

  before(async () => {
    [emu, stranger] = await Promise.all([startEmulator({tls: true}), startEmulator({tls: true})])
  })

  after(async () => {
    await Promise.all([emu.close(), stranger.close()])
  })

  beforeEach(async () => {
    emu.reset()
    config = await tempConfig()
  })

  afterEach(async () => {
    await stopLeftovers()
    await config.cleanup()
  })

  it('hands out https addresses only, with a certificate for 127.0.0.1 and localhost in a file', async () => {
    expect(emu.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/v)
    expect(emu.issuer).to.equal(`${emu.url}/oauth`)
    const ca = new X509Certificate(emu.ca!)
    expect(ca.ca).to.equal(true)
    expect(await readFile(emu.caFile!, 'utf8')).to.equal(emu.ca)
    // verified against the authority alone, by address and by name
    for (const servername of ['127.0.0.1', 'localhost']) {
      const peer = await serverCertificate(emu, servername)
      expect(peer.subjectaltname).to.equal('IP Address:127.0.0.1, DNS:localhost')
    }

    // the addresses the official CLI checks for https, and the earlier flow's sign-in page
    const discovery = await requestJson(emu, 'GET', '/oauth/.well-known/openid-configuration')
    for (const key of ['issuer', 'authorization_endpoint', 'token_endpoint', 'revocation_endpoint']) expect(discovery[key]).to.match(/^https:\/\/127\.0\.0\.1:\d+\//v)
    expect(await requestJson(emu, 'GET', '/auth/config')).to.include({issuer: emu.issuer})
    expect((await requestJson(emu, 'POST', '/auth/login')).web_url).to.match(/^https:\/\/127\.0\.0\.1:\d+\/login\//v)
  })

  it('login, whoami with a refresh, and logout, trusting the emulator through NODE_EXTRA_CA_CERTS', async () => {
    // inside the plugin's refresh margin (60 s): the next command renews the token first
    emu.knobs.accessTokenTtl = 30
    const trust = {NODE_EXTRA_CA_CERTS: emu.caFile}

    const run = startLogin(emu, config, ['--headless'], trust)
    const page = await playBrowser(await printedUrl(run, HTTPS_AUTHORIZE_URL), {ca: emu.ca})
    expect(page.body).to.contain('Signed in to Pipecat Cloud')
    const login = await finished(run)
    expect(login.code, login.stderr).to.equal(0)
    expect(login.stdout).to.equal(`Logged in as dev@example.com\nOrganization: Demo User (user-namespace)\nCredentials saved to ${config.file}\n`)
    expect(emu.stats.codeExchanges).to.equal(1)
    const first = await storedConfig(config.file)
    expect(emu.isValid(first.token as string)).to.equal(true)

    const whoami = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(emu, config, trust)})
    expect(whoami.code, whoami.stderr).to.equal(0)
    expect(whoami.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
    expect(emu.stats.refreshGrants).to.equal(1)
    const renewed = await storedConfig(config.file)
    expect(renewed.token).to.be.a('string').and.not.equal(first.token)
    expect(renewed.refresh_token).to.be.a('string').and.not.equal(first.refresh_token)
    expect(emu.isValid(renewed.token as string)).to.equal(true)

    const logout = await runCli(['cloud', 'auth', 'logout'], {env: emulatorEnv(emu, config, trust)})
    expect(logout.code, logout.stderr).to.equal(0)
    expect(logout.stdout).to.contain('Your session was revoked on Pipecat Cloud.')
    expect(emu.stats.revocations).to.equal(1)
    expect(emu.isValid(renewed.token as string)).to.equal(false)
    expect(await storedConfig(config.file)).not.to.have.any.keys('token', 'refresh_token')
    for (const result of [login, whoami, logout]) expectNoSecrets(result)
  })

  it('no authority to trust: whoami exits 1 with one error line naming the host and the certificate, a suggestion, no stack', async () => {
    const result = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(emu, config, {PIPECAT_TOKEN: emu.issuePat()})})
    expectUntrusted(result, emu)
    // the handshake failed, so no request reached the emulator
    expect(emu.requests).to.deep.equal([])
  })

  it('another authority trusted instead: login exits 1 the same way and saves nothing', async () => {
    const run = startLogin(emu, config, ['--headless'], {NODE_EXTRA_CA_CERTS: stranger.caFile})
    const result = await finished(run)
    expectUntrusted(result, emu)
    expect(emu.requests).to.deep.equal([])
    expect(await exists(config.file)).to.equal(false)
  })
})

/** The certificate the emulator shows, after the handshake checked it against the emulator's authority and `servername`. */
async function serverCertificate(emulator: Emulator, servername: string): Promise<PeerCertificate> {
  const {port} = new URL(emulator.url)
  return new Promise((resolve, reject) => {
    const options = {
      ca: emulator.ca, host: '127.0.0.1', port: Number(port), servername: servername === '127.0.0.1' ? undefined : servername,
    }
    const socket = connect(options, () => {
      resolve(socket.getPeerCertificate())
      socket.end()
    })
    socket.on('error', reject)
  })
}

/** An emulator answer's JSON, over HTTPS trusting the emulator's authority. */
async function requestJson(emulator: Emulator, method: string, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(`${emulator.url}${path}`, {ca: emulator.ca, method}, response => {
      let text = ''
      response.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk
      })
      response.on('end', () => {
        resolve(JSON.parse(text) as Record<string, unknown>)
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** Exit 1, stdout empty; stderr: one `Error:` line naming the host and its certificate, then a suggestion; no stack trace. */
function expectUntrusted(result: CliResult, emulator: Emulator): void {
  const {host} = new URL(emulator.url)
  expect(result.code, result.stderr).to.equal(1)
  expect(result.stdout).to.equal('')
  const lines = result.stderr.trimEnd().split('\n')
  const errors = lines.filter(line => line.startsWith('Error:'))
  expect(errors, result.stderr).to.have.length(1)
  expect(errors[0]).to.contain(host).and.contain('its certificate is not trusted')
  expect(lines.some(line => /^Try this: .*NODE_EXTRA_CA_CERTS/v.test(line)), result.stderr).to.equal(true)
  expect(result.stderr).not.to.match(/^\s+at /mv)
}
