import {expect} from 'chai'
import {mkdir, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {playBrowser} from '../emulator/browser.js'
import {type Emulator, startEmulator} from '../emulator/server.js'
import {
  cleanEnv,
  type CliResult,
  ROOT,
  startProcess,
} from '../support/cli.js'
import {
  emulatorEnv,
  storedConfig,
  tempConfig,
  type TempConfig,
} from '../support/config.js'
import {AUTHORIZE_URL} from '../support/login.js'

// Some hosts reserve -h for help (oclif's additionalHelpFlags). There -h shows
// help, and --headless still signs in without a browser.
describe('cloud auth login in a host that reserves -h for help', () => {
  let emu: Emulator
  let config: TempConfig
  let host: string

  before(async () => {
    emu = await startEmulator()
    config = await tempConfig()
    host = path.join(config.dir, 'host')
    await mkdir(path.join(host, 'node_modules', '@pipecat-ai'), {recursive: true})
    await mkdir(path.join(host, 'node_modules', '@oclif'), {recursive: true})
    await symlink(ROOT, path.join(host, 'node_modules', '@pipecat-ai', 'plugin-cloud'))
    await symlink(path.join(ROOT, 'node_modules', '@oclif', 'core'), path.join(host, 'node_modules', '@oclif', 'core'))
    await writeFile(path.join(host, 'package.json'), JSON.stringify({
      dependencies: {'@oclif/core': '*', '@pipecat-ai/plugin-cloud': '*'},
      name: 'demo-host',
      oclif: {
        additionalHelpFlags: ['-h'], bin: 'demo', dirname: 'demo-host', plugins: ['@pipecat-ai/plugin-cloud'], topicSeparator: ' ',
      },
      type: 'module',
      version: '1.0.0',
    }))
    await writeFile(path.join(host, 'run.js'), "import {execute} from '@oclif/core'\nawait execute({dir: import.meta.url})\n")
  })

  after(async () => {
    await emu.close()
    await config.cleanup()
  })

  async function hostCli(args: string[], onStderr?: (text: string) => void): Promise<CliResult> {
    const child = startProcess(process.execPath, [path.join(host, 'run.js'), ...args], {env: cleanEnv(emulatorEnv(emu, config)), onStderr})
    child.stdin.end()
    return child.result
  }

  it('-h shows the help (which names --headless and its --no-browser alias) and starts no sign-in', async () => {
    const result = await hostCli(['cloud', 'auth', 'login', '-h'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.contain('demo cloud auth login')
    expect(result.stdout).to.match(/--headless\s/v).and.contain('--no-browser')
    expect(emu.requests).to.have.length(0)
  })

  it('--headless signs in', async () => {
    let played: Promise<unknown> | undefined
    const result = await hostCli(['cloud', 'auth', 'login', '--headless', '--timeout', '20'], text => {
      const url = AUTHORIZE_URL.exec(text)?.[0]
      if (url && !played) played = playBrowser(url)
    })
    await played
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.contain('Logged in as dev@example.com')
    expect((await storedConfig(config.file)).org).to.equal('user-namespace')
  })
})
