/**
 * What oclif is handed where this plugin is the CLI (bin/run.js, bin/dev.js;
 * never in a host, which runs its own bin): the package.json, with three changes.
 *
 * - A `command_not_found` hook, so that a mistyped top-level command
 *   (`pipecat clod`) reads as one below a topic does. Never in package.json
 *   itself: oclif runs every plugin's hook and the first that returns decides,
 *   so in a host the host's own handler must stay the only one.
 * - No init hook: it checks the Node version for a host, which bin/run.js
 *   has done before anything loaded (a file less to load, about 1 ms).
 * - For `pipecat cloud ...`, no other plugin: the cloud commands and their help
 *   (oclif's own Help class) need neither `help` nor, standalone,
 *   `autocomplete`, and loading them is 3-6 ms of every command.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

type PackageJson = {oclif: {hooks?: Record<string, string | string[]>; plugins?: string[]}}

const ROOT_HOOK = './dist/hooks/command-not-found/root'

export function rootLoadOptions(root: string, argv: string[]): {isRoot: true; pjson: PackageJson; root: string} {
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson
  const hooks = Object.entries(pjson.oclif.hooks ?? {}).filter(([event]) => event !== 'init')
  pjson.oclif.hooks = {...Object.fromEntries(hooks), command_not_found: ROOT_HOOK}
  if (argv[0] === 'cloud') pjson.oclif.plugins = []
  return {isRoot: true, pjson, root}
}

// bin/run.js imports this one file before oclif: the collator shortcut comes with it.
export {installLocaleCompare} from './locale-compare.js'
