#!/usr/bin/env node
// Checked before anything else is loaded: on older Node, @oclif/core and
// node:module's compile cache fail with a stack trace instead of this line.
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

// A clone (src/ beside bin/, never in the package) runs under ~/.node22 and builds itself first when needed.
const clone = existsSync(new URL('../src', import.meta.url)) ? new URL('../scripts/clone.mjs', import.meta.url) : undefined
const major = Number(process.versions.node.split('.', 1)[0])
if (major < 22) {
  if (clone) (await import(clone)).rerunUnderNode22()
  console.error(`pipecat needs Node.js 22 or newer, but this is Node.js ${process.version} (${process.execPath}). Install Node.js 22 (https://nodejs.org or your package manager), or use the standalone pipecat build, which includes it.`)
  process.exit(1)
}

if (clone && !existsSync(new URL('../dist/commands', import.meta.url))) (await import(clone)).buildIfMissing()

// Cache compiled code between runs: start-up is most of what these commands cost.
const {enableCompileCache} = await import('node:module')
enableCompileCache?.()

// A user with no passwd entry (docker run --user 1234) and no SHELL: oclif asks os.userInfo() for the shell,
// which throws there. SHELL is what it reads first, so say it for it.
if (!process.env.SHELL) {
  const {userInfo} = await import('node:os')
  try {
    userInfo()
  } catch {
    process.env.SHELL = '/bin/sh'
  }
}

const {installLocaleCompare, rootLoadOptions} = await import('../dist/start-up/root.js')
// oclif's first sort of command IDs would build an ICU collator (7 ms): src/start-up/locale-compare.ts.
installLocaleCompare()
// Here the plugin is the CLI: what oclif is handed for that (src/start-up/root.ts).
const loadOptions = rootLoadOptions(fileURLToPath(new URL('..', import.meta.url)), process.argv.slice(2))

const {execute} = await import('@oclif/core')

// `pipecat ... | head` closes stdout early: end quietly, as other CLIs do.
process.stdout.on('error', error => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

await execute({loadOptions})
