import {expect} from 'chai'
import {writeFile} from 'node:fs/promises'

import {
  emulatorEnv,
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {runCommand} from '../support/in-process.js'
import {emulatorSuite} from '../support/suite.js'

type ErrorJson = {error: {code: string; exit: number; message: string; suggestions: string[]}}

describe('cloud organizations (in-process)', () => {
  const suite = emulatorSuite({config: false})

  const run = async (args: string[], env: Record<string, string> = {}) =>
    runCommand(['cloud', 'organizations', ...args], {env: emulatorEnv(suite.emulator, suite.config, env)})

  describe('list', () => {
    it('each organization by name and display name, the active one marked', async () => {
      const login = await oauthLogin(suite.emulator, 3600, {org: 'acme'})
      suite.config = login.config
      const result = await run(['list'])

      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr).to.equal('')
      expect(result.stdout).to.equal([
        'Name            Display name',
        'user-namespace  Demo User',
        'acme            Acme Inc      (active)',
        '',
      ].join('\n'))
      expect(requested(suite.emulator)).to.deep.equal(['GET /v1/organizations'])
      expect(bearer(suite.emulator.requests[0])).to.equal(login.access)
      expectNoSecrets(result, login.access, login.refresh)
    })

    it('--json: the list and the active name; PIPECAT_ORG decides which is active', async () => {
      suite.config = (await oauthLogin(suite.emulator)).config
      const result = await run(['list', '--json'], {PIPECAT_ORG: 'acme'})

      expect(result.code).to.equal(0)
      expect(JSON.parse(result.stdout)).to.deep.equal({
        active: 'acme',
        organizations: [
          {active: false, name: 'user-namespace', verboseName: 'Demo User'},
          {active: true, name: 'acme', verboseName: 'Acme Inc'},
        ],
        warnings: [],
      })
    })

    it('no organization stored: none marked; one without a display name shows (none)', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {org: ''})).config
      // The service may leave the display name out.
      suite.emulator.knobs.organizations = [{name: 'solo', verboseName: undefined as unknown as string}]
      const result = await run(['list'])
      expect(result.code).to.equal(0)
      expect(result.stdout).to.equal('Name  Display name\nsolo  (none)\n')
    })

    it('an active organization the account does not have, or none at all: a warning on stderr, exit 0', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {org: 'gone-org'})).config
      const gone = await run(['list'])
      expect(gone.code).to.equal(0)
      expect(gone.stderr).to.equal('Warning: The active organization "gone-org" is not among this account\'s organizations.\n')
      expect(gone.stdout).not.to.contain('(active)')

      suite.emulator.knobs.organizations = []
      const none = await run(['list', '--json'])
      expect(none.code).to.equal(0)
      expect(JSON.parse(none.stdout)).to.deep.equal({
        active: 'gone-org', organizations: [], warnings: ['This account has no organization yet; finish the onboarding in the Pipecat Cloud dashboard.'],
      })
      expect(none.stderr).to.contain('This account has no organization yet')
    })

    it('signed out: exit 4, no request', async () => {
      suite.config = await tempConfig()
      const result = await run(['list'])
      expect(result.code).to.equal(4)
      expect(result.stderr).to.equal('Error: You are not logged in.\nTry this: Run `pipecat cloud auth login` to sign in.\n')
      expect(suite.emulator.requests).to.deep.equal([])
    })
  })

  describe('select', () => {
    it('NAME, -o and --organization: writes org, keeps the rest of the file byte for byte', async () => {
      for (const args of [['acme'], ['-o', 'acme'], ['--organization', 'acme'], ['acme', '-o', 'acme']]) {
        const login = await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})
        suite.config = login.config
        const before = await readText(suite.config.file)

        const result = await run(['select', ...args])

        expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0)
        expect(result.stdout).to.equal(`Active organization: Acme Inc (acme)\nSaved in ${suite.config.file}\n`)

        expect(await readText(suite.config.file)).to.equal(before.replace('org = "user-namespace"', 'org = "acme"'))
        expectNoSecrets(result, login.access, login.refresh)
      }
    })

    it('creates the organization\'s table when missing, keeping comments; --json says what changed', async () => {
      const login = await oauthLogin(suite.emulator)
      suite.config = login.config
      await writeFile(suite.config.file, `# mine\ntoken = "${login.access}"\nrefresh_token = "${login.refresh}"\n\n[other]\nx = 1 # kept\n`)
      suite.emulator.knobs.organizations = [{name: 'fresh', verboseName: 'Fresh Co'}]
      const result = await run(['select', 'fresh', '--json'])

      expect(result.code, result.stderr).to.equal(0)
      expect(JSON.parse(result.stdout)).to.deep.equal({
        configPath: suite.config.file, organization: {name: 'fresh', verboseName: 'Fresh Co'}, previous: null, warnings: [],
      })
      const text = await readText(suite.config.file)
      expect(text).to.contain('# mine\n').and.contain('x = 1 # kept')
      expect(await readConfig(suite.config.file)).to.deep.include({fresh: {}, org: 'fresh', other: {x: 1}})
    })

    it('a name the account does not have: exit 1, nothing changed, the names listed', async () => {
      suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config
      const before = await readText(suite.config.file)
      const human = await run(['select', 'nope'])
      const json = await run(['select', '--organization', 'nope', '--json'])

      expect(human.code).to.equal(1)
      expect(human.stdout).to.equal('')
      expect(human.stderr).to.equal('Error: "nope" is not one of your organizations; nothing was changed.\nTry this: Choose one of: user-namespace, acme.\n')
      expect(json.code).to.equal(1)
      expect((JSON.parse(json.stdout) as ErrorJson).error).to.deep.include({code: 'organization', exit: 1})
      expect(await readText(suite.config.file)).to.equal(before)
    })

    it('no name and no terminal: a usage error (exit 2) before anything is sent or written', async () => {
      suite.config = (await oauthLogin(suite.emulator)).config
      const before = await readText(suite.config.file)
      const human = await run(['select'])
      const json = await run(['select', '--json'])

      expect(human.code).to.equal(2)
      expect(human.stderr).to.equal([
        'Error: No organization given, and there is no terminal to ask on.',
        'Try this: Name it: `pipecat cloud organizations select NAME` (`pipecat cloud organizations list` shows the names).',
        '',
      ].join('\n'))
      expect((JSON.parse(json.stdout) as ErrorJson).error).to.deep.include({code: 'usage', exit: 2})
      expect(suite.emulator.requests).to.deep.equal([])
      expect(await readText(suite.config.file)).to.equal(before)
    })

    it('two different names: a usage error; an extra argument too', async () => {
      suite.config = (await oauthLogin(suite.emulator)).config
      const both = await run(['select', 'acme', '-o', 'user-namespace'])
      expect(both.code).to.equal(2)
      expect(both.stderr).to.contain('Two different organizations given: "acme" and --organization "user-namespace".')
      const extra = await run(['select', 'acme', 'more'])
      expect(extra.code).to.equal(2)
      expect(extra.stderr).to.equal('Error: Unexpected argument: more\nTry this: Run `pipecat cloud organizations select --help` to see what it accepts.\n')
      expect(suite.emulator.requests).to.deep.equal([])
    })

    it('PIPECAT_ORG set to another: saved, with a warning that the variable still decides', async () => {
      suite.config = (await oauthLogin(suite.emulator)).config
      const result = await run(['select', 'acme'], {PIPECAT_ORG: 'user-namespace'})
      expect(result.code).to.equal(0)
      expect(result.stderr).to.equal('Warning: PIPECAT_ORG is set to "user-namespace", so commands keep using it instead. Unset it to use acme.\n')
      expect((await readConfig(suite.config.file)).org).to.equal('acme')
    })

    it('signed out: exit 4, nothing written', async () => {
      suite.config = await tempConfig()
      const result = await run(['select', 'acme'])
      expect(result.code).to.equal(4)
      expect(suite.emulator.requests).to.deep.equal([])
    })
  })
})
