/**
 * The JavaScript in dist/, bundled with esbuild (`npm run build` runs it after
 * `tsc`, which writes only the type declarations). Loading a few files instead
 * of a hundred ES modules is most of what start-up costs (docs/architecture.md,
 * "Build").
 *
 * - The commands' code in one file, dist/plugin.js, so each module exists
 *   once. Code behind a dynamic import() (the flows) is in it but runs only
 *   when imported. At the paths oclif's manifest and pattern discovery expect
 *   (dist/commands/cloud/config.js, ...), and at dist/index.js, small generated
 *   files re-export from it. (Per-command bundles would each carry their own
 *   copy of shared modules; esbuild's code splitting loads a dozen chunks,
 *   5-10 ms slower.)
 * - The init hook on its own (it runs before every command of a host CLI:
 *   small), and src/start-up/locale-compare.ts (bin/run.js, before oclif).
 * - `got` and `@decimalturn/toml-patch` are bundled on their own into
 *   dist/vendor/, imported as `#vendor/got` and `#vendor/toml-patch` (package.json
 *   "imports"), so that a test can see which commands load them.
 * - External: `@oclif/core` (the host CLI's own copy), `open` (it runs the
 *   xdg-open script it ships) and `proper-lockfile` (CommonJS, loaded only to
 *   write the config file).
 */
import {build, type Plugin} from 'esbuild'
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SRC = path.join(ROOT, 'src')
const DIST = path.join(ROOT, 'dist')

/** Packages bundled into dist/vendor/NAME.js and imported as #vendor/NAME. */
const VENDOR: Record<string, string> = {
  '@decimalturn/toml-patch': 'toml-patch',
  got: 'got',
}

/** dist/vendor/NAME.js: the package it bundles. */
const VENDOR_FILES = Object.fromEntries(Object.entries(VENDOR).map(([name, file]) => [file, name]))

const EXTERNAL = ['@oclif/core', 'open', 'proper-lockfile']

const COMMON = {
  bundle: true,
  format: 'esm',
  logLevel: 'warning',
  platform: 'node',
  target: 'node22',
} as const

/** `got` and the TOML editor as #vendor/NAME imports (resolved by package.json "imports"). */
const vendorImports: Plugin = {
  name: 'vendor-imports',
  setup(builder) {
    // eslint-disable-next-line require-unicode-regexp -- a Go regular expression (esbuild), without JavaScript flags
    builder.onResolve({filter: /^(?:got|@decimalturn\/toml-patch)$/}, ({path: name}) => ({external: true, path: `#vendor/${VENDOR[name]}`}))
  },
}

/**
 * `@sindresorhus/is` (a dependency of got) builds two Intl.ListFormat objects when it is
 * imported, for one error message: about 15 ms of every command that sends a request.
 * Built on first use instead.
 */
const lazyListFormat: Plugin = {
  name: 'lazy-list-format',
  setup(builder) {
    // eslint-disable-next-line require-unicode-regexp -- a Go regular expression (esbuild)
    builder.onLoad({filter: /[\\/]@sindresorhus[\\/]is[\\/]distribution[\\/]index\.js$/}, async ({path: file}) => {
      const {readFile} = await import('node:fs/promises')
      const source = await readFile(file, 'utf8')
      const eager = /^const (\w+) = new Intl\.ListFormat\(([^;]+)\);$/gmv
      if (!eager.test(source)) console.warn(`bundle: no eager Intl.ListFormat left in ${file} (nothing to defer)`)
      const contents = source.replaceAll(eager, 'let $1Lazy;\nconst $1 = {format: list => ($1Lazy ??= new Intl.ListFormat($2)).format(list)};')
      return {contents, loader: 'js'}
    })
  },
}

/**
 * node:http and node:https through require(): an ES module import of node:http builds
 * its ES module namespace, which reads http's lazy WebSocket getters and so loads
 * Node's undici (about 35 ms of CPU on Node 22) for nothing.
 */
const builtinsViaRequire: Plugin = {
  name: 'builtins-via-require',
  setup(builder) {
    // eslint-disable-next-line require-unicode-regexp -- a Go regular expression (esbuild)
    builder.onResolve({filter: /^(?:node:)?https?$/}, ({namespace, path: name}) =>
      // The require() inside the stand-in itself is Node's.
      namespace === 'builtin-require' ? {external: true, path: name} : {namespace: 'builtin-require', path: name.startsWith('node:') ? name : `node:${name}`},
    )
    // eslint-disable-next-line require-unicode-regexp -- a Go regular expression (esbuild)
    builder.onLoad({filter: /.*/, namespace: 'builtin-require'}, ({path: name}) => ({contents: `module.exports = require(${JSON.stringify(name)})`, loader: 'js'}))
  },
}

/** Defines require() in every output file, for builtinsViaRequire and the CommonJS parts of got's dependencies. */
const REQUIRE_BANNER = {js: "import {createRequire as bundleRequire} from 'node:module';\nconst require = bundleRequire(import.meta.url);"}

/** The modules under src/DIR/ (commands, hooks), relative to src/. */
async function modules(dir: string): Promise<string[]> {
  const found = await readdir(path.join(SRC, dir), {recursive: true})
  return found.filter(file => file.endsWith('.ts') && !file.endsWith('.d.ts')).map(file => path.join(dir, file)).toSorted()
}

/** dist/FILE.js for src/FILE.ts: it imports dist/plugin.js and hands oclif its module's default export. */
async function stub(file: string, index: number): Promise<void> {
  const out = path.join(DIST, file.replace(/\.ts$/v, '.js'))
  const plugin = path.relative(path.dirname(out), path.join(DIST, 'plugin.js')).split(path.sep).join('/').replace(/^(?!\.)/v, './')
  await mkdir(path.dirname(out), {recursive: true})
  await writeFile(out, `// Generated by scripts/bundle.ts: the code is in dist/plugin.js.\nimport {m${index}} from '${plugin}'\n\nexport default m${index}.default\n`)
}

const files = await modules('commands')
// dist/plugin.js: every command module as a namespace m0, m1, ..., and the package's exports (src/index.ts).
const entry = [...files.map((file, index) => `export * as m${index} from './${file.split(path.sep).join('/')}'`), "export * from './index.ts'"].join('\n')
const [plugin] = await Promise.all([
  build({
    ...COMMON,
    banner: REQUIRE_BANNER,
    external: EXTERNAL,
    metafile: true,
    outfile: path.join(DIST, 'plugin.js'),
    plugins: [builtinsViaRequire, vendorImports],
    stdin: {
      contents: entry, loader: 'ts', resolveDir: SRC, sourcefile: 'plugin.ts',
    },
  }),
  // Small files of their own: the hooks (the init hook runs before every command of a host CLI), and what bin/run.js runs before oclif loads.
  build({
    ...COMMON,
    entryPoints: [...(await modules('hooks')), path.join('start-up', 'root.ts')].map(file => path.join(SRC, file)),
    external: EXTERNAL,
    outbase: SRC,
    outdir: DIST,
  }),
  build({
    ...COMMON,
    banner: REQUIRE_BANNER,
    entryPoints: VENDOR_FILES,
    outdir: path.join(DIST, 'vendor'),
    plugins: [builtinsViaRequire, lazyListFormat],
  }),
])
await Promise.all(files.map(async (file, index) => stub(file, index)))
// dist/index.js (the package's main): the names src/index.ts exports, from dist/plugin.js.
const exported = Object.values(plugin.metafile.outputs).flatMap(output => output.exports).filter(name => !/^m\d+$/v.test(name))
await writeFile(path.join(DIST, 'index.js'), `// Generated by scripts/bundle.ts: the code is in dist/plugin.js.\nexport {${exported.toSorted().join(', ')}} from './plugin.js'\n`)
