/**
 * The standalone .deb: a Debian package as dpkg-deb reads it (control fields,
 * man pages where `man` looks, gzip'd), installed with dpkg into a temporary
 * root (its own dpkg database, so the machine's packages are untouched), run
 * from there with only the machine's programs on PATH, its man pages found by
 * `man`, and removed again.
 */
import {expect} from 'chai'
import {
  access,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'

import {ROOT} from '../support/cli.js'
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

  it('has a Maintainer, a section and no field that says "undefined"', async () => {
    const result = await runProgram('dpkg-deb', ['--field', deb], {env: {PATH: SYSTEM_PATH}})
    expect(result.code, result.stderr).to.equal(0)
    // "Name: value" lines; a continuation line starts with a space.
    const lines = result.stdout.split(/\n(?! )/v).filter(Boolean)
    const fields = Object.fromEntries(lines.map((line): [string, string] => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]))
    const {author} = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {author: string}
    expect(fields.Maintainer).to.equal(author).and.to.match(/^[^<>]+ <[^<>\s@]+@[^<>\s@]+>$/v)
    // A real address: no domain reserved for examples and tests (RFC 2606, RFC 6761).
    const domain = /@([^>]+)>$/v.exec(author)![1]!
    expect(domain).not.to.match(/(?:^|\.)(?:invalid|test|example|localhost|local|example\.(?:com|net|org))$/iv)
    expect(fields).to.include({Package: 'pipecat', Priority: 'optional', Section: 'utils'})
    expect(fields.Description).to.match(/^The Pipecat Cloud command line/v)
    expect(Number(fields['Installed-Size'])).to.be.greaterThan(10_000)
    expect(result.stdout).not.to.include('undefined')
  })

  it("ships every man page gzip'd in /usr/share/man/man1, byte for byte the ones in man/, and none elsewhere", async () => {
    const pages = (await readdir(path.join(ROOT, 'man'))).filter(file => file.endsWith('.1')).toSorted()
    expect(pages).to.include.members(['pipecat.1', 'pipecat-cloud.1', 'pipecat-cloud-auth-whoami.1'])
    const listing = await runProgram('dpkg-deb', ['--contents', deb], {env: {PATH: SYSTEM_PATH}})
    const manFiles = listing.stdout.split('\n').flatMap(line => / \.\/(\S+\.\d(?:\.gz)?)$/v.exec(line)?.[1] ?? [])
    expect(manFiles.toSorted((a, b) => a.localeCompare(b))).to.deep.equal(pages.map(page => `usr/share/man/man1/${page}.gz`))
    const extracted = path.join(root, 'extracted')
    const unpack = await runProgram('dpkg-deb', ['-x', deb, extracted], {env: {PATH: SYSTEM_PATH}})
    expect(unpack.code, unpack.stderr).to.equal(0)
    for (const page of pages) {
      const gzipped = await readFile(path.join(extracted, 'usr', 'share', 'man', 'man1', `${page}.gz`))
      expect(gunzipSync(gzipped).toString('utf8'), page).to.equal(await readFile(path.join(ROOT, 'man', page), 'utf8'))
    }

    expect(await exists(path.join(extracted, 'usr', 'share', 'doc', 'pipecat', 'copyright'))).to.equal(true)
    await rm(extracted, {force: true, recursive: true})
  })

  it('installs with dpkg -i, runs as usr/bin/pipecat on the Node it carries, man finds its pages, and dpkg -r removes it', async () => {
    const install = await dpkg('-i', deb)
    expect(install.code, install.stderr + install.stdout).to.equal(0)
    const bin = path.join(root, 'usr', 'bin', 'pipecat')
    const env = {HOME: root, NO_COLOR: '1', PATH: SYSTEM_PATH}
    const version = await runProgram(bin, ['--version'], {env})
    expect(version.code, version.stderr).to.equal(0)
    expect(version.stdout).to.match(new RegExp(String.raw`^pipecat/\d+\.\d+\.\d+ linux-x64 node-v${BUNDLED_NODE.replaceAll('.', String.raw`\.`)}\n$`, 'v'))
    const help = await runProgram(bin, ['--help'], {env})
    expect(help.code, help.stderr).to.equal(0)
    expect(help.stdout).to.match(/^The Pipecat Cloud command line/v)
    expect(help.stdout).not.to.include('oclif')

    // man as a user runs it, told only where this root's pages are (-M replaces the man path).
    const manDir = path.join(root, 'usr', 'share', 'man')
    const man = async (...args: string[]) => runProgram('man', ['-M', manDir, ...args], {
      env: {
        LANG: 'C.UTF-8', MANPAGER: 'cat', MANWIDTH: '200', PAGER: 'cat', PATH: SYSTEM_PATH,
      },
    })
    for (const page of ['pipecat', 'pipecat-cloud', 'pipecat-cloud-auth-login']) {
      const where = await man('-w', page)
      expect(where.code, `${page}: ${where.stderr}`).to.equal(0)
      expect(where.stdout.trim()).to.equal(path.join(manDir, 'man1', `${page}.1.gz`))
      const shown = await man(page)
      expect(shown.code, shown.stderr).to.equal(0)
      expect(shown.stdout).to.match(new RegExp(`^NAME\n\\s+${page} - `, 'mv'))
    }

    const file = path.join(root, 'pipecatcloud.toml')
    const config = await runProgram(bin, ['cloud', 'config', '--json'], {env: {...env, PIPECAT_CONFIG_PATH: file}})
    expect(config.code, config.stderr).to.equal(0)
    expect(JSON.parse(config.stdout)).to.include({configPath: file})

    const remove = await dpkg('-r', 'pipecat')
    expect(remove.code, remove.stderr + remove.stdout).to.equal(0)
    expect(await exists(bin)).to.equal(false)
    expect(await exists(path.join(root, 'usr', 'lib', 'pipecat'))).to.equal(false)
    expect(await exists(path.join(manDir, 'man1', 'pipecat-cloud.1.gz'))).to.equal(false)
    const status = await dpkg('-s', 'pipecat')
    expect(status.code).not.to.equal(0)
  })
})
