import {expect} from 'chai'
import {
  mkdir,
  symlink,
  writeFile,
} from 'node:fs/promises'
import path from 'node:path'

import {runCli} from '../support/cli.js'
import {EXAMPLE_FILE, EXAMPLE_TOKEN, tempConfig} from '../support/config.js'

describe('cloud config', () => {
  let config: Awaited<ReturnType<typeof tempConfig>>

  afterEach(async () => {
    await config.cleanup()
  })

  it('shows the documented example file: org, both organization tables, token redacted (--config and config agree)', async () => {
    config = await tempConfig(EXAMPLE_FILE)
    const viaFlag = await runCli(['cloud', '--config'], {env: config.env})
    const viaCommand = await runCli(['cloud', 'config'], {env: config.env})
    expect(viaFlag.code).to.equal(0)
    expect(viaFlag.stdout).to.equal(viaCommand.stdout)
    expect(viaFlag.stdout).to.contain(config.file).and.contain('(exists)')
    expect(viaFlag.stdout).to.match(/^org\s+user-namespace\s+config file$/mv)
    expect(viaFlag.stdout).to.contain('[another-user-org]').and.contain('[futher-user-org]').and.contain('Test Key')
    expect(viaFlag.stdout).to.match(/^token\s+pcc_pat_\*{4}\s+config file$/mv)
    expect(viaFlag.stdout + viaFlag.stderr).not.to.contain(EXAMPLE_TOKEN)
    expect(viaFlag.stderr).to.equal('')
  })

  describe('a bad config file', () => {
    const expectConfigError = (result: {code: null | number; stderr: string; stdout: string}, pattern: RegExp) => {
      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(pattern)
      expect(result.stderr).to.contain(config.file)
      expect(result.stderr).not.to.match(/\bat .+:\d+:\d+/v) // no stack trace
    }

    it('invalid UTF-8', async () => {
      config = await tempConfig('')
      await writeFile(config.file, Buffer.from([0x74, 0x6F, 0x6B, 0x65, 0x6E, 0x20, 0x3D, 0x20, 0x22, 0xFF, 0xFE, 0x22, 0x0A]))
      expectConfigError(await runCli(['cloud', 'config'], {env: config.env}), /not valid UTF-8/v)
    })

    it('a symlink loop at the config path', async () => {
      config = await tempConfig()
      await mkdir(path.dirname(config.file), {recursive: true})
      await symlink(config.file, config.file)
      expectConfigError(await runCli(['cloud', 'config'], {env: config.env}), /too many levels of symbolic links/v)
    })
  })
})
