import {expect} from 'chai'
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import {type AddressInfo} from 'node:net'

import {HttpClient} from '../../src/api/http.js'
import {failureOf} from '../support/expect.js'
import {closedPort} from '../support/net.js'

type Failure = Error & {exit?: number; status?: number; suggestion?: ((command: (id: string) => string) => string) | string}

/** A little server whose answers the tests set per path; it counts what it is asked. */
type Answer = (request: IncomingMessage, response: ServerResponse) => void

describe('HTTP client: failures as the user reads them', () => {
  let server: Server
  let base: string
  let host: string
  const answers = new Map<string, Answer>()
  const hits = new Map<string, number>()
  const headers = new Map<string, IncomingMessage['headers']>()

  before(async () => {
    server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname
      hits.set(path, (hits.get(path) ?? 0) + 1)
      headers.set(path, request.headers)
      const answer = answers.get(path)
      if (answer) answer(request, response)
      else response.writeHead(404).end()
    })
    await new Promise<void>(resolve => {
      server.listen(0, '127.0.0.1', resolve)
    })
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    base = `http://${host}`
  })

  after(async () => {
    server.closeAllConnections()
    await new Promise(resolve => {
      server.close(resolve)
    })
  })

  beforeEach(() => {
    answers.clear()
    hits.clear()
    headers.clear()
  })

  const client = async (timeoutMs?: number) => HttpClient.create({timeoutMs, userAgent: 'plugin-test/1'})
  const failure = async (promise: Promise<unknown>): Promise<Failure> => failureOf(promise) as Promise<Failure>
  const suggestion = (error: Failure) => (typeof error.suggestion === 'function' ? error.suggestion(id => `pipecat ${id}`) : error.suggestion)
  const json = (status: number, body: unknown, extra: Record<string, string> = {}): Answer => (_request, response) => {
    response.writeHead(status, {'content-type': 'application/json', ...extra}).end(JSON.stringify(body))
  }

  it('a 2xx JSON answer: the parsed body; the bearer token and the user agent were sent', async () => {
    answers.set('/ok', json(200, {hello: 'world'}))
    const response = await (await client()).request(`${base}/ok`, {audience: base, bearer: 'tok'})
    expect(response).to.deep.equal({body: {hello: 'world'}, status: 200})
    expect(headers.get('/ok')).to.deep.include({authorization: 'Bearer tok', 'user-agent': 'plugin-test/1'})
  })

  describe('credentials go only to the origin they belong to', () => {
    const carriers = {
      bearer: {bearer: 'token-0123456789'}, form: {form: {refresh_token: 'rt-0123456789'}}, json: {json: {refresh_token: 'rt-0123456789'}}, query: {searchParams: {wait_secret: 'ws-0123456789'}},
    }
    for (const [kind, carried] of Object.entries(carriers)) {
      it(`a ${kind} to another origin is refused before anything is sent`, async () => {
        answers.set('/creds', json(200, {}))
        const error = await failure((await client()).request(`${base}/creds`, {...carried, audience: 'http://127.0.0.1:9'}))
        expect(error.message).to.equal(`Refusing to send credentials to ${base}: they belong to http://127.0.0.1:9. Nothing was sent.`)
        expect(hits.get('/creds')).to.equal(undefined)
      })

      it(`a ${kind} without an audience is refused too: no endpoint can forget to name one`, async () => {
        const error = await failure((await client()).request(`${base}/creds`, carried))
        expect(error.message).to.equal(`Refusing to send credentials to ${base}: they belong to no known service. Nothing was sent.`)
        expect(hits.get('/creds')).to.equal(undefined)
      })
    }
  })

  it('an empty 2xx answer is fine', async () => {
    answers.set('/empty', (_request, response) => {
      response.writeHead(204).end()
    })
    expect(await (await client()).request(`${base}/empty`)).to.deep.equal({body: undefined, status: 204})
  })

  it('a 500 with the service\'s error body: the host, the status and the service\'s own words', async () => {
    answers.set('/boom', json(500, {error: 'server_error', error_description: 'the database is\n  down'}))
    const error = await failure((await client()).request(`${base}/boom`, {retries: 0}))
    expect(error.message).to.equal(`${host} answered with HTTP 500: server_error: the database is down`)
    expect(error.status).to.equal(500)
    expect(error.exit).to.equal(1)
    expect(suggestion(error)).to.equal('The service is busy or having trouble; try again in a minute.')
  })

  it('a 503 is retried, and the answer after it is used', async () => {
    let calls = 0
    answers.set('/flaky', (request, response) => {
      calls++
      if (calls === 1) json(503, {error: 'unavailable'})(request, response)
      else json(200, {ok: true})(request, response)
    })
    expect((await (await client()).request(`${base}/flaky`)).body).to.deep.equal({ok: true})
    expect(hits.get('/flaky')).to.equal(2)
  })

  it('a 429 asking for a long wait (Retry-After): not retried, says how long to wait', async () => {
    answers.set('/limited', json(429, {}, {'retry-after': '300'}))
    const error = await failure((await client()).request(`${base}/limited`))
    expect(error.message).to.equal(`${host} is rate limiting requests (429).`)
    expect(suggestion(error)).to.equal('The service asks to wait about 5 min before trying again.')
    expect(hits.get('/limited')).to.equal(1)
  })

  it('an HTML page instead of JSON: says a proxy or firewall may be in the way', async () => {
    answers.set('/blocked', (_request, response) => {
      response.writeHead(403, {'content-type': 'text/html'}).end('<html><body>Access denied</body></html>')
    })
    const error = await failure((await client()).request(`${base}/blocked`))
    expect(error.message).to.equal(`${host} answered with HTTP 403 and a web page, not the API's JSON (a proxy or firewall may have blocked the request).`)
    expect(suggestion(error)).to.contain('HTTPS_PROXY / NO_PROXY')
  })

  it('a 200 that is not JSON', async () => {
    answers.set('/text', (_request, response) => {
      response.writeHead(200, {'content-type': 'text/plain'}).end('hello')
    })
    const error = await failure((await client()).request(`${base}/text`))
    expect(error.message).to.equal(`${host} answered with something that is not JSON.`)
    expect(suggestion(error)).to.contain('captive portal')
  })

  it('a 4xx without a body: the status, and where to check the settings', async () => {
    answers.set('/gone', (_request, response) => {
      response.writeHead(410).end()
    })
    const error = await failure((await client()).request(`${base}/gone`))
    expect(error.message).to.equal(`${host} answered with HTTP 410.`)
    expect(suggestion(error)).to.contain('`pipecat cloud config` shows them')
  })

  it('connection refused: names the host', async () => {
    const port = await closedPort()
    const error = await failure((await client()).request(`http://127.0.0.1:${port}/x`))
    expect(error.message).to.equal(`Could not reach 127.0.0.1:${port}: connection refused.`)
    expect(suggestion(error)).to.contain('Check your network connection and proxy settings')
  })

  it('no answer in time: names the host and the time it waited', async () => {
    answers.set('/hang', () => {})
    const error = await failure((await client(300)).request(`${base}/hang`))
    expect(error.message).to.equal(`Could not reach ${host}: no answer within 0.3 s.`)
    expect(hits.get('/hang')).to.equal(1)
  })

  it('an answer cut short: the connection broke before it was complete', async () => {
    answers.set('/cut', (_request, response) => {
      response.writeHead(200, {'content-length': '100', 'content-type': 'application/json'})
      // The body stops short of its length and the connection ends cleanly: no reset, just missing bytes.
      response.write('{"partial":', () => {
        response.socket?.end()
      })
    })
    const error = await failure((await client()).request(`${base}/cut`, {retries: 0}))
    expect(error.message).to.equal(`The connection to ${host} broke before its answer was complete.`)
  })

  it('plain http to another machine is refused before anything is sent', async () => {
    // eslint-disable-next-line unicorn/prefer-https -- plain http to another host is what must be refused
    const error = await failure((await client()).request('http://api.example.test/v1/users'))
    // eslint-disable-next-line unicorn/prefer-https -- the address the user gave, quoted back
    expect(error.message).to.equal('Refusing to use the service address http://api.example.test: only https is allowed (plain http only for this machine: 127.0.0.1, localhost and [::1]).')
  })

  it('an address that is not a URL', async () => {
    const error = await failure((await client()).request('not a url'))
    expect(error.message).to.equal('The service address "not a url" is not a valid URL.')
    expect(suggestion(error)).to.contain('PIPECAT_API_HOST')
  })

  it('an aborted request rejects with the signal\'s reason', async () => {
    answers.set('/slow', () => {})
    const controller = new AbortController()
    const pending = failure((await client()).request(`${base}/slow`, {signal: controller.signal}))
    setTimeout(() => {
      controller.abort(new Error('stopped by the test'))
    }, 50)
    expect((await pending).message).to.equal('stopped by the test')
  })
})
