import {expect} from 'chai'
import {existsSync} from 'node:fs'

import {onTerminal} from '../support/cli.js'
import {emulatorEnv, exists, storedConfig} from '../support/config.js'
import {emulatorSuite} from '../support/suite.js'

// The official CLI's `auth use-pat` is the same sign-in: every case holds for both names.
for (const words of [['cloud', 'auth', 'login', '--with-token'], ['cloud', 'auth', 'use-pat']]) {
  describe(words.join(' '), () => {
    const suite = emulatorSuite()
    const onThisTerminal = () => onTerminal(words, emulatorEnv(suite.emulator, suite.config))

    it('on a terminal, asks for the token and does not echo it', async function () {
      if (!existsSync('/usr/bin/script')) this.skip()
      const pat = suite.emulator.issuePat()
      const terminal = onThisTerminal()
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
      const terminal = onThisTerminal()
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
}
