/**
 * The plugin where users have it: packed as for a release, installed into a
 * real oclif host CLI (bin `acme`) with `plugins install`, linked from the
 * working tree with `plugins link`, and run there. Help and messages speak
 * the host's name and topic separator, never `pipecat`.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {type Emulator, startEmulator} from '../emulator/server.js'
import {
  createHost,
  type Host,
  listFiles,
  makeWorkDir,
  type Packed,
  packPlugin,
  ROOT,
  STANDALONE_BIN,
} from './fixture.js'

const PLUGIN = '@pipecat-ai/plugin-cloud'

type Manifest = {commands: Record<string, {hidden?: boolean}>; version: string}

type PackageJson = {
  bin: Record<string, string>;
  engines: {node: string};
  exports: Record<string, string>;
  main: string;
  man: string[];
  oclif: {commands: string};
  type: string;
  types: string;
}

describe('host CLI', function () {
  this.timeout(120_000)

  let work: Awaited<ReturnType<typeof makeWorkDir>>
  let packed: Packed
  let emulator: Emulator

  before(async () => {
    work = await makeWorkDir();
    [packed, emulator] = await Promise.all([packPlugin(work.dir), startEmulator()])
  })

  after(async () => {
    await emulator?.close()
    await work?.cleanup()
  })

  describe('the package', () => {
    it('ships bin/run.js, dist, man pages, the manifest, README, LICENSE and package.json, nothing else', async () => {
      const pjson = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson
      const dist = await listFiles(path.join(packed.stage, 'dist'), 'dist')
      const man = pjson.man.map(page => path.posix.normalize(page))
      const expected = ['LICENSE', 'README.md', 'bin/run.js', 'oclif.manifest.json', 'package.json', ...dist, ...man].toSorted()
      expect(packed.files).to.deep.equal(expected)
      expect(dist).to.include('dist/index.js')
      expect(man).to.include('man/pipecat-cloud.1')
      expect(packed.files.filter(file => /^(?:src|test|scripts|\.ci)\//v.test(file))).to.deep.equal([])
    })

    it('runs nothing when installed: no prepare or install scripts in the packed package.json', () => {
      const pjson = JSON.parse(execFileSync('tar', ['-xzOf', packed.tarball, 'package/package.json'], {encoding: 'utf8'})) as {scripts?: Record<string, string>}
      const lifecycle = Object.keys(pjson.scripts ?? {}).filter(name => /^(?:(?:pre|post)?install|prepare|prepublish)$/v.test(name))
      expect(lifecycle).to.deep.equal([])
    })

    it("has this README's command reference as packing regenerates it (else run `npm run readme`)", async () => {
      const [committed, regenerated] = await Promise.all([
        readFile(path.join(ROOT, 'README.md'), 'utf8'),
        readFile(path.join(packed.stage, 'README.md'), 'utf8'),
      ])
      expect(commandReference(regenerated)).to.include('pipecat cloud auth whoami')
      expect(commandReference(committed)).to.equal(commandReference(regenerated))
    })

    it('declares Node >= 22, its entry points and binary, all shipped', async () => {
      const pjson = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson
      expect(pjson.engines.node).to.equal('>=22')
      expect(pjson.type).to.equal('module')
      expect(pjson.bin).to.deep.equal({pipecat: './bin/run.js'})
      expect(pjson.oclif.commands).to.equal('./dist/commands')
      for (const file of [pjson.main, pjson.types, pjson.exports['.'], pjson.exports['./package.json']]) {
        expect(packed.files, file).to.include(path.posix.normalize(file!))
      }
    })
  })

  describe('installed from the tarball (topic separator " ")', () => {
    let configPath: string
    let spaceHost: Host

    before(async () => {
      configPath = path.join(work.dir, 'space', 'pipecat', 'pipecatcloud.toml')
      // Like most oclif CLIs, this host has its own handler for unknown commands ("Did you mean ...?", exit 127).
      spaceHost = await createHost(path.join(work.dir, 'space'), {configPath, plugins: ['@oclif/plugin-not-found']})
      const install = await spaceHost.run(['plugins', 'install', `file:${packed.tarball}`])
      expect(install.code, install.stderr + install.stdout).to.equal(0)
      // No "prepare script did not produce all the expected files", no npm install-scripts warning about our package.
      expect(install.stderr + install.stdout).not.to.match(/may not work as expected|install-scripts|prepare/v)
    })

    it('ships a manifest listing every command, for the version packed', async () => {
      const manifest = await installedManifest(spaceHost)
      const ids = (await listFiles(path.join(packed.stage, 'dist', 'commands')))
      .filter(file => file.endsWith('.js'))
      .map(file => file.replace(/\.js$/v, '').replace(/\/index$/v, '').replaceAll('/', ':'))
      expect(Object.keys(manifest.commands).toSorted()).to.deep.equal(ids.toSorted())
      const {version} = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {version: string}
      expect(manifest.version).to.equal(version)
    })

    it('a mistyped cloud command or an extra word: said as typed, exit 2, as in a clone (the host\'s own handler not involved)', async () => {
      const typo = await spaceHost.run(['cloud', 'auth', 'whomai'])
      expect(typo.code).to.equal(2)
      expect(typo.stderr).to.equal('Error: Unknown command: cloud auth whomai\n'
        + 'Try this: Did you mean `acme cloud auth whoami`? Run `acme cloud auth --help` to see its commands.\n')
      const extra = await spaceHost.run(['cloud', 'auth', 'whoami', 'extra'])
      expect(extra.code).to.equal(2)
      expect(extra.stderr).to.equal('Error: Unexpected argument: extra\nTry this: Run `acme cloud auth whoami --help` to see what it accepts.\n')
    })

    it("a mistyped top-level command is the host's own handler's to report (the plugin adds no hook of its own)", async () => {
      const typo = await spaceHost.run(['clod'])
      expect(typo.code).to.equal(127)
      expect(typo.stderr).to.include('clod is not a acme command')
      expect(typo.stderr).not.to.include('Unknown command')
    })

    it('lists the plugin among the installed plugins', async () => {
      const result = await spaceHost.run(['plugins'])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include(PLUGIN)
    })

    it("shows the cloud topic in the host's help, under the host's name", async () => {
      const result = await spaceHost.run(['--help'])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/^\s+cloud\s+Pipecat Cloud/mv)
      expect(result.stdout).to.include('$ acme [COMMAND]')
      expect(result.stdout).not.to.match(STANDALONE_BIN)
    })

    it("shows every command's help with the host's bin name", async () => {
      const ids = Object.keys((await installedManifest(spaceHost)).commands)
      expect(ids).to.include.members(['cloud', 'cloud:config', 'cloud:auth:whoami'])
      for (const id of ids) {
        const command = id.replaceAll(':', ' ')
        const result = await spaceHost.run([...command.split(' '), '--help'])
        expect(result.code, `${command} --help: ${result.stderr}`).to.equal(0)
        expect(result.stdout, command).to.include(`$ acme ${command}`)
        expect(result.stdout, command).not.to.match(STANDALONE_BIN)
      }
    })

    it('prints the configuration as one JSON document with cloud config --json', async () => {
      const result = await spaceHost.run(['cloud', 'config', '--json'], {env: {PIPECAT_API_HOST: emulator.url}})
      expect(result.code, result.stderr).to.equal(0)
      const report = JSON.parse(result.stdout) as {configPath: string; exists: boolean; settings: Record<string, {source: string; value: string}>}
      expect(report.configPath).to.equal(configPath)
      expect(report.exists).to.equal(false)
      expect(report.settings.api_host).to.include({source: 'environment', value: emulator.url})
    })

    it('prints the same with cloud --config', async () => {
      const [viaFlag, viaCommand] = await Promise.all([spaceHost.run(['cloud', '--config']), spaceHost.run(['cloud', 'config'])])
      expect(viaFlag.code, viaFlag.stderr).to.equal(0)
      expect(viaFlag.stdout).to.equal(viaCommand.stdout)
      expect(viaFlag.stdout).to.include(configPath)
    })

    it('shows the account with cloud auth whoami and a personal access token', async () => {
      const result = await spaceHost.run(['cloud', 'auth', 'whoami'], {
        env: {PIPECAT_API_HOST: emulator.url, PIPECAT_DASHBOARD_HOST: emulator.url, PIPECAT_TOKEN: emulator.issuePat()},
      })
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include(emulator.knobs.user.emails[0])
      expect(result.stdout).to.include(emulator.knobs.user.userId)
      expect(result.stdout).not.to.include('pcc_pat_')
    })

    it('tells a signed-out user to run `acme cloud auth login`, exit 4', async () => {
      const result = await spaceHost.run(['cloud', 'auth', 'whoami'], {env: {PIPECAT_API_HOST: emulator.url}})
      expect(result.code).to.equal(4)
      expect(result.stderr).to.include('acme cloud auth login')
      expect(result.stderr).not.to.match(STANDALONE_BIN)
    })

    it('says the same under --json, as one JSON document', async () => {
      const result = await spaceHost.run(['cloud', 'auth', 'whoami', '--json'], {env: {PIPECAT_API_HOST: emulator.url}})
      expect(result.code).to.equal(4)
      const error = JSON.parse(result.stdout) as {error: {suggestions?: string[]}}
      expect(JSON.stringify(error)).to.include('acme cloud auth login')
      expect(result.stdout).not.to.match(STANDALONE_BIN)
    })

    it('runs on its own too: the installed package is the standalone `pipecat` binary', async () => {
      const installed = path.join(spaceHost.dataDir, 'node_modules', PLUGIN)
      const result = await spaceHost.run(['cloud', '--help'], {script: path.join(installed, 'bin', 'run.js')})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include('$ pipecat cloud --config')
      // There the plugin is the CLI: a mistyped top-level command is its own to report, as in a clone.
      const typo = await spaceHost.run(['clod'], {script: path.join(installed, 'bin', 'run.js')})
      expect(typo.code).to.equal(2)
      expect(typo.stderr).to.equal('Error: Unknown command: clod\nTry this: Did you mean `pipecat cloud`? Run `pipecat --help` to see its commands.\n')
    })
  })

  describe('installed from the tarball (topic separator ":", -h for help)', () => {
    let colonHost: Host

    before(async () => {
      const dir = path.join(work.dir, 'colon')
      colonHost = await createHost(dir, {additionalHelpFlags: ['-h'], configPath: path.join(dir, 'pipecatcloud.toml'), topicSeparator: ':'})
      const install = await colonHost.run(['plugins:install', `file:${packed.tarball}`])
      expect(install.code, install.stderr + install.stdout).to.equal(0)
    })

    it('runs cloud:auth:whoami against the service', async () => {
      const result = await colonHost.run(['cloud:auth:whoami'], {
        env: {PIPECAT_API_HOST: emulator.url, PIPECAT_DASHBOARD_HOST: emulator.url, PIPECAT_TOKEN: emulator.issuePat()},
      })
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include(emulator.knobs.user.emails[0])
    })

    it('advises `acme cloud:auth:login` when signed out', async () => {
      const result = await colonHost.run(['cloud:auth:whoami'], {env: {PIPECAT_API_HOST: emulator.url}})
      expect(result.code).to.equal(4)
      expect(result.stderr).to.include('acme cloud:auth:login')
      expect(result.stderr).not.to.match(STANDALONE_BIN)
    })

    it('shows help in the host’s separator, for --help and its -h', async () => {
      for (const flag of ['--help', '-h']) {
        const result = await colonHost.run(['cloud:auth:whoami', flag])
        expect(result.code, `${flag}: ${result.stderr}`).to.equal(0)
        expect(result.stdout).to.include('$ acme cloud:auth:whoami')
        expect(result.stdout).not.to.match(STANDALONE_BIN)
      }
    })

    it('names the other commands with ":" in help', async () => {
      const result = await colonHost.run(['cloud', '--help'])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include('$ acme cloud --config')
      // help wraps long lines: a name may be split across two
      expect(result.stdout.replaceAll(/\s+/gv, ' ')).to.include('acme cloud:config')
      expect(result.stdout).not.to.match(/\bcloud (?:config|auth)\b/v)
    })

    it("a mistyped top-level command: oclif's own answer there, not the plugin's", async () => {
      const typo = await colonHost.run(['clod'])
      expect(typo.code).to.equal(2)
      expect(typo.stderr).to.include('command clod not found')
      expect(typo.stderr).not.to.include('Unknown command')
    })

    it('prints the configuration with cloud:config --json', async () => {
      const result = await colonHost.run(['cloud:config', '--json'])
      expect(result.code, result.stderr).to.equal(0)
      expect((JSON.parse(result.stdout) as {configPath: string}).configPath).to.equal(path.join(work.dir, 'colon', 'pipecatcloud.toml'))
    })
  })

  describe('linked from the working tree (plugins link, for development)', () => {
    let linkHost: Host

    before(async () => {
      const dir = path.join(work.dir, 'link')
      linkHost = await createHost(dir, {configPath: path.join(dir, 'pipecatcloud.toml')})
      const link = await linkHost.run(['plugins', 'link', ROOT, '--no-install'])
      expect(link.code, link.stderr + link.stdout).to.equal(0)
    })

    it('lists the link', async () => {
      const result = await linkHost.run(['plugins'])
      expect(result.stdout).to.include(PLUGIN).and.to.include('(link)')
    })

    it('runs the commands from the working tree', async () => {
      const result = await linkHost.run(['cloud', 'config', '--json'])
      expect(result.code, result.stderr).to.equal(0)
      expect((JSON.parse(result.stdout) as {configPath: string}).configPath).to.equal(path.join(work.dir, 'link', 'pipecatcloud.toml'))
      const whoami = await linkHost.run(['cloud', 'auth', 'whoami'], {env: {PIPECAT_API_HOST: emulator.url}})
      expect(whoami.code).to.equal(4)
      expect(whoami.stderr).to.include('acme cloud auth login')
    })
  })
})

async function installedManifest(host: Host): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(host.dataDir, 'node_modules', PLUGIN, 'oclif.manifest.json'), 'utf8')) as Manifest
}

/** The README's generated command reference: between `<!-- commands -->` and `<!-- commandsstop -->`. */
function commandReference(readme: string): string {
  const lines = readme.split('\n')
  return lines.slice(lines.indexOf('<!-- commands -->'), lines.indexOf('<!-- commandsstop -->') + 1).join('\n')
}
