#!/usr/bin/env node
// Checked before anything else is loaded: on older Node, @oclif/core and
// node:module's compile cache fail with a stack trace instead of this line.
import {existsSync} from 'node:fs'
import path from 'node:path'
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

// oclif's first sort of command IDs would build an ICU collator (7 ms): src/start-up/locale-compare.ts.
const {installLocaleCompare} = await import('../dist/start-up/locale-compare.js')
installLocaleCompare()

const {execute} = await import('@oclif/core')
const {readFile} = await import('node:fs/promises')

// Here the plugin is the CLI: a mistyped top-level command is ours to report (src/hooks/command-not-found/root.ts).
// In a host this file never runs, and the host's own handler stays the only one.
const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'))
// eslint-disable-next-line camelcase -- oclif's name for the event
pjson.oclif.hooks = {...pjson.oclif.hooks, command_not_found: './dist/hooks/command-not-found/root'}
// `pipecat cloud ...` is one of this plugin's commands (or its help, oclif's own), which need no other plugin:
// `help` (and `autocomplete`, standalone) load for the other words only. That is 3-6 ms of every cloud command.
if (process.argv[2] === 'cloud') pjson.oclif.plugins = []

// `pipecat ... | head` closes stdout early: end quietly, as other CLIs do.
process.stdout.on('error', error => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

await execute({loadOptions: {isRoot: true, pjson, root}})
