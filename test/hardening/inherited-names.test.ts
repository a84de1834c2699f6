/**
 * Names from outside are looked up as own keys only. Every own property name
 * of Object.prototype (constructor, toString, __proto__, ...) as the name of
 * the account's organization: login stores it, whoami, config and logout work
 * with it, and whoami after logout is not logged in.
 */
import {expect} from 'chai'
import {Readable} from 'node:stream'

import {emulatorEnv, readConfig} from '../support/config.js'
import {expectNoLeaks} from '../support/expect.js'
import {runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

describe('inherited property names as organization names', function () {
  this.timeout(60_000)
  const suite = emulatorSuite()

  for (const name of Object.getOwnPropertyNames(Object.prototype)) {
    it(`an organization named ${JSON.stringify(name)}: login, whoami, config and logout`, async () => {
      suite.emulator.knobs.organizations = [{name, verboseName: 'Inherited'}]
      const env = emulatorEnv(suite.emulator, suite.config)
      const pat = suite.emulator.issuePat()

      const login = await runCommand(['cloud', 'auth', 'login', '--with-token'], {env, stdin: Readable.from([pat])})
      expect(login.code, login.stderr).to.equal(0)
      expect(login.stdout).to.contain(`Organization: Inherited (${name})`)
      const stored = await readConfig(suite.config.file)
      expect(stored.org).to.equal(name)
      expect(Object.hasOwn(stored, name) && typeof stored[name] === 'object', `an own table [${name}]`).to.equal(true)

      const whoami = await runCommand(['cloud', 'auth', 'whoami'], {env})
      expect(whoami.code, whoami.stderr).to.equal(0)
      expect(whoami.stdout.split('\n').map(line => line.replaceAll(/\s+/gv, ' '))).to.include(`Organization: Inherited (${name})`)
      expect(whoami.stderr).to.equal('')

      const config = await runCommand(['cloud', 'config', '--json'], {env})
      expect(config.code, config.stderr).to.equal(0)
      const report = JSON.parse(config.stdout) as {activeOrganization: string; organizations: Record<string, unknown>}
      expect(report.activeOrganization).to.equal(name)
      expect(Object.keys(report.organizations)).to.deep.equal([name])

      const logout = await runCommand(['cloud', 'auth', 'logout'], {env})
      expect(logout.code, logout.stderr).to.equal(0)
      expect(logout.stdout).to.contain('Logged out: removed the credentials')
      const kept = await readConfig(suite.config.file)
      expect(kept.org, 'the organization is kept').to.equal(name)
      expect(kept).not.to.have.any.keys('token', 'refresh_token', 'token_expires_at', 'token_issuer')

      const after = await runCommand(['cloud', 'auth', 'whoami'], {env})
      expect(after.code).to.equal(4)
      for (const run of [login, whoami, config, logout, after]) expectNoLeaks(run, pat)
    })
  }
})
