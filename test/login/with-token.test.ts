import {expect} from 'chai'
import {existsSync} from 'node:fs'

import {exists, storedConfig} from '../support/config.js'
import {onTerminal} from '../support/login.js'
import {emulatorSuite} from '../support/suite.js'

describe('cloud auth login --with-token', () => {
  const suite = emulatorSuite()

  it('on a terminal, asks for the token and does not echo it', async function () {
    if (!existsSync('/usr/bin/script')) this.skip()
    const pat = suite.emulator.issuePat()
    const terminal = onTerminal(suite.emulator, suite.config, ['--with-token'])
    try {
      await terminal.waitFor(/Paste your personal access token \(pcc_pat_\.\.\.\) and press Enter:/v)
      terminal.type(`${pat}\r`)
      expect(await terminal.exited).to.equal(0)
      expect(terminal.seen()).to.contain('Logged in as dev@example.com')
      expect(terminal.seen()).not.to.contain(pat)
      expect((await storedConfig(suite.config.file)).token).to.equal(pat)
    } finally {
      terminal.child.kill()
    }
  })

  it('on a terminal, Ctrl-C while it waits for the token: exit 130, nothing written', async function () {
    if (!existsSync('/usr/bin/script')) this.skip()
    const terminal = onTerminal(suite.emulator, suite.config, ['--with-token'])
    try {
      await terminal.waitFor(/Paste your personal access token/v)
      terminal.type('pcc_pat_half\u{3}')
      expect(await terminal.exited).to.equal(130)
      expect(terminal.seen()).to.contain('Sign-in interrupted.').and.contain('to start again. Nothing was saved.')
      expect(await exists(suite.config.file)).to.equal(false)
      expect(suite.emulator.requests).to.have.length(0)
    } finally {
      terminal.child.kill()
    }
  })
})
