import {expect} from 'chai'
import {existsSync} from 'node:fs'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {storedConfig, tempConfig, type TempConfig} from '../support/config.js'
import {
  finished,
  printedUrl,
  startLogin,
  stopLeftovers,
} from '../support/login.js'

const CHROMIUM = '/usr/bin/chromium'

// One sign-in in a real browser: Debian's Chromium clicks Approve on the emulator's page.
describe('cloud auth login in a real browser (Chromium via playwright-core)', () => {
  let emu: Emulator
  let config: TempConfig

  before(async function () {
    if (!existsSync(CHROMIUM)) this.skip()
    emu = await startEmulator()
    config = await tempConfig()
  })

  after(async () => {
    await stopLeftovers()
    await emu?.close()
    await config?.cleanup()
  })

  it('Approve on the sign-in page lands on the success page, and the config holds the token', async () => {
    const {chromium} = await import('playwright-core')
    const browser = await chromium.launch({
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      executablePath: CHROMIUM,
    })
    try {
      const run = startLogin(emu, config)
      const page = await browser.newPage()
      await page.goto(await printedUrl(run))
      await page.getByRole('button', {name: 'Approve'}).click()
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:8400\/oauth_callback\?/v)
      expect(await page.getByRole('heading', {level: 1}).textContent()).to.equal('Signed in to Pipecat Cloud')
      expect(await page.textContent('body')).to.contain('You can close this tab and return to your terminal.')

      const result = await finished(run)
      expect(result.code).to.equal(0)
      expect(result.stdout).to.contain('Logged in as dev@example.com')
      const stored = await storedConfig(config.file)
      expect(emu.isValid(stored.token as string)).to.equal(true)
      expect(stored.org).to.equal('user-namespace')
    } finally {
      await browser.close()
    }
  })
})
