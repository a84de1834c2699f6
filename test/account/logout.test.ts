import {expect} from 'chai'
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {
  emulatorEnv,
  exists,
  oauthLogin,
  readConfig,
  readText,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {bearer, requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {closedPort} from '../support/net.js'
import {pythonLoad} from '../support/python.js'

const LOGOUT = ['cloud', 'auth', 'logout']
const WHOAMI = ['cloud', 'auth', 'whoami']

/** What a logged-out file keeps: the active organization and every organization table. */
const KEPT = {
  acme: {default_public_key: 'pk_acme_key', default_public_key_name: 'Acme Key'},
  org: 'user-namespace',
  'user-namespace': {default_public_key: 'pk_user_namespace_key', default_public_key_name: 'Default Key'},
}

describe('cloud auth logout', () => {
  let emulator: Emulator
  let config: TempConfig | undefined

  before(async () => {
    emulator = await startEmulator()
  })

  after(async () => {
    await emulator.close()
  })

  beforeEach(() => {
    emulator.reset()
  })

  afterEach(async () => {
    await config?.cleanup()
    config = undefined
  })

  it('revokes the session on the service, removes the credentials and keeps the organization tables; whoami then exits 4', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    const result = await runCli(LOGOUT, {env: emulatorEnv(emulator, config)})

    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain('Your session was revoked on Pipecat Cloud.')
    expect(result.stdout).to.contain(`Logged out: removed the credentials from ${config.file}`)
    expect(result.stderr).to.equal('')
    expect(requested(emulator)).to.deep.equal(['POST /auth/logout'])
    const [revocation] = emulator.requests
    expect(JSON.parse(revocation!.body)).to.deep.equal({refresh_token: login.refresh})
    expect(bearer(revocation)).to.equal(login.access)
    expect(emulator.stats.revocations).to.equal(1)
    expect(emulator.isValid(login.access)).to.equal(false)
    expect(await readConfig(config.file)).to.deep.equal(KEPT)
    // The official CLI's TOML library reads what is left.
    expect(await pythonLoad(config.file, 'toml')).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)

    const after = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})
    expect(after.code).to.equal(4)
    expect(after.stderr).to.contain('You are not logged in.')
  })

  it('unreachable service: says the revocation was not confirmed, removes the local credentials, exit 0', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    const port = await closedPort()
    const result = await runCli(LOGOUT, {env: emulatorEnv(emulator, config, {PIPECAT_API_HOST: `http://127.0.0.1:${port}`})})

    expect(result.code).to.equal(0)
    expect(result.stderr).to.contain(`did not confirm that your session was revoked (Could not reach 127.0.0.1:${port}: connection refused)`)
    expect(result.stderr).to.contain(`sign out at ${emulator.url}/sign-out`)
    expect(result.stdout).to.contain('Logged out: removed the credentials')
    expect(await readConfig(config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('no answer in time: the revocation is not confirmed, the credentials are still removed', async () => {
    const login = await oauthLogin(emulator)
    config = login.config
    emulator.knobs.failures['/auth/logout'] = {kind: 'hang'}
    const result = await runCli(LOGOUT, {env: emulatorEnv(emulator, config, {PIPECAT_HTTP_TIMEOUT: '1'})})

    expect(result.code).to.equal(0)
    expect(result.stderr).to.match(/did not confirm that your session was revoked \(Could not reach 127\.0\.0\.1:\d+: no answer within 1 s\)/v)
    expect(requested(emulator)).to.deep.equal(['POST /auth/logout'])
    expect(await readConfig(config.file)).to.deep.equal(KEPT)
    expectNoSecrets(result, login.access, login.refresh)
  })

  it('a malformed file is moved to a backup beside it, leaving a clean state; whoami then exits 4', async () => {
    const broken = 'token = "emu_at_SECRET_in_a_broken_file"\norg = [unclosed\n'
    config = await tempConfig(broken)
    const result = await runCli(LOGOUT, {env: emulatorEnv(emulator, config)})

    expect(result.code).to.equal(0)
    const backups = (await readdir(path.dirname(config.file))).filter(name => name.startsWith('pipecatcloud.toml.bak-'))
    expect(backups).to.have.length(1)
    const backup = path.join(path.dirname(config.file), backups[0]!)
    expect(result.stdout).to.contain(`The config file ${config.file} could not be read; it was moved to ${backup}.`)
    expect(await readText(backup)).to.equal(broken)
    expect(await exists(config.file)).to.equal(false)
    expect(emulator.requests).to.deep.equal([])
    expectNoSecrets(result, 'emu_at_SECRET_in_a_broken_file')

    const after = await runCli(WHOAMI, {env: emulatorEnv(emulator, config)})
    expect(after.code).to.equal(4)
    expect(after.stderr).to.contain('You are not logged in.')
  })
})
