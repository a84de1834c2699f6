/**
 * The JavaScript in dist/, bundled with esbuild (`npm run build` runs it after
 * `tsc`, which writes only the type declarations). Loading a few files instead
 * of a hundred ES modules is most of what start-up costs (docs/architecture.md,
 * "Build").
 *
 * - One self-contained file per command and hook, at the path oclif's manifest
 *   and pattern discovery expect (dist/commands/cloud/config.js, ...), plus
 *   dist/index.js. A process runs one command, so one file is all it loads of
 *   ours: code splitting (shared chunks) measured 5-10 ms slower. Code behind a
 *   dynamic import() (the flows) is in the file but runs only when imported.
 * - `got` and `@decimalturn/toml-patch` are bundled on their own into
 *   dist/vendor/, imported as `#vendor/got` and `#vendor/toml-patch` (package.json
 *   "imports"), so that a test can see which commands load them.
 * - External: `@oclif/core` (the host CLI's own copy), `open` (it runs the
 *   xdg-open script it ships) and `proper-lockfile` (CommonJS, loaded only to
 *   write the config file).
 */
import {build, type Plugin} from 'esbuild'
import {readdir} from 'node:fs/promises'
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

async function entryPoints(): Promise<string[]> {
  const found = await readdir(SRC, {recursive: true})
  const entries = found.filter(file => /^(?:commands|hooks|start-up)[\\\/].+\.ts$/v.test(file) && !file.endsWith('.d.ts'))
  return ['index.ts', ...entries].map(file => path.join(SRC, file))
}

await Promise.all([
  build({
    ...COMMON,
    banner: REQUIRE_BANNER,
    entryPoints: await entryPoints(),
    external: EXTERNAL,
    outbase: SRC,
    outdir: DIST,
    plugins: [builtinsViaRequire, vendorImports],
  }),
  build({
    ...COMMON,
    banner: REQUIRE_BANNER,
    entryPoints: VENDOR_FILES,
    outdir: path.join(DIST, 'vendor'),
    plugins: [builtinsViaRequire, lazyListFormat],
  }),
])
