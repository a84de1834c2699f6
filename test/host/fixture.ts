/**
 * A real oclif host CLI for the plugin, built in a temporary folder: its own
 * package.json, bin/run.js and bin name, with `@oclif/core`, `@oclif/plugin-help`
 * and `@oclif/plugin-plugins` symlinked from this repository's node_modules (no
 * download). `plugins install` of the packed plugin then runs the host's npm
 * with --prefer-offline, so the plugin's dependencies come from the npm cache
 * that `npm ci` filled.
 */
import {
  cp,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  cleanEnv,
  type CliResult,
  ROOT,
  startProcess,
} from '../support/cli.js'

export {type CliResult, ROOT} from '../support/cli.js'

export type Packed = {
  /** Paths inside the tarball, as `npm pack --json` lists them. */
  files: string[];
  /** The copy of the working tree that was packed (its dist/ is the build that was packed). */
  stage: string;
  tarball: string;
}

export type Host = {
  bin: string;
  /** The host's data dir: user-installed plugins live in its node_modules. */
  dataDir: string;
  root: string;
  /** Runs the host's bin/run.js (or `script`, another oclif binary) with the host's environment. */
  run(args: string[], options?: {env?: Record<string, string | undefined>; script?: string; timeoutMs?: number}): Promise<CliResult>;
}

export type HostOptions = {
  /** Help flags the host adds, e.g. ['-h'] (oclif's additionalHelpFlags). */
  additionalHelpFlags?: string[];
  bin?: string;
  /** PIPECAT_CONFIG_PATH for every command the host runs. */
  configPath: string;
  /** More of the host's own plugins, from this repository's node_modules (e.g. '@oclif/plugin-not-found'). */
  plugins?: string[];
  topicSeparator?: ' ' | ':';
}

/** Top-level entries of the working tree that are build output, caches or scratch, never part of a clone. */
const NOT_SOURCE = /^(?:\.git|node_modules|dist|tmp.*|.*\.tgz|oclif\.manifest\.json|tsconfig\.tsbuildinfo)$/v

/**
 * Packs the plugin as `npm pack` does for a release (prepack: build, manifest,
 * README reference, man pages), from a copy of the working tree so the tree
 * itself (its dist/, README, manifest) is left alone.
 */
export async function packPlugin(workDir: string): Promise<Packed> {
  const stage = path.join(workDir, 'stage')
  await cp(ROOT, stage, {
    filter(source) {
      const relative = path.relative(ROOT, source)
      if (relative === '') return true
      const [top] = relative.split(path.sep)
      return !NOT_SOURCE.test(top ?? '') && !relative.split(path.sep).includes('node_modules')
    },
    recursive: true,
  })
  await symlink(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir')

  const env = Object.fromEntries(Object.entries({...process.env, ...npmEnv()}).filter(([, value]) => value !== undefined))
  const result = await spawnNode(npmCli(), ['pack', '--json', '--pack-destination', workDir], {cwd: stage, env, timeoutMs: 120_000})
  if (result.code !== 0) throw new Error(`npm pack failed (${result.code}):\n${result.stderr}\n${result.stdout}`)
  // Lifecycle scripts may print before the JSON document.
  const json = result.stdout.slice(result.stdout.search(/^\[/mv))
  const [report] = JSON.parse(json) as Array<{filename: string; files: Array<{path: string}>}>
  return {files: report!.files.map(file => file.path).toSorted(), stage, tarball: path.join(workDir, report!.filename)}
}

/** A host CLI in `dir`, with its own data, cache and config dirs there too. */
export async function createHost(dir: string, options: HostOptions): Promise<Host> {
  const bin = options.bin ?? 'acme'
  const root = path.join(dir, `${bin}-cli`)
  await mkdir(path.join(root, 'bin'), {recursive: true})
  await mkdir(path.join(root, 'node_modules', '@oclif'), {recursive: true})
  const dependencies: Record<string, string> = {}
  const plugins = ['@oclif/plugin-help', '@oclif/plugin-plugins', ...(options.plugins ?? [])]
  for (const name of ['@oclif/core', ...plugins]) {
    await symlink(path.join(ROOT, 'node_modules', name), path.join(root, 'node_modules', name), 'dir')
    dependencies[name] = '*'
  }

  const pjson = {
    bin: {[bin]: './bin/run.js'},
    dependencies,
    name: `${bin}-cli`,
    oclif: {
      additionalHelpFlags: options.additionalHelpFlags,
      bin,
      dirname: bin,
      plugins,
      topicSeparator: options.topicSeparator ?? ' ',
    },
    private: true,
    type: 'module',
    version: '1.0.0',
  }
  await writeFile(path.join(root, 'package.json'), `${JSON.stringify(pjson, null, 2)}\n`)
  await writeFile(path.join(root, 'bin', 'run.js'), "#!/usr/bin/env node\nimport {execute} from '@oclif/core'\n\nawait execute({dir: import.meta.url})\n", {mode: 0o755})

  const prefix = bin.toUpperCase()
  const dataDir = path.join(dir, 'data')
  const hostEnv = {
    ...npmEnv(),
    [`${prefix}_CACHE_DIR`]: path.join(dir, 'cache'),
    [`${prefix}_CONFIG_DIR`]: path.join(dir, 'config'),
    [`${prefix}_DATA_DIR`]: dataDir,
    PIPECAT_CONFIG_PATH: options.configPath,
  }
  return {
    bin,
    dataDir,
    root,
    run: async (args, runOptions = {}) =>
      spawnNode(runOptions.script ?? path.join(root, 'bin', 'run.js'), args, {
        cwd: dir,
        env: cleanEnv({...hostEnv, ...runOptions.env}),
        timeoutMs: runOptions.timeoutMs ?? 60_000,
      }),
  }
}

export async function makeWorkDir(): Promise<{cleanup: () => Promise<void>; dir: string}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-host-'))
  return {cleanup: async () => rm(dir, {force: true, recursive: true}), dir}
}

/** Every file under `dir`, relative, with forward slashes. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true})
  return entries
  .filter(entry => entry.isFile())
  .map(entry => path.posix.join(prefix, path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')))
  .toSorted()
}

/** `pipecat` used as a command name (not Pipecat Cloud, pipecatcloud.toml, `@pipecat-ai`, PIPECAT_* or the host api.pipecat.daily.co). */
export const STANDALONE_BIN = /(?<![\w@\/\-.])pipecat(?![\w\-\/])/v

/**
 * The environment npm runs in here: the caller's, without the npm_* variables
 * an enclosing `npm test` sets (they would steer the inner npm), preferring
 * the npm cache over the registry.
 */
function npmEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {}
  for (const key of Object.keys(process.env)) {
    if (/^npm_/iv.test(key) && !/^npm_config_(?:cache|userconfig|registry)$/iv.test(key)) env[key] = undefined
  }

  return {
    ...env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  }
}

/** The npm that `@oclif/plugin-plugins` installs plugins with (a dependency of it), run with this Node. */
function npmCli(): string {
  const require = createRequire(path.join(ROOT, 'package.json'))
  return path.join(path.dirname(require.resolve('npm/package.json')), 'bin', 'npm-cli.js')
}

async function spawnNode(script: string, args: string[], options: {cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number}): Promise<CliResult> {
  const child = startProcess(process.execPath, [script, ...args], options)
  child.stdin.end()
  return child.result
}
