/**
 * The standalone .deb: installed with dpkg into a temporary root (its own
 * dpkg database, so the machine's packages are untouched), run from there
 * with only the machine's programs on PATH, and removed again.
 */
import {expect} from 'chai'
import {
  access,
  mkdir,
  mkdtemp,
  rm,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  artifact,
  BUNDLED_NODE,
  runProgram,
  SYSTEM_PATH,
} from './artifacts.js'

async function exists(file: string): Promise<boolean> {
  try {
    await access(file)
    return true
  } catch {
    return false
  }
}

describe('standalone .deb (amd64)', function () {
  this.timeout(120_000)

  let root: string
  let deb: string
  const dpkg = async (...args: string[]) => runProgram('dpkg', [`--root=${root}`, ...args], {env: {PATH: `${SYSTEM_PATH}:/usr/sbin:/sbin`}})

  before(async function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip()
    deb = artifact(this, /^pipecat_.+_amd64\.deb$/v)
    root = await mkdtemp(path.join(tmpdir(), 'pipecat-deb-'))
    await mkdir(path.join(root, 'var', 'lib', 'dpkg', 'updates'), {recursive: true})
    await mkdir(path.join(root, 'var', 'lib', 'dpkg', 'info'))
    await writeFile(path.join(root, 'var', 'lib', 'dpkg', 'status'), '')
  })

  after(async () => {
    if (root) await rm(root, {force: true, recursive: true})
  })

  it('ships /usr/bin/pipecat', async () => {
    const result = await runProgram('dpkg-deb', ['--contents', deb], {env: {PATH: SYSTEM_PATH}})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/ \.\/usr\/bin\/pipecat -> \.\.\/lib\/pipecat\/bin\/pipecat$/mv)
  })

  it('installs with dpkg -i, runs as usr/bin/pipecat on the Node it carries, and dpkg -r removes it', async () => {
    const install = await dpkg('-i', deb)
    expect(install.code, install.stderr + install.stdout).to.equal(0)
    const bin = path.join(root, 'usr', 'bin', 'pipecat')
    const env = {HOME: root, NO_COLOR: '1', PATH: SYSTEM_PATH}
    const version = await runProgram(bin, ['--version'], {env})
    expect(version.code, version.stderr).to.equal(0)
    expect(version.stdout).to.include(`linux-x64 node-v${BUNDLED_NODE}`)
    const file = path.join(root, 'pipecatcloud.toml')
    const config = await runProgram(bin, ['cloud', 'config', '--json'], {env: {...env, PIPECAT_CONFIG_PATH: file}})
    expect(config.code, config.stderr).to.equal(0)
    expect(JSON.parse(config.stdout)).to.include({path: file})

    const remove = await dpkg('-r', 'pipecat')
    expect(remove.code, remove.stderr + remove.stdout).to.equal(0)
    expect(await exists(bin)).to.equal(false)
    expect(await exists(path.join(root, 'usr', 'lib', 'pipecat'))).to.equal(false)
    const status = await dpkg('-s', 'pipecat')
    expect(status.code).not.to.equal(0)
  })
})
