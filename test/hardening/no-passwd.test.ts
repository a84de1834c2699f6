/**
 * A user with no passwd entry and no SHELL, as `docker run --user 1234` gives:
 * bin/run.js runs as uid 1234 (setpriv, which needs root: skipped otherwise)
 * with HOME and PIPECAT_CONFIG_PATH in a folder that user owns, and every
 * command works: config, login with a token, whoami, logout.
 */
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {
  chown,
  mkdtemp,
  rm,
  stat,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BIN, type CliResult, startProcess} from '../support/cli.js'
import {emulatorSuite} from '../support/suite.js'

const UID = 1234

/** Whether uid 1234 has no passwd entry here (else the test would not test anything). */
function hasNoPasswdEntry(): boolean {
  return readFileSync('/etc/passwd', 'utf8').split('\n').every(line => line.split(':', 3)[2] !== String(UID))
}

describe('a user with no passwd entry (docker run --user 1234)', function () {
  this.timeout(60_000)
  const suite = emulatorSuite({config: false})
  let home: string

  before(function () {
    if (process.getuid?.() !== 0 || !hasNoPasswdEntry()) this.skip()
  })

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'pipecat-nopasswd-'))
    await chown(home, UID, UID)
  })

  afterEach(async () => {
    await rm(home, {force: true, recursive: true})
  })

  const run = async (args: string[], input = ''): Promise<CliResult> => {
    // No SHELL, no USER: what a container started with --user has.
    const env = {
      HOME: home, NO_COLOR: '1', PATH: '/usr/bin:/bin', PIPECAT_API_HOST: suite.emulator.url, PIPECAT_CONFIG_PATH: path.join(home, 'pipecat', 'config.toml'),
    }
    const child = startProcess('/usr/bin/setpriv', ['--reuid', String(UID), '--regid', String(UID), '--clear-groups', process.execPath, BIN, ...args], {env})
    child.stdin.end(input)
    return child.result
  }

  it('config, login --with-token, whoami and logout all work', async () => {
    const results: Array<[string, CliResult]> = []
    const config = await run(['cloud', 'config'])
    results.push(['config', config])
    expect(config.code, config.stderr).to.equal(0)

    const login = await run(['cloud', 'auth', 'login', '--with-token'], `${suite.emulator.issuePat()}\n`)
    results.push(['login', login])
    expect(login.code, login.stderr).to.equal(0)
    expect((await stat(path.join(home, 'pipecat', 'config.toml'))).uid, 'the file is the user\'s').to.equal(UID)

    const whoami = await run(['cloud', 'auth', 'whoami'])
    results.push(['whoami', whoami])
    expect(whoami.code, whoami.stderr).to.equal(0)
    expect(whoami.stdout).to.contain('dev@example.com')

    const logout = await run(['cloud', 'auth', 'logout'])
    results.push(['logout', logout])
    expect(logout.code, logout.stderr).to.equal(0)
    for (const [name, result] of results) expect(result.stderr, name).not.to.match(/uv_os_get_passwd|Unexpected error/v)
  })
})
