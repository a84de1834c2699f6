/**
 * Values from the network cannot forge output. A property test over generated
 * strings full of line breaks, C0/C1 controls, escape sequences and bidi
 * controls, sent by the service as the user's email, user ID and organization
 * name, and as the token flow's code: in the human form every line is one the
 * CLI meant to print and carries no control character; under --json the
 * values round-trip exactly and no bidi, C1 or line separator is printed raw.
 * With DEBUG set, the error stack carries no escape sequence either.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {configText, emulatorEnv, tempConfig} from '../support/config.js'
import {openStdin, runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

const breaks = ['\n', '\r', '\r\n', '\v', '\f', '\t', '\u{85}', '\u{2028}', '\u{2029}']
const controls = ['\u{202E}', '\u{2066}', '\u{2069}', '\u{200F}', '\u{61C}', '\u{1B}', '\u{1B}]52;c;ZXZpbA==\u{7}', '\u{9B}31m', '\u{7F}', '\u{0}', '\u{E0041}']
const hostile = fc.constantFrom(...breaks, ...controls)
const plain = fc.constantFrom('a', 'Z', ' ', ':', 'FORGED', 'Organization: ')
const text = fc.string({maxLength: 30, minLength: 1, unit: fc.oneof({arbitrary: hostile, weight: 2}, {arbitrary: plain, weight: 3})})
.map(value => `x${value}`)

/** What must never reach a terminal raw: C0 (but the line break between lines) and C1 controls, DEL, bidi controls, line separators. */
const RAW_CONTROL = /[[\p{Cc}\u{061C}\u{200E}\u{200F}\u{202A}-\u{202E}\u{2066}-\u{2069}\u{2028}\u{2029}]--[\n]]/v
/** What --json must escape: the same but for the JSON document's own line breaks. */
const RAW_IN_JSON = /[\u{7F}-\u{9F}\u{061C}\u{200E}\u{200F}\u{202A}-\u{202E}\u{2066}-\u{2069}\u{2028}\u{2029}]/v

const WHOAMI_LABELS = ['Email:', 'User ID:', 'Organization:', 'Auth method:', 'Token source:', 'Token expires:', 'Issued by:', 'Daily API key:']

describe('values from the network cannot forge output lines', function () {
  this.timeout(120_000)
  const suite = emulatorSuite({config: false})

  beforeEach(async () => {
    const tokens = suite.emulator.issueTokens({ttl: 86_400})
    suite.config = await tempConfig(configText({refreshToken: tokens.refresh_token, token: tokens.access_token}))
  })

  it('property: whoami shows each value on its own line, without control characters; --json round-trips and escapes them', async () => {
    const {config, emulator} = suite
    await fc.assert(fc.asyncProperty(text, text, text, async (email, userId, verboseName) => {
      emulator.knobs.user = {emails: [email], userId}
      emulator.knobs.organizations = [{name: 'user-namespace', verboseName}]
      const human = await runCommand(['cloud', 'auth', 'whoami'], {env: emulatorEnv(emulator, config)})
      expect(human.code, human.stderr).to.equal(0)
      const lines = human.stdout.trimEnd().split('\n')
      expect(lines[0]).to.match(/^Logged in to Pipecat Cloud as /v)
      expect(lines.slice(2).map(line => line.split(/(?<=:) /v, 1)[0])).to.deep.equal(WHOAMI_LABELS)
      expect(human.stdout + human.stderr).not.to.match(RAW_CONTROL)

      const json = await runCommand<{email: string; organization: {verboseName: string}; userId: string}>(['cloud', 'auth', 'whoami', '--json'], {env: emulatorEnv(emulator, config)})
      expect(json.stdout).not.to.match(RAW_IN_JSON)
      expect(JSON.parse(json.stdout)).to.deep.include({email, userId})
      expect((JSON.parse(json.stdout) as {organization: {verboseName: string}}).organization.verboseName).to.equal(verboseName)
    }), {numRuns: 60, seed: 6})
  })

  it('property: the token flow\'s code is shown on one line', async () => {
    const {emulator} = suite
    const expected = [
      /^To sign in to Pipecat Cloud, open this address in a browser:$/v,
      /^http:\/\/127\.0\.0\.1:\d+\/login\/\S+$/v,
      /^and check that the page shows this code: /v,
      /^Not opening a browser: /v,
      /^Waiting for /v,
    ]
    await fc.assert(fc.asyncProperty(text, async code => {
      Object.assign(emulator.knobs, {autoApprove: true, legacyOnly: true, tokenFlowCode: code})
      const login = await tempConfig()
      try {
        const result = await runCommand(['cloud', 'auth', 'login', '--headless', '--timeout', '10'], {env: emulatorEnv(emulator, login), stdin: openStdin()})
        expect(result.code, result.stderr).to.equal(0)
        for (const line of result.stderr.trimEnd().split('\n')) expect(expected.some(pattern => pattern.test(line)), `a line of its own: ${JSON.stringify(line)}`).to.equal(true)
        expect(result.stdout + result.stderr).not.to.match(RAW_CONTROL)
      } finally {
        await login.cleanup()
      }
    }), {numRuns: 25, seed: 6})
  })

  it('DEBUG: the error stack carries no escape sequence or bidi control', async () => {
    const {config, emulator} = suite
    emulator.knobs.failures['/v1/users'] = {message: 'denied\u{1B}]52;c;ZXZpbA==\u{7}\u{202E}evil\u{1B}[2J\nError: forged', status: 403}
    const env = emulatorEnv(emulator, config, {DEBUG: '1'})
    const result = await runCommand(['cloud', 'auth', 'whoami'], {env})
    expect(result.code).to.equal(1)
    expect(result.stderr).to.match(/^\s+at /mv)
    expect(result.stderr).not.to.match(RAW_CONTROL)
    expect(result.stderr.split('\n').filter(line => line.startsWith('Error:'))).to.have.length(1)
  })
})
