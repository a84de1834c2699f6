/**
 * What bin/run.js and bin/dev.js do in a clone (never shipped: the packed
 * package has no scripts/), so that "npm install, then ./bin/run.js" works:
 *
 * - on Node older than 22, run again under the Node 22 the npm scripts keep
 *   in ~/.node22 (scripts/with-node.sh fetches it from the npm registry when
 *   it is not there yet), saying so in one line, as the npm scripts do;
 * - with no build yet, build first (`npm run build`), its output on stderr.
 *
 * Plain JavaScript: it runs before anything is compiled, on any Node.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const WITH_NODE = path.join(ROOT, 'scripts', 'with-node.sh')

/** Runs this process again under Node 22 from ~/.node22, with the same Node options and arguments; never returns. */
export function rerunUnderNode22() {
  const script = process.argv[1] ?? ''
  let bin
  try {
    bin = execFileSync(WITH_NODE, ['--bin', '22'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']}).trim()
  } catch {
    console.error(`Node.js ${process.version} is older than 22, and Node 22 could not be installed into ~/.node22 (see above). Install Node.js 22 and run ${script} with it.`)
    process.exit(1)
  }

  const node = path.join(bin, 'node')
  const version = execFileSync(node, ['--version'], {encoding: 'utf8'}).trim()
  console.error(`Node ${process.version} is older than 22: using Node ${version} from ${path.dirname(path.dirname(bin))} (npm registry).`)
  const env = {...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`}
  const result = spawnSync(node, [...process.execArgv, ...process.argv.slice(1)], {env, stdio: 'inherit'})
  if (result.signal) process.kill(process.pid, result.signal)
  process.exit(result.status ?? 1)
}

/** Builds dist/ when this clone has none yet (a fresh `npm install` does not build). */
export function buildIfMissing() {
  if (existsSync(path.join(ROOT, 'dist', 'commands'))) return
  console.error('No build in this clone yet: running `npm run build` first.')
  // Build output on stderr: stdout is the command's own (--json).
  const result = spawnSync('npm', ['run', 'build', '--silent'], {cwd: ROOT, stdio: ['ignore', 2, 2]})
  if (result.status !== 0) {
    console.error('The build failed (see above). Fix it, or run `npm install` again, then retry.')
    process.exit(1)
  }
}
