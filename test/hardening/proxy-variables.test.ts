/**
 * A malformed proxy variable is a clear error naming it, never an unexpected
 * error quoting its password: every variable Node's proxy support reads, with
 * every way of being malformed, through a command that makes requests.
 */
import {expect} from 'chai'

import {errorLines, expectNoLeaks} from '../support/expect.js'
import {runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']
const MALFORMED = ['http://u:secret@[bad', 'http://u:secret@proxy.example:99999', 'http://u:se/cret@proxy example:8080', 'http://u:secret@[::1']

describe('malformed proxy variables', () => {
  const suite = emulatorSuite()

  for (const variable of VARIABLES) {
    for (const value of MALFORMED) {
      it(`${variable}=${value}: names the variable, shows no password`, async () => {
        const env = {
          ...suite.config.env, PIPECAT_API_HOST: suite.emulator.url, PIPECAT_TOKEN: suite.emulator.issuePat(), [variable]: value,
        }
        const result = await runCommand(['cloud', 'auth', 'whoami'], {env})
        expect(result.code).to.equal(1)
        const {error, suggestion} = errorLines(result)
        expect(error).to.match(new RegExp(String.raw`^Error: The proxy variable ${variable} is not a valid URL \(\S*\*{4}@`, 'v'))
        expect(suggestion).to.contain(`Fix or unset ${variable}`)
        expectNoLeaks(result, 'secret', 'cret', 'se/')
        expect(suite.emulator.requests).to.deep.equal([])
      })
    }
  }
})
