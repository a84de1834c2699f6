/**
 * A flood of connections on the loopback callback port cannot turn the real
 * browser away: while about 5,000 idle connections (half of them sending a
 * request they never finish) keep arriving, the browser's redirect is
 * answered and the sign-in completes. Only connections silent for about a
 * second are dropped. A process test: the CLI runs as bin/run.js.
 */
import {expect} from 'chai'
import {once} from 'node:events'
import {connect, type Socket} from 'node:net'
import {setTimeout as delay} from 'node:timers/promises'

import {authorizeRedirect} from '../emulator/browser.js'
import {finished, printedUrl, startLogin} from '../support/login.js'
import {emulatorSuite} from '../support/suite.js'

const FLOOD = 5000

/** Opens `count` connections at once (half of them start a request they never finish) and leaves them idle. */
function flood(port: number, count: number, sockets: Socket[]): void {
  for (let index = 0; index < count; index++) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    if (index % 2) {
      socket.once('connect', () => {
        socket.write('GET /oauth_callback?code=x HTTP/1.1\r\nHost: 127.0.0.1\r\n')
      })
    }

    sockets.push(socket)
  }
}

/**
 * The browser's request for the redirect, sent 200 ms after it connects (a browser on a machine this busy is
 * not instant, and a flood fills those 200 ms); resolves with the whole answer.
 */
async function loadCallback(location: string): Promise<string> {
  const url = new URL(location)
  const socket = connect(Number(url.port), '127.0.0.1')
  socket.once('connect', () => {
    setTimeout(() => {
      socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`)
    }, 200)
  })
  let answer = ''
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    answer += chunk
  })
  await Promise.race([once(socket, 'close'), once(socket, 'error')])
  return answer
}

describe('the loopback callback under a connection flood', function () {
  this.timeout(90_000)
  const suite = emulatorSuite()

  it(`${FLOOD} idle connections arriving around the browser's: the sign-in completes`, async () => {
    const run = startLogin(suite.emulator, suite.config, ['--headless', '--timeout', '40'])
    const location = await authorizeRedirect(await printedUrl(run))
    const {port} = new URL(location)
    const sockets: Socket[] = []
    try {
      // In one go, so the kernel queues them in this order: many before the browser, many more after it.
      flood(Number(port), FLOOD * 0.3, sockets)
      const page = loadCallback(location)
      flood(Number(port), FLOOD * 0.7, sockets)
      const answer = await page
      expect(answer).to.match(/^HTTP\/1\.1 200 /v)
      expect(answer).to.contain('Signed in to Pipecat Cloud')
      const result = await finished(run)
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.contain('Logged in as dev@example.com')
    } finally {
      for (const socket of sockets) socket.destroy()
      await delay(10)
    }
  })
})
