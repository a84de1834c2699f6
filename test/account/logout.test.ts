import {expect} from 'chai'
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import {runCli} from '../support/cli.js'
import {
  emulatorEnv,
  exists,
  KEPT,
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {closedPort} from '../support/net.js'
import {pythonLoad} from '../support/python.js'
import {emulatorSuite} from '../support/suite.js'

const LOGOUT = ['cloud', 'auth', 'logout']
const WHOAMI = ['cloud', 'auth', 'whoami']

describe('cloud auth logout', () => {
  const suite = emulatorSuite({config: false})

  it('revokes the session on the service, removes the credentials and keeps the organization tables; whoami then exits 4', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const result = await runCli(LOGOUT, {env: emulatorEnv(suite.emulator, suite.config)})

    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain('Your session was revoked on Pipecat Cloud.')
    expect(result.stdout).to.contain(`Logged out: removed the credentials from ${suite.config.file}`)
    expect(result.stderr).to.equal('')
    expect(requested(suite.emulator)).to.deep.equal(['POST /auth/logout'])
    const [revocation] = suite.emulator.requests
    expect(JSON.parse(revocation!.body)).to.deep.equal({refresh_token: login.refresh})
    expect(bearer(revocation)).to.equal(login.access)
    expect(suite.emulator.stats.revocations).to.equal(1)
    expect(suite.emulator.isValid(login.access)).to.equal(false)
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
    // The official CLI's TOML library reads what is left.
    expect(await pythonLoad(suite.config.file, 'toml')).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)

    const after = await runCli(WHOAMI, {env: emulatorEnv(suite.emulator, suite.config)})
    expect(after.code).to.equal(4)
    expect(after.stderr).to.contain('You are not logged in.')
  })

  it('unreachable service: says the revocation was not confirmed, removes the local credentials, exit 0', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    const port = await closedPort()
    const result = await runCli(LOGOUT, {env: emulatorEnv(suite.emulator, suite.config, {PIPECAT_API_HOST: `http://127.0.0.1:${port}`})})

    expect(result.code).to.equal(0)
    expect(result.stderr).to.contain(`did not confirm that your session was revoked (Could not reach 127.0.0.1:${port}: connection refused)`)
    expect(result.stderr).to.contain(`sign out at ${suite.emulator.url}/sign-out`)
    expect(result.stdout).to.contain('Logged out: removed the credentials')
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('no answer in time: the revocation is not confirmed, the credentials are still removed', async () => {
    const login = await oauthLogin(suite.emulator)
    suite.config = login.config
    suite.emulator.knobs.failures['/auth/logout'] = {kind: 'hang'}
    const result = await runCli(LOGOUT, {env: emulatorEnv(suite.emulator, suite.config, {PIPECAT_HTTP_TIMEOUT: '1'})})

    expect(result.code).to.equal(0)
    expect(result.stderr).to.match(/did not confirm that your session was revoked \(Could not reach 127\.0\.0\.1:\d+: no answer within 1 s\)/v)
    expect(requested(suite.emulator)).to.deep.equal(['POST /auth/logout'])
    expect(await readConfig(suite.config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('a malformed file is moved to a backup beside it, leaving a clean state; whoami then exits 4', async () => {
    const broken = 'token = "emu_at_SECRET_in_a_broken_file"\norg = [unclosed\n'
    suite.config = await tempConfig(broken)
    const result = await runCli(LOGOUT, {env: emulatorEnv(suite.emulator, suite.config)})

    expect(result.code).to.equal(0)
    const backups = (await readdir(path.dirname(suite.config.file))).filter(name => name.startsWith('pipecatcloud.toml.bak-'))
    expect(backups).to.have.length(1)
    const backup = path.join(path.dirname(suite.config.file), backups[0]!)
    expect(result.stdout).to.contain(`The config file ${suite.config.file} could not be read; it was moved to ${backup}.`)
    expect(await readText(backup)).to.equal(broken)
    expect(await exists(suite.config.file)).to.equal(false)
    expect(suite.emulator.requests).to.deep.equal([])
    expectNoSecrets(result, 'emu_at_SECRET_in_a_broken_file')

    const after = await runCli(WHOAMI, {env: emulatorEnv(suite.emulator, suite.config)})
    expect(after.code).to.equal(4)
    expect(after.stderr).to.contain('You are not logged in.')
  })
})
