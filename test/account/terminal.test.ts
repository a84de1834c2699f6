/**
 * What only a terminal shows: the spinner while the network is slow, and
 * `organizations select` asking which organization to use.
 */
import {expect} from 'chai'
import {existsSync} from 'node:fs'

import {onTerminal} from '../support/cli.js'
import {
  emulatorEnv,
  oauthLogin,
  readConfig,
  readText,
} from '../support/config.js'
import {emulatorSuite} from '../support/suite.js'

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for Pipecat Cloud\.\.\./v
const CLEAR_LINE = '\r\u{1B}[K'

describe('on a terminal (a real pty from util-linux `script`)', () => {
  const suite = emulatorSuite({config: false})

  before(function () {
    if (!existsSync('/usr/bin/script')) this.skip()
  })

  const whoami = async (args: string[], env: Record<string, string | undefined> = {}) => {
    const terminal = onTerminal(['cloud', 'auth', 'whoami', ...args], emulatorEnv(suite.emulator, suite.config, {NO_COLOR: undefined, ...env}))
    try {
      const code = await terminal.exited
      return {code, seen: terminal.seen()}
    } finally {
      terminal.child.kill()
    }
  }

  describe('the spinner', () => {
    it('a slow answer: a spinner on the terminal, gone before the result is printed', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config
      suite.emulator.knobs.latencyMs = 1500
      const {code, seen} = await whoami([])

      expect(code).to.equal(0)
      expect(seen).to.match(SPINNER)
      // Each frame redraws the line; the result starts on a cleared line, and no frame comes after it.
      const result = seen.indexOf('Logged in to Pipecat Cloud as dev@example.com')
      expect(seen.slice(result - CLEAR_LINE.length, result)).to.equal(CLEAR_LINE)
      expect(seen.slice(result)).not.to.match(SPINNER)
    })

    it('a slow failure: the spinner is cleared before the error, which reads as two clean lines', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config
      suite.emulator.knobs.latencyMs = 1000
      suite.emulator.knobs.failures['/v1/users'] = {retryAfter: 3600, status: 503}
      const {code, seen} = await whoami([])

      expect(code).to.equal(1)
      expect(seen).to.match(SPINNER)
      // eslint-disable-next-line no-control-regex -- the colour code a terminal gets before Error:
      const error = seen.search(/(?:\u{1B}\[\d+m)?Error:/v)
      expect(seen.slice(error - CLEAR_LINE.length, error)).to.equal(CLEAR_LINE)
      expect(seen.slice(error)).not.to.match(SPINNER)
      expect(seen.slice(error)).to.match(/Error:.*answered with HTTP 503.*\r\nTry this: The service asks to wait about 60 min/sv)
    })

    // Never where it would be noise: for a program, for NO_COLOR or a dumb terminal, or when the answer is quick.
    const quiet: Array<[string, string[], Record<string, string | undefined>, number]> = [
      ['--json', ['--json'], {}, 1500],
      ['PIPECAT_OUTPUT=json', [], {PIPECAT_OUTPUT: 'json'}, 1500],
      ['NO_COLOR', [], {NO_COLOR: '1'}, 1500],
      ['TERM=dumb', [], {TERM: 'dumb'}, 1500],
      ['a quick answer', [], {}, 0],
    ]
    for (const [what, args, env, latencyMs] of quiet) {
      it(`none with ${what}`, async () => {
        suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config
        suite.emulator.knobs.latencyMs = latencyMs
        const {code, seen} = await whoami(args, env)
        expect(code).to.equal(0)
        expect(seen).to.contain('dev@example.com')
        expect(seen).not.to.contain('Waiting for Pipecat Cloud')
        expect(seen).not.to.contain(CLEAR_LINE)
      })
    }
  })

  describe('organizations select without a name', () => {
    const select = () => onTerminal(['cloud', 'organizations', 'select'], emulatorEnv(suite.emulator, suite.config))

    it('lists the organizations, marks the active one, and takes a number typed on the keyboard', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config
      const terminal = select()
      try {
        await terminal.waitFor(/press Enter:/v)
        expect(terminal.seen()).to.contain([
          'Your organizations:',
          '  1) Demo User (user-namespace)  (active)',
          '  2) Acme Inc (acme)',
          'Type the number (1-2) or the name of the organization to use, and press Enter:',
        ].join('\r\n'))
        terminal.type('2\r')
        expect(await terminal.exited).to.equal(0)
        expect(terminal.seen()).to.contain('Active organization: Acme Inc (acme)')
        expect((await readConfig(suite.config.file)).org).to.equal('acme')
      } finally {
        terminal.child.kill()
      }
    })

    it('takes a name too; an answer that is neither changes nothing (exit 1)', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config
      const named = select()
      try {
        await named.waitFor(/press Enter:/v)
        named.type('acme\r')
        expect(await named.exited).to.equal(0)
        expect((await readConfig(suite.config.file)).org).to.equal('acme')
      } finally {
        named.child.kill()
      }

      const before = await readText(suite.config.file)
      const wrong = select()
      try {
        await wrong.waitFor(/press Enter:/v)
        wrong.type('7\r')
        expect(await wrong.exited).to.equal(1)
        expect(wrong.seen()).to.contain('Error: "7" is not one of the choices; nothing was changed.')
        expect(await readText(suite.config.file)).to.equal(before)
      } finally {
        wrong.child.kill()
      }
    })

    it('Ctrl-C at the question: exit 130, nothing changed', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config
      const before = await readText(suite.config.file)
      const terminal = select()
      try {
        await terminal.waitFor(/press Enter:/v)
        terminal.type('\u{3}')
        expect(await terminal.exited).to.equal(130)
        expect(await readText(suite.config.file)).to.equal(before)
      } finally {
        terminal.child.kill()
      }
    })
  })
})
