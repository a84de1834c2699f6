/**
 * Logout removes every credential key from every place a token is read from:
 * the top level, the active organization's table (where the official CLI reads
 * `token` when the top level has none) and PIPECAT_ORG's table; it keeps
 * everything else, and whoami afterwards is not logged in (exit 4).
 */
import {expect} from 'chai'

import {emulatorEnv, readConfig, tempConfig} from '../support/config.js'
import {expectNoSecrets} from '../support/expect.js'
import {runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

const KEYS = ['token', 'refresh_token', 'token_expires_at'] as const
type Place = 'active organization table' | 'PIPECAT_ORG table' | 'top level' | 'top level and active organization table'
const PLACES: Place[] = ['top level', 'active organization table', 'PIPECAT_ORG table', 'top level and active organization table']

describe('logout removes credentials wherever they are read from', function () {
  this.timeout(60_000)
  const suite = emulatorSuite({config: false})

  for (const place of PLACES) {
    for (const keys of [...KEYS.map(key => [key]), [...KEYS]]) {
      it(`${keys.join(', ')} in the ${place}`, async () => {
        const pat = suite.emulator.issuePat()
        const {refresh_token: refresh} = suite.emulator.issueTokens()
        const values: Record<string, string> = {refresh_token: `"${refresh}"`, token: `"${pat}"`, token_expires_at: String(Math.round(Date.now() / 1000) + 3600)}
        const lines = keys.map(key => `${key} = ${values[key]}`).join('\n')
        const table = place === 'PIPECAT_ORG table' ? 'acme' : 'user-namespace'
        const top = place.startsWith('top level') ? `${lines}\n` : ''
        const inTable = place === 'top level' ? '' : `${lines}\n`
        suite.config = await tempConfig(`${top}org = "user-namespace"\n\n[user-namespace]\ndefault_public_key = "pk_user"\n${table === 'user-namespace' ? inTable : ''}
[acme]
default_public_key = "pk_acme"
${table === 'acme' ? inTable : ''}`)
        const env = emulatorEnv(suite.emulator, suite.config, place === 'PIPECAT_ORG table' ? {PIPECAT_ORG: 'acme'} : {})

        const logout = await runCommand(['cloud', 'auth', 'logout'], {env})
        expect(logout.code, logout.stderr).to.equal(0)
        // An expiry alone is no credential, but a leftover that goes too.
        expect(logout.stdout).to.contain(keys.length === 1 && keys[0] === 'token_expires_at' ? 'You are not logged in.' : 'Logged out: removed the credentials')
        expect(await readConfig(suite.config.file)).to.deep.equal({
          acme: {default_public_key: 'pk_acme'}, org: 'user-namespace', 'user-namespace': {default_public_key: 'pk_user'},
        })

        const whoami = await runCommand(['cloud', 'auth', 'whoami'], {env})
        expect(whoami.code, whoami.stdout).to.equal(4)
        expectNoSecrets(logout, pat, refresh)
      })
    }
  }
})
