import {expect} from 'chai'
import {existsSync} from 'node:fs'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {
  emulatorEnv,
  exists,
  storedConfig,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {requested} from '../support/emulator.js'
import {expectNoSecrets} from '../support/expect.js'
import {onTerminal} from '../support/login.js'

describe('cloud auth login --with-token', () => {
  let emu: Emulator
  let config: TempConfig

  before(async () => {
    emu = await startEmulator()
  })

  after(async () => {
    await emu.close()
  })

  beforeEach(async () => {
    emu.reset()
    config = await tempConfig()
  })

  afterEach(async () => {
    await config.cleanup()
  })

  const login = async (input: string, args: string[] = [], env: Record<string, string> = {}) =>
    runCli(['cloud', 'auth', 'login', '--with-token', ...args], {env: emulatorEnv(emu, config, env), input})

  it('reads a personal access token from stdin, checks it with the service and stores it without refresh or expiry', async () => {
    const pat = emu.issuePat()
    const result = await login(`${pat}\n`)

    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(`Logged in as dev@example.com\nOrganization: Demo User (user-namespace)\nCredentials saved to ${config.file}\n`)
    expectNoSecrets(result, pat)
    const stored = await storedConfig(config.file)
    expect(stored).to.deep.equal({
      org: 'user-namespace', refresh_token: '', token: pat, token_expires_at: 0, 'user-namespace': {},
    })
    // Checked against organization_path with the token itself; no browser sign-in of any kind.
    expect(requested(emu).toSorted()).to.deep.equal(['GET /v1/organizations', 'GET /v1/users'])
    expect(emu.requests[0].headers.authorization).to.equal(`Bearer ${pat}`)
  })

  it('--json reports the personal access token login as data', async () => {
    const pat = emu.issuePat()
    const result = await login(pat, ['--json'])
    expect(result.code).to.equal(0)
    const data = JSON.parse(result.stdout) as Record<string, unknown>
    expect(data).to.deep.include({authMethod: 'personal-access-token', email: 'dev@example.com', tokenExpiresAt: null})
    expectNoSecrets(result, pat)
  })

  it('a token without the pcc_pat_ prefix is refused before anything is sent', async () => {
    const result = await login('emu_lt_not-a-personal-token\n')
    expect(result.code).to.equal(1)
    expect(result.stderr).to.contain('Error: That is not a personal access token: they start with pcc_pat_.')
    expect(result.stderr).not.to.contain('not-a-personal-token')
    expect(await exists(config.file)).to.equal(false)
    expect(emu.requests).to.have.length(0)
  })

  it('a token the service rejects is not stored', async () => {
    const result = await login('pcc_pat_revoked-or-made-up\n')
    expect(result.code).to.equal(1)
    expect(result.stderr).to.contain('Error: Pipecat Cloud rejected the personal access token.')
    expectNoSecrets(result, 'pcc_pat_revoked-or-made-up')
    expect(await exists(config.file)).to.equal(false)
  })

  it('nothing on stdin: says how to pass the token', async () => {
    const result = await login('')
    expect(result.code).to.equal(1)
    expect(result.stderr).to.contain('Error: No token was given on stdin.')
    expect(result.stderr).to.match(/pipecat cloud auth login --with-token < token\.txt/v)
    expect(await exists(config.file)).to.equal(false)
  })

  it('on a terminal, asks for the token and does not echo it', async function () {
    if (!existsSync('/usr/bin/script')) this.skip()
    const pat = emu.issuePat()
    const terminal = onTerminal(emu, config, ['--with-token'])
    try {
      await terminal.waitFor(/Paste your personal access token \(pcc_pat_\.\.\.\) and press Enter:/v)
      terminal.type(`${pat}\r`)
      expect(await terminal.exited).to.equal(0)
      expect(terminal.seen()).to.contain('Logged in as dev@example.com')
      expect(terminal.seen()).not.to.contain(pat)
      expect((await storedConfig(config.file)).token).to.equal(pat)
    } finally {
      terminal.child.kill()
    }
  })

  it('on a terminal, Ctrl-C while it waits for the token: exit 130, nothing written', async function () {
    if (!existsSync('/usr/bin/script')) this.skip()
    const terminal = onTerminal(emu, config, ['--with-token'])
    try {
      await terminal.waitFor(/Paste your personal access token/v)
      terminal.type('pcc_pat_half\u{3}')
      expect(await terminal.exited).to.equal(130)
      expect(terminal.seen()).to.contain('Sign-in interrupted. Nothing was saved.')
      expect(await exists(config.file)).to.equal(false)
      expect(emu.requests).to.have.length(0)
    } finally {
      terminal.child.kill()
    }
  })

  it('a token is never taken as an argument', async () => {
    const result = await runCli(['cloud', 'auth', 'login', '--with-token', 'pcc_pat_on_the_command_line'], {env: emulatorEnv(emu, config)})
    expect(result.code).to.equal(2)
    expect(await exists(config.file)).to.equal(false)
    expect(emu.requests).to.have.length(0)
  })
})
