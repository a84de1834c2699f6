/**
 * Where requests may go: only https, plain http only to this machine; and
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY honoured by the one HTTP client, through
 * a real forward proxy (proxy-chain) started here, except for this machine,
 * which is never reached through a proxy.
 *
 * The HTTPS proxy case uses a name only the proxy can resolve
 * (api.pipecat.test), served over real TLS with a certificate made here and
 * trusted through NODE_EXTRA_CA_CERTS: TLS verification stays on.
 */
/* eslint-disable unicorn/prefer-https -- plain http addresses are what these tests feed the CLI */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {createServer as createHttpServer, type Server as HttpServer} from 'node:http'
import {connect, type Server as NetServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createServer as createTlsServer} from 'node:tls'
import {Server as ProxyServer} from 'proxy-chain'

import {type Emulator} from '../emulator/server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {tempConfig} from '../support/config.js'
import {errorLines, expectNoLeaks} from '../support/expect.js'
import {closedPort} from '../support/net.js'
import {emulatorSuite} from '../support/suite.js'

const WHOAMI = ['cloud', 'auth', 'whoami']
const PROXY_NAME = 'api.pipecat.test'

/** A forward proxy that records what it was asked for, and resolves PROXY_NAME to this machine. */
async function startProxy(options: {requireAuth?: boolean} = {}): Promise<{close(): Promise<void>; seen: string[]; url: string}> {
  const seen: string[] = []
  const server = new ProxyServer({
    host: '127.0.0.1',
    port: 0,
    prepareRequestFunction({hostname, isHttp, port, request}) {
      seen.push(isHttp ? `${request.method} ${request.url}` : `CONNECT ${hostname}:${port}`)
      if (options.requireAuth) return {requestAuthentication: true}
      return {
        // Only the proxy knows this name, as with a corporate proxy and an internal host.
        dnsLookup: ((name: string, lookupOptions: {all?: boolean}, callback: (error: Error | null, ...address: unknown[]) => void) => {
          if (name !== PROXY_NAME) callback(Object.assign(new Error(`unknown host ${name}`), {code: 'ENOTFOUND'}))
          else if (lookupOptions.all) callback(null, [{address: '127.0.0.1', family: 4}])
          else callback(null, '127.0.0.1', 4)
        }) as never,
      }
    },
    verbose: false,
  })
  await server.listen()
  return {
    async close() {
      await server.close(true)
    },
    seen,
    url: `http://127.0.0.1:${server.port}`,
  }
}

/** A TLS endpoint for PROXY_NAME in front of the emulator, with a certificate made for it; NODE_EXTRA_CA_CERTS trusts it. */
async function startTlsFront(emulator: Emulator): Promise<undefined | {caFile: string; close(): Promise<void>; port: number}> {
  if (!existsSync('/usr/bin/openssl')) return undefined
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-tls-'))
  const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')]
  execFileSync('/usr/bin/openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${PROXY_NAME}`,
    '-addext',
    `subjectAltName=DNS:${PROXY_NAME}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ], {stdio: 'ignore'})
  const emulatorPort = Number(new URL(emulator.url).port)
  const server: NetServer = createTlsServer({cert: await readFile(certFile), key: await readFile(keyFile)}, socket => {
    const upstream = connect(emulatorPort, '127.0.0.1')
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => {
      upstream.destroy()
    })
    upstream.on('error', () => {
      socket.destroy()
    })
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', () => {
      resolve();
    })
  })
  return {
    caFile: certFile,
    async close() {
      await new Promise<void>(resolve => {
        server.close(() => {
          resolve();
        })
      })
      await rm(dir, {force: true, recursive: true})
    },
    port: (server.address() as {port: number}).port,
  }
}

function requestPaths(emulator: Emulator): string[] {
  return emulator.requests.map(request => request.path)
}

describe('network: only https, and proxies', function () {
  this.timeout(60_000)
  const suite = emulatorSuite({config: false})
  let pat: string
  let proxy: Awaited<ReturnType<typeof startProxy>>

  before(async () => {
    pat = suite.emulator.issuePat()
    proxy = await startProxy()
  })

  after(async () => {
    await proxy.close()
  })

  beforeEach(() => {
    proxy.seen.length = 0
  })

  describe('plain http is refused for anything but this machine', () => {
    /** Any request that did leave would reach the recording proxy (HTTP_PROXY catches plain http). */
    const watched = () => ({HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: ''})

    const expectRefused = (result: CliResult, origin: string) => {
      expect(result.code, result.stderr).to.equal(1)
      expectNoLeaks(result, pat)
      const {error, suggestion} = errorLines(result)
      expect(error).to.contain(origin).and.to.contain('only https is allowed')
      expect(suggestion).to.contain('https://')
      expect(proxy.seen, 'no request was sent').to.deep.equal([])
      expect(suite.emulator.requests).to.deep.equal([])
    }

    for (const host of ['http://example.test', 'http://api.pipecat.daily.co', 'http://127.0.0.1.example.test', 'http://localhost.example.test:8080', 'http://10.0.0.1']) {
      it(`whoami with PIPECAT_API_HOST=${host}: exit 1, says only https is allowed, sends nothing`, async () => {
        const result = await runCli(WHOAMI, {env: {...watched(), PIPECAT_API_HOST: host, PIPECAT_TOKEN: pat}})
        expectRefused(result, new URL(host).origin)
      })
    }

    it('login --with-token and login --headless refuse it too, and write no file', async () => {
      const config = await tempConfig()
      try {
        const env = {...config.env, ...watched(), PIPECAT_API_HOST: 'http://example.test'}
        expectRefused(await runCli(['cloud', 'auth', 'login', '--with-token'], {env, input: `${pat}\n`}), 'http://example.test')
        expectRefused(await runCli(['cloud', 'auth', 'login', '--headless', '--timeout', '5'], {env}), 'http://example.test')
        expect(existsSync(config.file)).to.equal(false)
      } finally {
        await config.cleanup()
      }
    })

    it('an OAuth issuer on plain http (from the service config) is refused before discovery', async () => {
      // A service whose OAuth config names an http issuer elsewhere.
      const server: HttpServer = createHttpServer((req, res) => {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end(JSON.stringify({client_id: 'pipecat-cli', issuer: 'http://auth.example.test', scopes: 'openid'}))
      })
      await new Promise<void>(resolve => {
        server.listen(0, '127.0.0.1', () => {
          resolve();
        })
      })
      const config = await tempConfig()
      try {
        const api = `http://127.0.0.1:${(server.address() as {port: number}).port}`
        const result = await runCli(['cloud', 'auth', 'login', '--headless', '--timeout', '5'], {
          env: {
            ...config.env, ...watched(), NO_PROXY: '127.0.0.1', PIPECAT_API_HOST: api,
          },
        })
        expect(result.code, result.stderr).to.equal(1)
        expect(errorLines(result).error).to.contain('http://auth.example.test').and.contain('only https is allowed')
        expect(proxy.seen, 'discovery was not fetched').to.deep.equal([])
        expect(existsSync(config.file)).to.equal(false)
      } finally {
        server.close()
        await config.cleanup()
      }
    })

    it('a discovery document with a plain-http authorization or token endpoint stops the sign-in', async () => {
      for (const key of ['authorization_endpoint', 'token_endpoint']) {
        suite.emulator.reset()
        suite.emulator.knobs.discovery = {[key]: `http://auth.example.test/${key}`}
        const config = await tempConfig()
        try {
          const result = await runCli(['cloud', 'auth', 'login', '--headless', '--timeout', '5'], {env: {...config.env, PIPECAT_API_HOST: suite.emulator.url}})
          expect(result.code, result.stderr).to.equal(1)
          expect(errorLines(result).error).to.contain(`${key} http://auth.example.test/${key} is not https`)
          expect(result.stderr, 'no sign-in address was offered').not.to.contain('auth.example.test/authorization_endpoint?')
          expect(existsSync(config.file)).to.equal(false)
        } finally {
          await config.cleanup()
        }
      }
    })

    it('loopback in any spelling is allowed (127.0.0.1, localhost, LOCALHOST, [::1])', async () => {
      const {port} = new URL(suite.emulator.url)
      for (const host of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://LOCALHOST:${port}`]) {
        const result = await runCli(WHOAMI, {env: {PIPECAT_API_HOST: host, PIPECAT_TOKEN: pat}})
        expect(result.code, `${host}: ${result.stderr}`).to.equal(0)
        expect(result.stdout).to.contain('dev@example.com')
      }

      // The emulator listens on IPv4 only: [::1] is allowed, then not reachable.
      const ipv6 = await runCli(WHOAMI, {env: {PIPECAT_API_HOST: `http://[::1]:${port}`, PIPECAT_TOKEN: pat}})
      expect(ipv6.code).to.equal(1)
      expect(ipv6.stderr).not.to.contain('only https')
      expect(errorLines(ipv6).error).to.contain(`[::1]:${port}`)
    })
  })

  describe('HTTP_PROXY / HTTPS_PROXY / NO_PROXY', () => {
    const LOOKUPS = ['/v1/users', '/v1/organizations', '/v1/organizations/user-namespace/daily']

    it('this machine is never reached through a proxy (HTTP_PROXY set, NO_PROXY empty): a plaintext one would see the token', async () => {
      const result = await runCli(WHOAMI, {
        env: {
          HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '', PIPECAT_API_HOST: suite.emulator.url, PIPECAT_ORG: 'user-namespace', PIPECAT_TOKEN: pat,
        },
      })
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.contain('dev@example.com')
      expect(proxy.seen).to.deep.equal([])
      expect(requestPaths(suite.emulator)).to.have.members(LOOKUPS)
    })

    describe('HTTPS_PROXY, to a host only the proxy can resolve', () => {
      let front: Awaited<ReturnType<typeof startTlsFront>>

      before(async function () {
        front = await startTlsFront(suite.emulator)
        if (!front) this.skip()
      })

      after(async () => {
        await front?.close()
      })

      const httpsEnv = (extra: Record<string, string>) => ({
        NODE_EXTRA_CA_CERTS: front!.caFile,
        PIPECAT_API_HOST: `https://${PROXY_NAME}:${front!.port}`,
        PIPECAT_TOKEN: pat,
        ...extra,
      })

      it('goes through the proxy with CONNECT, over verified TLS', async () => {
        const result = await runCli(WHOAMI, {env: httpsEnv({HTTPS_PROXY: proxy.url})})
        expect(result.code, result.stderr).to.equal(0)
        expect(result.stdout).to.contain('dev@example.com')
        expect(proxy.seen).to.include(`CONNECT ${PROXY_NAME}:${front!.port}`)
        expect(requestPaths(suite.emulator)).to.include('/v1/users')
      })

      it('https_proxy in lower case is honoured too', async () => {
        const result = await runCli(WHOAMI, {env: httpsEnv({https_proxy: proxy.url, no_proxy: ''})})
        expect(result.code, result.stderr).to.equal(0)
        expect(proxy.seen).to.include(`CONNECT ${PROXY_NAME}:${front!.port}`)
      })

      it('login --with-token goes through it too, and stores the token', async () => {
        const config = await tempConfig()
        try {
          const result = await runCli(['cloud', 'auth', 'login', '--with-token'], {env: {...httpsEnv({HTTPS_PROXY: proxy.url}), ...config.env, PIPECAT_TOKEN: undefined}, input: `${pat}\n`})
          expect(result.code, result.stderr).to.equal(0)
          expect(proxy.seen).to.include(`CONNECT ${PROXY_NAME}:${front!.port}`)
          expect(await readFile(config.file, 'utf8')).to.contain(`token = "${pat}"`)
        } finally {
          await config.cleanup()
        }
      })

      it('without the proxy, the host cannot be reached at all (so the proxy really carried it)', async () => {
        const result = await runCli(WHOAMI, {env: httpsEnv({})})
        expect(result.code).to.equal(1)
        expect(errorLines(result).error).to.contain(`${PROXY_NAME}:${front!.port}`)
        expect(suite.emulator.requests).to.deep.equal([])
      })

      it('NO_PROXY with the host, or its domain, bypasses the proxy', async () => {
        for (const noProxy of [PROXY_NAME, '.pipecat.test', `other.example,${PROXY_NAME}`]) {
          proxy.seen.length = 0
          const result = await runCli(WHOAMI, {env: httpsEnv({HTTPS_PROXY: proxy.url, NO_PROXY: noProxy})})
          expect(result.code, `NO_PROXY=${noProxy}`).to.equal(1)
          expect(proxy.seen, `NO_PROXY=${noProxy}`).to.deep.equal([])
        }
      })

      it('TLS verification stays on: without the certificate trusted, the request fails with a clear error', async () => {
        const result = await runCli(WHOAMI, {env: {...httpsEnv({HTTPS_PROXY: proxy.url}), NODE_EXTRA_CA_CERTS: undefined}})
        expect(result.code).to.equal(1)
        expectNoLeaks(result, pat)
        expect(errorLines(result).error).to.contain(`${PROXY_NAME}:${front!.port}`)
        expect(suite.emulator.requests).to.deep.equal([])
      })

      it('a proxy that is down, or refuses our credentials: exit 1 naming the host and the proxy settings, never the proxy password', async () => {
        const strict = await startProxy({requireAuth: true})
        try {
          const withPassword = strict.url.replace('http://', 'http://someone:proxy-password-123@')
          for (const proxyUrl of [`http://127.0.0.1:${await closedPort()}`, withPassword]) {
            const result = await runCli(WHOAMI, {env: httpsEnv({HTTPS_PROXY: proxyUrl})})
            expect(result.code, `${proxyUrl}: ${result.stderr}`).to.equal(1)
            expectNoLeaks(result, pat, 'proxy-password-123')
            const {error, suggestion} = errorLines(result)
            expect(error).to.contain(`${PROXY_NAME}:${front!.port}`)
            expect(suggestion).to.contain('HTTPS_PROXY')
          }

          expect(strict.seen).to.include(`CONNECT ${PROXY_NAME}:${front!.port}`)
        } finally {
          await strict.close()
        }
      })
    })
  })
})
