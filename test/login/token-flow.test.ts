import {expect} from 'chai'

import {playBrowser} from '../emulator/browser.js'
import {type Emulator} from '../emulator/server.js'
import {storedConfig} from '../support/config.js'
import {requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {
  finished,
  printed,
  printedUrl,
  startLogin,
  TOKEN_FLOW_URL,
} from '../support/login.js'
import {waitFor} from '../support/poll.js'
import {emulatorSuite} from '../support/suite.js'

describe('cloud auth login (earlier generation: token flow with a code)', () => {
  const suite = emulatorSuite({knobs: {legacyOnly: true}})

  it('when /auth/config is 404: shows the page and the code, polls about every 2 s, stores the token without refresh or expiry', async () => {
    const run = startLogin(suite.emulator, suite.config)
    const [url, code] = (await printed(run, /http:\/\/127\.0\.0\.1:\d+\/login\/\S+\n.*code: [A-Z]{4}-\d{4}/v)).split(/\n.*code: /v, 2)
    // Approved after the first poll: the second one, about 2 s later, gets the token.
    await waitForPolls(suite.emulator, 1)
    const page = await playBrowser(url!)
    expect(page.body).to.contain('Signed in')
    const result = await finished(run)

    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(`Logged in as dev@example.com\nOrganization: Demo User (user-namespace)\nCredentials saved to ${suite.config.file}\n`)
    expectNoSecrets(result)
    const start = suite.emulator.requests.find(request => request.path === '/auth/login')!
    expect(start.method).to.equal('POST')
    expect(start.query).to.deep.equal({use_code: 'true'})
    // The emulator's page showed the same code the terminal did.
    expect((await (await fetch(url!)).text())).to.contain(code)

    const polls = suite.emulator.requests.filter(request => request.path === '/auth/status')
    expect(polls).to.have.length(2)
    for (const [index, poll] of polls.entries()) {
      expect(Object.keys(poll.query).toSorted()).to.deep.equal(['token_flow_id', 'wait_secret'])
      if (index > 0) expect(poll.at - polls[index - 1]!.at).to.be.within(1900, 3000)
    }

    expect(requested(suite.emulator)).not.to.include('GET /oauth/.well-known/openid-configuration')
    const stored = await storedConfig(suite.config.file)
    expect(stored.token).to.match(/^emu_lt_/v)
    expect(suite.emulator.isValid(stored.token as string)).to.equal(true)
    expect(stored.refresh_token).to.equal('')
    expect(stored.token_expires_at).to.equal(0)
    expect(stored.org).to.equal('user-namespace')
  })

  it('a long poll held by the service ends as soon as the sign-in is approved', async () => {
    suite.emulator.knobs.longPollMs = 20_000
    const run = startLogin(suite.emulator, suite.config)
    const url = await printedUrl(run, TOKEN_FLOW_URL)
    await waitForPolls(suite.emulator, 1)
    const approved = Date.now()
    await playBrowser(url)
    const result = await finished(run)

    expect(result.code).to.equal(0)
    expect(Date.now() - approved).to.be.lessThan(1500)
    expect(suite.emulator.requests.filter(request => request.path === '/auth/status')).to.have.length(1)
  })
})

async function waitForPolls(emu: Emulator, count: number): Promise<void> {
  await waitFor(() => emu.requests.filter(request => request.path === '/auth/status').length >= count, {what: `${count} status polls`})
}
