/**
 * Nothing from outside is trusted blindly: attacks tried as an attacker would,
 * each against the built CLI.
 *
 * - a service that answers far too much (a gzip bomb, a huge plain body);
 * - a forged request to the loopback callback, and a flood of idle sockets on it;
 * - a discovery document that leaves out what makes the sign-in safe;
 * - a proxy in the environment while the API host is this machine.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {once} from 'node:events'
import {createServer, type Server, type ServerResponse} from 'node:http'
import {connect, type Socket} from 'node:net'
import {createGzip} from 'node:zlib'

import {authorizeRedirect, playBrowser} from '../emulator/browser.js'
import {
  BIN,
  cleanEnv,
  type CliResult,
  runCli,
  startProcess,
} from '../support/cli.js'
import {emulatorEnv, exists} from '../support/config.js'
import {requested} from '../support/emulator.js'
import {errorLines, expectNoLeaks} from '../support/expect.js'
import {finished, printedUrl, startLogin} from '../support/login.js'
import {portsAreFree} from '../support/net.js'
import {emulatorSuite} from '../support/suite.js'

const WHOAMI = ['cloud', 'auth', 'whoami']
const MIB = 1024 * 1024
/** A token of the PAT kind; the hostile servers never check it. */
const PAT = 'pcc_pat_trust-test-only'

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as {port: number}).port}`
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => {
    server.close(() => {
      resolve()
    })
  })
}

/** `size` bytes of JSON whitespace, gzip-compressed once (about a thousandth of its size). */
async function gzipBomb(size: number): Promise<Buffer> {
  const gzip = createGzip({level: 9})
  const chunks: Buffer[] = []
  gzip.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
  })
  const block = Buffer.alloc(MIB, ' ')
  for (let written = 0; written < size; written += block.length) {
    if (!gzip.write(block)) await once(gzip, 'drain')
  }

  gzip.end()
  await once(gzip, 'end')
  return Buffer.concat(chunks)
}

/** Writes `size` bytes of `{"a":"aaa...` as the peer reads them; stops when it hangs up. */
async function sendHuge(res: ServerResponse, size: number): Promise<void> {
  const block = Buffer.alloc(MIB, 'a')
  res.write('{"a":"')
  for (let written = 0; written < size && !res.destroyed; written += block.length) {
    if (!res.write(block)) {
      await Promise.race([once(res, 'drain'), once(res, 'close')])
    }
  }

  res.end('"}')
}

/** A gzip bomb as it is, or that many bytes of plain JSON. */
function answerTooMuch(res: ServerResponse, body: Buffer | number): void {
  if (typeof body !== 'number') {
    res.writeHead(200, {'content-encoding': 'gzip', 'content-length': body.length, 'content-type': 'application/json'})
    res.end(body)
    return
  }

  res.writeHead(200, {'content-length': body + '{"a":""}'.length, 'content-type': 'application/json'})
  sendHuge(res, body).catch(() => {})
}

/** Opens `count` connections to the port and holds them; half start a request they never finish. */
async function holdIdleSockets(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = []
  for (let index = 0; index < count; index++) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    sockets.push(socket)
  }

  await Promise.all(sockets.map(async (socket, index) => {
    await once(socket, 'connect').catch(() => {})
    if (index % 2) socket.write('GET /oauth_callback?code=x HTTP/1.1\r\nHost: 127.0.0.1\r\n')
  }))
  return sockets
}

/** The CLI under GNU time: its result, and the peak resident memory of the process in MB. */
async function runMeasured(args: string[], env: Record<string, string>): Promise<CliResult & {peakMb: number}> {
  const child = startProcess('/usr/bin/time', ['-v', process.execPath, BIN, ...args], {env: cleanEnv(env), timeoutMs: 120_000})
  child.stdin.end()
  const {code, signal, stderr, stdout} = await child.result
  // GNU time's report follows the program's own stderr, starting with the command line it ran.
  const at = stderr.lastIndexOf('\tCommand being timed:')
  const report = at === -1 ? '' : stderr.slice(at)
  const kb = /Maximum resident set size \(kbytes\): (\d+)/v.exec(report)?.[1]
  expect(kb, `GNU time's report in:\n${stderr.slice(-2000)}`).to.be.a('string')
  const own = (at === -1 ? stderr : stderr.slice(0, at)).replace(/^Command exited with non-zero status \d+\n/mv, '')
  return {
    code, peakMb: Number(kb) / 1024, signal, stderr: own, stdout,
  }
}

describe('trust: nothing from outside is taken blindly', function () {
  this.timeout(120_000)

  describe('answer size: a service that answers too much is cut off while it streams', () => {
    let bomb: Buffer
    let hostile: Server
    let url: string
    let mode: 'bomb' | 'huge'
    const seen: string[] = []

    before(async () => {
      bomb = await gzipBomb(1024 * MIB)
      hostile = createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`)
        answerTooMuch(res, mode === 'bomb' ? bomb : 300 * MIB)
      })
      url = await listen(hostile)
    })

    after(async () => {
      await close(hostile)
    })

    beforeEach(() => {
      seen.length = 0
    })

    for (const [name, kind] of [['a 1 MB gzip answer inflating to 1 GB', 'bomb'], ['a plain 300 MB answer', 'huge']] as const) {
      it(`${name}: exit 1, says the service answered too much, and the process stays small`, async () => {
        mode = kind
        expect(kind === 'bomb' ? bomb.length : 0).to.be.below(2 * MIB)
        const result = await runMeasured(WHOAMI, {PIPECAT_API_HOST: url, PIPECAT_ORG: 'acme', PIPECAT_TOKEN: PAT})
        expect(result.code, result.stderr).to.equal(1)
        expectNoLeaks(result, PAT)
        const {error, suggestion} = errorLines(result)
        expect(error).to.contain(`Error: ${new URL(url).host} answered with more than 4 MB`)
        expect(suggestion).to.contain('PIPECAT_API_HOST')
        expect(seen, 'each path asked once: a too-large answer is not retried').to.have.length(new Set(seen).size).and.include('GET /v1/users')
        expect(result.peakMb, 'peak resident memory of the CLI (MB)').to.be.below(200)
      })
    }
  })

  describe('the loopback callback: only the answer for this sign-in ends it', () => {
    const suite = emulatorSuite()

    it('forged callbacks (wrong state, no state, a forged denial) get an error page; the real one still signs in', async () => {
      const run = startLogin(suite.emulator, suite.config)
      const address = await printedUrl(run)
      const callback = new URL(address).searchParams.get('redirect_uri')!
      for (const query of ['code=x&state=wrong', 'code=x', 'error=access_denied&state=wrong', 'error=access_denied']) {
        const page = await fetch(`${callback}?${query}`)
        expect(page.status, query).to.equal(400)
        expect(await page.text(), query).to.contain('does not belong to this sign-in')
      }

      expect(run.exitCode, 'the login is still waiting').to.equal(null)
      const page = await playBrowser(address)
      expect(page.status).to.equal(200)
      expect(page.body).to.contain('Signed in to Pipecat Cloud')
      const result = await finished(run)
      expect(result.code, result.stderr).to.equal(0)
      expect(suite.emulator.stats.codeExchanges).to.equal(1)
      expect(await portsAreFree()).to.equal(true)
    })

    it('after a forged callback, the login waits for the real one until its timeout', async () => {
      const run = startLogin(suite.emulator, suite.config, ['--headless', '--timeout', '3'])
      const callback = new URL(await printedUrl(run)).searchParams.get('redirect_uri')!
      expect((await fetch(`${callback}?code=x&state=wrong`)).status).to.equal(400)
      const result = await run.result
      expect(result.code).to.equal(1)
      expect(errorLines(result).error).to.equal('Error: Timed out after 3 s waiting for the sign-in to complete.')
      expect(suite.emulator.stats.codeExchanges).to.equal(0)
      expect(await exists(suite.config.file)).to.equal(false)
    })

    it('1,100 idle sockets held open on the callback port do not keep the real callback out (the CLI limited to 1,024 files, a common default)', async () => {
      const run = startLogin(suite.emulator, suite.config)
      execFileSync('/usr/bin/prlimit', ['--pid', String(run.pid), '--nofile=1024:1024'])
      const address = await printedUrl(run)
      const {port} = new URL(new URL(address).searchParams.get('redirect_uri')!)
      const sockets = await holdIdleSockets(Number(port), 1100)
      try {
        const page = await playBrowser(address)
        expect(page.status).to.equal(200)
        expect(page.body).to.contain('Signed in to Pipecat Cloud')
        const result = await finished(run)
        expect(result.code, result.stderr).to.equal(0)
      } finally {
        for (const socket of sockets) socket.destroy()
      }
    })
  })

  describe('discovery: what makes the sign-in safe must be stated, not assumed', () => {
    const suite = emulatorSuite()

    it('without code_challenge_methods_supported (RFC 8414: no PKCE), the sign-in stops before any address is shown', async () => {
      suite.emulator.knobs.discovery = {code_challenge_methods_supported: undefined}
      const result = await runCli(['cloud', 'auth', 'login', '--headless', '--timeout', '20'], {env: emulatorEnv(suite.emulator, suite.config)})
      expect(result.code, result.stderr).to.equal(1)
      expect(errorLines(result).error).to.contain('The sign-in provider\'s configuration is unsafe or incomplete: it does not say it supports PKCE with S256')
      expect(result.stderr).not.to.contain('authorize?')
      expect(requested(suite.emulator)).not.to.include('GET /oauth/authorize')
      expect(await exists(suite.config.file)).to.equal(false)
    })

    describe('a provider that says it sends iss (RFC 9207)', () => {
      beforeEach(() => {
        suite.emulator.knobs.discovery = {authorization_response_iss_parameter_supported: true}
      })

      it('a callback without iss is refused, and the code never exchanged', async () => {
        suite.emulator.knobs.callbackIss = null
        const run = startLogin(suite.emulator, suite.config)
        const page = await playBrowser(await printedUrl(run))
        expect(page.status).to.equal(400)
        expect(page.body).to.contain('carries no issuer')
        const result = await finished(run)
        expect(result.code).to.equal(1)
        expect(errorLines(result).error).to.contain('The sign-in answer carries no issuer (iss), though the provider always sends one.')
        expect(suite.emulator.stats.codeExchanges).to.equal(0)
        expect(await exists(suite.config.file)).to.equal(false)
      })

      it('a pasted answer without iss is refused too', async () => {
        suite.emulator.knobs.callbackIss = null
        const run = startLogin(suite.emulator, suite.config)
        run.stdin.write(`${await authorizeRedirect(await printedUrl(run))}\n`)
        const result = await run.result
        expect(result.code).to.equal(1)
        expect(errorLines(result).error).to.contain('carries no issuer (iss)')
        expect(suite.emulator.stats.codeExchanges).to.equal(0)
      })

      it('with iss, it signs in', async () => {
        const run = startLogin(suite.emulator, suite.config)
        await playBrowser(await printedUrl(run))
        const result = await finished(run)
        expect(result.code, result.stderr).to.equal(0)
        expect(result.stdout).to.contain('Logged in as dev@example.com')
      })
    })
  })

  describe('proxies: a loopback API host is never reached through one', () => {
    const suite = emulatorSuite({config: false})
    let proxy: Server
    let proxyUrl: string
    /** What reached the proxy: the request line and its Authorization header. */
    const proxied: string[] = []

    before(async () => {
      // A plaintext forward proxy that keeps whatever it is sent, and answers nothing useful.
      proxy = createServer((req, res) => {
        proxied.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`)
        res.writeHead(502).end()
      })
      proxyUrl = await listen(proxy)
    })

    after(async () => {
      await close(proxy)
    })

    beforeEach(() => {
      proxied.length = 0
    })

    for (const spelling of ['127.0.0.1', 'localhost']) {
      it(`HTTP_PROXY and HTTPS_PROXY set, PIPECAT_API_HOST=http://${spelling}:PORT: the token goes straight to the service`, async () => {
        const pat = suite.emulator.issuePat()
        const host = `http://${spelling}:${new URL(suite.emulator.url).port}`
        for (const variables of [{HTTP_PROXY: proxyUrl}, {http_proxy: proxyUrl}, {ALL_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl}]) {
          proxied.length = 0
          const result = await runCli(WHOAMI, {
            env: {
              ...variables, NO_PROXY: '', PIPECAT_API_HOST: host, PIPECAT_ORG: 'user-namespace', PIPECAT_TOKEN: pat,
            },
          })
          expect(proxied, `${JSON.stringify(variables)}: what the proxy received`).to.deep.equal([])
          expect(result.code, result.stderr).to.equal(0)
          expect(result.stdout).to.contain('dev@example.com')
        }

        expect(suite.emulator.requests.map(request => request.headers.authorization)).to.include(`Bearer ${pat}`)
      })
    }
  })
})
