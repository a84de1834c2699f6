/**
 * `organizations select` and `list` on a file both CLIs use: the official
 * CLI's `organizations select` and ours leave the same document, and each
 * CLI's list shows as active what the other selected.
 */
import {expect} from 'chai'
import {readFile, writeFile} from 'node:fs/promises'
import {parse} from 'smol-toml'

import {type CliResult, runCli} from '../support/cli.js'
import {
  emulatorEnv,
  oauthLogin,
  type TempConfig,
  tempConfig,
} from '../support/config.js'
import {pcc, requireOfficialCli} from '../support/official-cli.js'
import {emulatorSuite} from '../support/suite.js'

describe('organizations on one file with the official CLI', function () {
  this.timeout(120_000)

  before(async function () {
    await requireOfficialCli(this)
  })

  const suite = emulatorSuite({config: false, tls: true})

  const plugin = async (config: TempConfig, args: string[]) =>
    runCli(args, {env: emulatorEnv(suite.emulator, config, {NODE_EXTRA_CA_CERTS: suite.emulator.caFile})})

  function expectRead(result: CliResult, what: string): void {
    const output = result.stdout + result.stderr
    expect(output, `${what}: the official CLI refused the file`).not.to.match(/Traceback|not valid TOML|ConfigError|Unable to/v)
    expect(result.code, `${what}; output:\n${output}`).to.equal(0)
  }

  it('selecting an organization with either CLI leaves the same document', async () => {
    // Bound to the emulator already, and without an [acme] table: each CLI must create it.
    const login = await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})
    suite.config = login.config
    const ours = login.config
    const text = (await readFile(ours.file, 'utf8')).replace(/\[acme\][^\[]*/v, '')
    await writeFile(ours.file, text)
    const theirs = await tempConfig(text)
    suite.config = theirs

    expectRead(await pcc(suite.emulator, theirs.file, ['organizations', 'select', '-o', 'acme']), 'organizations select -o acme')
    const selected = await plugin(ours, ['cloud', 'organizations', 'select', '-o', 'acme'])
    expect(selected.code, selected.stderr).to.equal(0)

    const [official, ourDocument] = await Promise.all([theirs.file, ours.file].map(async file => parse(await readFile(file, 'utf8'))))
    expect(ourDocument).to.deep.equal(official)
    expect(ourDocument).to.deep.include({acme: {}, org: 'acme'})
  })

  it("each CLI's list marks what the other selected", async () => {
    suite.config = (await oauthLogin(suite.emulator, 3600, {issuer: suite.emulator.url})).config

    const ours = await plugin(suite.config, ['cloud', 'organizations', 'select', 'acme'])
    expect(ours.code, ours.stderr).to.equal(0)
    const theirList = await pcc(suite.emulator, suite.config.file, ['organizations', 'list'])
    expectRead(theirList, 'organizations list')
    expect(theirList.stdout).to.match(/Acme Inc\s.*acme \(active\)/v)

    expectRead(await pcc(suite.emulator, suite.config.file, ['organizations', 'select', '-o', 'user-namespace']), 'organizations select')
    const ourList = await plugin(suite.config, ['cloud', 'organizations', 'list', '--json'])
    expect(ourList.code, ourList.stderr).to.equal(0)
    expect(JSON.parse(ourList.stdout)).to.deep.include({active: 'user-namespace'})
  })
})
