import {expect} from 'chai'
import {existsSync} from 'node:fs'

import {authorizeRedirect} from '../emulator/browser.js'
import {exists, storedConfig} from '../support/config.js'
import {expectNoSecrets} from '../support/expect.js'
import {
  AUTHORIZE_URL,
  finished,
  onTerminal,
  printed,
  printedUrl,
  startLogin,
} from '../support/login.js'
import {portsAreFree} from '../support/net.js'
import {emulatorSuite} from '../support/suite.js'

// A browser on another machine cannot reach our 127.0.0.1 callback: the user
// copies the address it ended on and pastes it into the waiting CLI.
describe('cloud auth login: pasting the redirect back', () => {
  const suite = emulatorSuite()

  it('the pasted redirect address signs in (the browser never reached the callback)', async () => {
    const run = startLogin(suite.emulator, suite.config)
    const redirect = await authorizeRedirect(await printedUrl(run))
    run.stdin.write(`${redirect}\n`)
    const result = await run.result

    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain('Logged in as dev@example.com')
    // Without a terminal there is no prompt (agents and CI logs read plain lines).
    expect(result.stderr).not.to.contain('paste')
    expectNoSecrets(result)
    expect(suite.emulator.stats.codeExchanges).to.equal(1)
    expect((await storedConfig(suite.config.file)).token).to.match(/^emu_at_/v)
    expect(await portsAreFree()).to.equal(true)
  })

  it('also takes the code and the state separated by a space, after ignoring a line that is neither', async () => {
    const run = startLogin(suite.emulator, suite.config)
    const redirect = new URL(await authorizeRedirect(await printedUrl(run)))
    run.stdin.write('hello?\n')
    await printed(run, /That is not a sign-in answer/v)
    run.stdin.write(`  ${redirect.searchParams.get('code')} ${redirect.searchParams.get('state')}  \n`)
    const result = await run.result
    expect(result.code).to.equal(0)
    expect(await exists(suite.config.file)).to.equal(true)
  })

  it('a pasted answer with another state is rejected like a forged callback', async () => {
    const run = startLogin(suite.emulator, suite.config)
    const redirect = new URL(await authorizeRedirect(await printedUrl(run)))
    redirect.searchParams.set('state', 'from-another-sign-in')
    run.stdin.write(`${redirect.href}\n`)
    const result = await run.result
    expect(result.code).to.equal(1)
    expect(result.stderr).to.contain('its state does not match')
    expect(suite.emulator.stats.codeExchanges).to.equal(0)
    expect(await exists(suite.config.file)).to.equal(false)
  })

  it('stdin at its end (CI, /dev/null) leaves the callback as the way in', async () => {
    const run = startLogin(suite.emulator, suite.config)
    run.stdin.end()
    const url = await printedUrl(run)
    const page = await fetch(await authorizeRedirect(url))
    expect(await page.text()).to.contain('Signed in to Pipecat Cloud')
    expect((await finished(run)).code).to.equal(0)
  })

  describe('on a terminal (a real pty from util-linux `script`)', () => {
    before(function () {
      if (!existsSync('/usr/bin/script')) this.skip()
    })

    it('asks for the address and takes it from the keyboard', async () => {
      const terminal = onTerminal(suite.emulator, suite.config, ['--headless'])
      try {
        const url = await terminal.waitFor(AUTHORIZE_URL)
        await terminal.waitFor(/paste the address it ends on \(http:\/\/127\.0\.0\.1:8400\/oauth_callback\?code=\.\.\.\) here and press Enter\./v)
        terminal.type(`${await authorizeRedirect(url)}\r`)
        expect(await terminal.exited).to.equal(0)
        expect(terminal.seen()).to.contain('Logged in as dev@example.com')
        expect((await storedConfig(suite.config.file)).org).to.equal('user-namespace')
      } finally {
        terminal.child.kill()
      }
    })

    it('Ctrl-C typed on the terminal: exit 130, nothing written, ports free', async () => {
      const terminal = onTerminal(suite.emulator, suite.config, ['--headless'])
      try {
        await terminal.waitFor(/Waiting for the sign-in/v)
        terminal.type('\u{3}')
        expect(await terminal.exited).to.equal(130)
        expect(terminal.seen()).to.contain('Sign-in interrupted.').and.contain('to start again. Nothing was saved.')
        expect(await exists(suite.config.file)).to.equal(false)
        expect(await portsAreFree()).to.equal(true)
      } finally {
        terminal.child.kill()
      }
    })
  })
})
