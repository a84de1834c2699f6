import {expect} from 'chai'
import {existsSync} from 'node:fs'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {
  exists,
  storedConfig,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {onTerminal} from '../support/login.js'

describe('cloud auth login --with-token', () => {
  let emu: Emulator
  let config: TempConfig

  before(async () => {
    emu = await startEmulator()
  })

  after(async () => {
    await emu.close()
  })

  beforeEach(async () => {
    emu.reset()
    config = await tempConfig()
  })

  afterEach(async () => {
    await config.cleanup()
  })

  it('on a terminal, asks for the token and does not echo it', async function () {
    if (!existsSync('/usr/bin/script')) this.skip()
    const pat = emu.issuePat()
    const terminal = onTerminal(emu, config, ['--with-token'])
    try {
      await terminal.waitFor(/Paste your personal access token \(pcc_pat_\.\.\.\) and press Enter:/v)
      terminal.type(`${pat}\r`)
      expect(await terminal.exited).to.equal(0)
      expect(terminal.seen()).to.contain('Logged in as dev@example.com')
      expect(terminal.seen()).not.to.contain(pat)
      expect((await storedConfig(config.file)).token).to.equal(pat)
    } finally {
      terminal.child.kill()
    }
  })

  it('on a terminal, Ctrl-C while it waits for the token: exit 130, nothing written', async function () {
    if (!existsSync('/usr/bin/script')) this.skip()
    const terminal = onTerminal(emu, config, ['--with-token'])
    try {
      await terminal.waitFor(/Paste your personal access token/v)
      terminal.type('pcc_pat_half\u{3}')
      expect(await terminal.exited).to.equal(130)
      expect(terminal.seen()).to.contain('Sign-in interrupted. Nothing was saved.')
      expect(await exists(config.file)).to.equal(false)
      expect(emu.requests).to.have.length(0)
    } finally {
      terminal.child.kill()
    }
  })
})
