/**
 * Path settings cannot move credentials to another host. Service A is where
 * the user signed in; service B stands for any other host. Every path setting,
 * set in every place a setting can be set (the environment, the active
 * organization's table, the file's top level) to a value that would change the
 * authority (`@B/...`), is refused with its name, and B receives nothing.
 */
import {expect} from 'chai'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {configText, emulatorEnv, tempConfig} from '../support/config.js'
import {expectNoSecrets} from '../support/expect.js'
import {openStdin, runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

/** Every path setting (the `*_path` names in src/config/settings.ts). */
const PATH_SETTINGS = ['auth_config_path', 'daily_key_path', 'login_path', 'login_status_path', 'logout_path', 'organization_path', 'whoami_path'] as const
type PathSetting = (typeof PATH_SETTINGS)[number]

type Place = 'environment' | 'organization table' | 'top level'
const PLACES: Place[] = ['environment', 'organization table', 'top level']

/** The command whose requests use each path. */
const COMMAND: Record<PathSetting, 'login' | 'logout' | 'whoami'> = {
  auth_config_path: 'whoami', // the refresh of an expiring token asks for the auth config
  daily_key_path: 'whoami',
  login_path: 'login',
  login_status_path: 'login',
  logout_path: 'logout',
  organization_path: 'whoami',
  whoami_path: 'whoami',
}

describe('path settings cannot move credentials to another host', function () {
  this.timeout(60_000)
  const suite = emulatorSuite({config: false})
  let serviceB: Emulator

  before(async () => {
    serviceB = await startEmulator()
  })

  after(async () => {
    await serviceB.close()
  })

  beforeEach(() => {
    serviceB.reset()
  })

  for (const name of PATH_SETTINGS) {
    for (const place of PLACES) {
      it(`${name} in the ${place}: refused by name, service B receives nothing`, async () => {
        const serviceA = suite.emulator
        const command = COMMAND[name]
        const hostile = `@127.0.0.1:${new URL(serviceB.url).port}/${name}`
        if (command === 'login') Object.assign(serviceA.knobs, {autoApprove: true, legacyOnly: true})
        const tokens = serviceA.issueTokens({ttl: name === 'auth_config_path' ? 10 : 3600})
        const seed = command === 'login'
          ? 'org = "user-namespace"\n'
          : configText({
            expiresIn: name === 'auth_config_path' ? 10 : 3600, refreshToken: tokens.refresh_token, token: tokens.access_token,
          })
        const line = `${name} = ${JSON.stringify(hostile)}\n`
        let text = place === 'top level' ? line + seed : seed
        if (place === 'organization table') {
          const [before, after] = seed.split('[user-namespace]\n', 2)
          text = after === undefined ? `${seed}\n[user-namespace]\n${line}` : `${before}[user-namespace]\n${line}${after}`
        }

        suite.config = await tempConfig(text)
        const env = emulatorEnv(serviceA, suite.config, place === 'environment' ? {[`PIPECAT_${name.toUpperCase()}`]: hostile} : {})
        const args = command === 'login' ? ['cloud', 'auth', 'login', '--headless', '--timeout', '10'] : ['cloud', 'auth', command]
        const result = await runCommand(args, {env, stdin: openStdin()})

        expect(serviceB.requests, 'requests service B received').to.deep.equal([])
        const output = result.stdout + result.stderr
        // At the top level the file is malformed (only credentials sit there): commands name the key, logout moves the file aside.
        if (place === 'top level' && command === 'logout') expect(output).to.contain('it was moved to')
        else expect(output).to.contain(name)
        if (place === 'environment') expect(output).to.contain(`from the environment variable PIPECAT_${name.toUpperCase()}`)
        else if (place === 'organization table') expect(output).to.contain('from the active organization\'s table')
        expectNoSecrets(result, tokens.access_token, tokens.refresh_token)
      })
    }
  }
})
