/**
 * The standalone linux-x64 tarball, unpacked in a temporary folder and run
 * with only the machine's own programs on PATH (there, Node 20 or none): it
 * runs on the Node it carries, and the standalone-only plugins work.
 */
import {expect} from 'chai'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {tempConfig, type TempConfig} from '../support/config.js'
import {
  artifact,
  BUNDLED_NODE,
  runProgram,
  SYSTEM_PATH,
} from './artifacts.js'

const AUTHORIZE_URL = /http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/v

describe('standalone tarball (linux-x64)', function () {
  this.timeout(120_000)

  let work: string
  let pipecat: string
  let env: Record<string, string>

  before(async function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip()
    const tarball = artifact(this, /^pipecat-v.+-linux-x64\.tar\.gz$/v)
    work = await mkdtemp(path.join(tmpdir(), 'pipecat-standalone-'))
    const home = path.join(work, 'home')
    await mkdir(home)
    const untar = await runProgram('tar', ['-xzf', tarball, '-C', work], {env: {PATH: SYSTEM_PATH}})
    expect(untar.code, untar.stderr).to.equal(0)
    pipecat = path.join(work, 'pipecat', 'bin', 'pipecat')
    // A home of its own: the launcher would otherwise prefer an updated copy in ~/.local/share/pipecat.
    env = {
      BROWSER: 'none', HOME: home, NO_COLOR: '1', PATH: SYSTEM_PATH, XDG_DATA_HOME: path.join(home, '.local', 'share'),
    }
  })

  after(async () => {
    if (work) await rm(work, {force: true, recursive: true})
  })

  it('introduces itself as pipecat with the Node it carries in --version', async () => {
    const result = await runProgram(pipecat, ['--version'], {env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(new RegExp(String.raw`^pipecat/\d+\.\d+\.\d+ linux-x64 node-v${BUNDLED_NODE.replaceAll('.', String.raw`\.`)}\n$`, 'v'))
  })

  it('describes the program, not the plugin, at the top of --help', async () => {
    const result = await runProgram(pipecat, ['--help'], {env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/^The Pipecat Cloud command line/v)
    expect(result.stdout).not.to.include('oclif')
    expect(result.stdout).to.include('$ pipecat [COMMAND]')
  })

  it('prints the configuration with cloud config --json', async () => {
    const file = path.join(work, 'config', 'pipecatcloud.toml')
    const result = await runProgram(pipecat, ['cloud', 'config', '--json'], {env: {...env, PIPECAT_CONFIG_PATH: file}})
    expect(result.code, result.stderr).to.equal(0)
    expect(JSON.parse(result.stdout)).to.include({configPath: file, exists: false})
  })

  describe('cloud auth login --headless against the emulator', () => {
    let emulator: Emulator
    let config: TempConfig

    before(async () => {
      [emulator, config] = await Promise.all([startEmulator({knobs: {autoApprove: true}}), tempConfig()])
    })

    after(async () => {
      await emulator?.close()
      await config?.cleanup()
    })

    it('signs in (the test plays the browser) and whoami shows the account', async () => {
      const loginEnv = {
        ...env, ...config.env, PIPECAT_API_HOST: emulator.url, PIPECAT_DASHBOARD_HOST: emulator.url,
      }
      let opened = false
      const result = await runProgram(pipecat, ['cloud', 'auth', 'login', '--headless', '--timeout', '30'], {
        env: loginEnv,
        async onOutput(text) {
          const url = AUTHORIZE_URL.exec(text)?.[0]
          if (opened || !url) return opened
          opened = true
          // Auto-approving, the emulator redirects this "browser" to the CLI's loopback callback.
          await fetch(url)
          return true
        },
      })
      expect(result.code, result.stderr + result.stdout).to.equal(0)
      const whoami = await runProgram(pipecat, ['cloud', 'auth', 'whoami', '--json'], {env: loginEnv})
      expect(whoami.code, whoami.stderr).to.equal(0)
      expect(whoami.stdout).to.include(emulator.knobs.user.emails[0])
    })
  })

  describe('a mistyped command', () => {
    // On a terminal too (where a not-found plugin would ask "Did you mean ...? (y/n)"): `script` gives the command one.
    const onTerminal = async (words: string) => runProgram('script', ['-qec', `${pipecat} ${words}`, '/dev/null'], {env, input: 'y\n'})

    it('a mistyped cloud command: said as typed, the closest command suggested, exit 2 as in a clone or a host', async () => {
      const result = await onTerminal('cloud auth whomai')
      expect(result.stdout).to.include('Error: Unknown command: cloud auth whomai')
      expect(result.stdout).to.include('Try this: Did you mean `pipecat cloud auth whoami`?')
      expect(result.code).to.equal(2)
    })

    it('a mistyped top-level command: the same, with no question asked, exit 2 as in a clone', async () => {
      const result = await onTerminal('clod auth whoami')
      expect(result.stdout).to.include('Error: Unknown command: clod\r\n'
        + 'Try this: Did you mean `pipecat cloud`? Run `pipecat --help` to see its commands.')
      expect(result.stdout).not.to.match(/\(y\/n\)|not a pipecat command/v)
      expect(result.code).to.equal(2)
    })

    it('an extra word after a command: an unexpected argument, exit 2', async () => {
      const result = await runProgram(pipecat, ['cloud', 'auth', 'whoami', 'extra'], {env})
      expect(result.stderr).to.include('Error: Unexpected argument: extra')
      expect(result.code).to.equal(2)
    })
  })
})
