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
import {emulatorEnv, exists, storedConfig} from '../support/config.js'
import {expectNoSecrets} from '../support/expect.js'
import {finished, printedUrl, startLogin} from '../support/login.js'
import {emulatorSuite} from '../support/suite.js'

const HTTPS_AUTHORIZE_URL = /https:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v

describe('over HTTPS (the emulator started with tls)', () => {
  const suite = emulatorSuite({tls: true})
  /** a second emulator: its authority is a valid one, just not the one that signed the suite emulator's certificate */
  let stranger: Emulator

  before(async () => {
    stranger = await startEmulator({tls: true})
  })

  after(async () => {
    await stranger.close()
  })

  it('hands out https addresses only, with a certificate for 127.0.0.1 and localhost in a file', async () => {
    expect(suite.emulator.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/v)
    expect(suite.emulator.issuer).to.equal(`${suite.emulator.url}/oauth`)
    const ca = new X509Certificate(suite.emulator.ca!)
    expect(ca.ca).to.equal(true)
    expect(await readFile(suite.emulator.caFile!, 'utf8')).to.equal(suite.emulator.ca)
    // verified against the authority alone, by address and by name
    for (const servername of ['127.0.0.1', 'localhost']) {
      const peer = await serverCertificate(suite.emulator, servername)
      expect(peer.subjectaltname).to.equal('IP Address:127.0.0.1, DNS:localhost')
    }

    // the addresses the official CLI checks for https, and the earlier flow's sign-in page
    const discovery = await requestJson(suite.emulator, 'GET', '/oauth/.well-known/openid-configuration')
    for (const key of ['issuer', 'authorization_endpoint', 'token_endpoint', 'revocation_endpoint']) expect(discovery[key]).to.match(/^https:\/\/127\.0\.0\.1:\d+\//v)
    expect(await requestJson(suite.emulator, 'GET', '/auth/config')).to.include({issuer: suite.emulator.issuer})
    expect((await requestJson(suite.emulator, 'POST', '/auth/login')).web_url).to.match(/^https:\/\/127\.0\.0\.1:\d+\/login\//v)
  })

  it('login, whoami with a refresh, and logout, trusting the emulator through NODE_EXTRA_CA_CERTS', async () => {
    // inside the plugin's refresh margin (60 s): the next command renews the token first
    suite.emulator.knobs.accessTokenTtl = 30
    const trust = {NODE_EXTRA_CA_CERTS: suite.emulator.caFile}

    const run = startLogin(suite.emulator, suite.config, ['--headless'], trust)
    const page = await playBrowser(await printedUrl(run, HTTPS_AUTHORIZE_URL), {ca: suite.emulator.ca})
    expect(page.body).to.contain('Signed in to Pipecat Cloud')
    const login = await finished(run)
    expect(login.code, login.stderr).to.equal(0)
    expect(login.stdout).to.equal(`Logged in as dev@example.com\nOrganization: Demo User (user-namespace)\nCredentials saved to ${suite.config.file}\n`)
    expect(suite.emulator.stats.codeExchanges).to.equal(1)
    const first = await storedConfig(suite.config.file)
    expect(suite.emulator.isValid(first.token as string)).to.equal(true)

    const whoami = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(suite.emulator, suite.config, trust)})
    expect(whoami.code, whoami.stderr).to.equal(0)
    expect(whoami.stdout).to.match(/^Email:\s+dev@example\.com$/mv)
    expect(suite.emulator.stats.refreshGrants).to.equal(1)
    const renewed = await storedConfig(suite.config.file)
    expect(renewed.token).to.be.a('string').and.not.equal(first.token)
    expect(renewed.refresh_token).to.be.a('string').and.not.equal(first.refresh_token)
    expect(suite.emulator.isValid(renewed.token as string)).to.equal(true)

    const logout = await runCli(['cloud', 'auth', 'logout'], {env: emulatorEnv(suite.emulator, suite.config, trust)})
    expect(logout.code, logout.stderr).to.equal(0)
    expect(logout.stdout).to.contain('Your session was revoked on Pipecat Cloud.')
    expect(suite.emulator.stats.revocations).to.equal(1)
    expect(suite.emulator.isValid(renewed.token as string)).to.equal(false)
    expect(await storedConfig(suite.config.file)).not.to.have.any.keys('token', 'refresh_token')
    for (const result of [login, whoami, logout]) expectNoSecrets(result)
  })

  it('no authority to trust: whoami exits 1 with one error line naming the host and the certificate, a suggestion, no stack', async () => {
    const result = await runCli(['cloud', 'auth', 'whoami'], {env: emulatorEnv(suite.emulator, suite.config, {PIPECAT_TOKEN: suite.emulator.issuePat()})})
    expectUntrusted(result, suite.emulator)
    // the handshake failed, so no request reached the emulator
    expect(suite.emulator.requests).to.deep.equal([])
  })

  it('another authority trusted instead: login exits 1 the same way and saves nothing', async () => {
    const run = startLogin(suite.emulator, suite.config, ['--headless'], {NODE_EXTRA_CA_CERTS: stranger.caFile})
    const result = await finished(run)
    expectUntrusted(result, suite.emulator)
    expect(suite.emulator.requests).to.deep.equal([])
    expect(await exists(suite.config.file)).to.equal(false)
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
