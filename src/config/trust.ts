/**
 * Whether the config file can be believed: its hosts and paths decide where
 * tokens are sent, so (as ssh treats its config) it must be ours or root's,
 * and neither it nor its folder writable by anyone else (a sticky folder such
 * as /tmp aside; a group that is the owner's private group aside).
 */
import type {Stats} from 'node:fs'

import {realpath, stat} from 'node:fs/promises'
import {userInfo} from 'node:os'
import nodePath from 'node:path'

import {ConfigFileError} from '../errors.js'
import {isPrivateGroup} from './private-group.js'

/**
 * Refuses a file (or its folder) someone else could have written: its hosts
 * and paths decide where tokens are sent. Only we (or root) may own them,
 * and neither may be writable by group or others (a folder may, with the
 * sticky bit, as /tmp: others cannot replace a file of ours there).
 */
export async function checkTrust(path: string, file: Stats | undefined): Promise<void> {
  const me = process.getuid?.()
  if (me === undefined) return
  const problems: string[] = []
  const fixes: string[] = []
  if (file) {
    const mode = file.mode % 0o1_0000
    if (file.uid !== me && file.uid !== 0) {
      problems.push(`it is owned by another user (uid ${file.uid})`)
      fixes.push(`\`chown ${ownerName(me)} ${path} && chmod 600 ${path}\``)
    } else if (isWritableByOthers(mode, file)) {
      problems.push(`it is writable by other users (mode ${octal(mode)})`)
      fixes.push(`\`chmod 600 ${path}\``)
    }
  }

  for (const folder of await folders(path)) {
    // eslint-disable-next-line no-await-in-loop -- one or two folders
    const stats = await stat(folder).catch(() => {})
    if (!stats) continue
    const mode = stats.mode % 0o1_0000
    if (stats.uid !== me && stats.uid !== 0) {
      problems.push(`its folder ${folder} is owned by another user (uid ${stats.uid})`)
      fixes.push(`\`chown ${ownerName(me)} ${folder} && chmod 700 ${folder}\``)
    } else if (isWritableByOthers(mode, stats) && !hasBit(mode, STICKY)) {
      problems.push(`its folder ${folder} is writable by other users (mode ${octal(mode)})`)
      fixes.push(`\`chmod go-w ${folder}\``)
    }
  }

  if (problems.length === 0) return
  throw new ConfigFileError(
    `The config file ${path} is not trusted: ${problems.join(' and ')}. `
    + 'Whoever can change it decides where your token is sent, so nothing in it was used.',
    {
      suggestion: `Check that its settings are yours (hosts, paths, organization tables), then run ${fixes.join(' and ')}; `
        + 'or set PIPECAT_CONFIG_PATH to a file of your own.',
    },
  )
}

/** The folder the path is in, and the one its symlink leads to if that differs. */
async function folders(path: string): Promise<string[]> {
  const given = nodePath.dirname(nodePath.resolve(path))
  const target = await realpath(path).then(real => nodePath.dirname(real)).catch(() => given)
  return target === given ? [given] : [given, target]
}

const STICKY = 0o1000

function hasBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1
}

/** Writable by others, or by a group that is not its owner's private group (Ubuntu's umask 002 makes folders 0775). */
function isWritableByOthers(mode: number, stats: Stats): boolean {
  return hasBit(mode, 0o002) || (hasBit(mode, 0o020) && !isPrivateGroup(stats.gid, stats.uid))
}

export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0')
}

/**
 * The name to give chown: ours, or our uid when the system has no name for it. Asked only for a
 * refusal: the lookup may go to a directory service (LDAP, sssd), which no trusted read should wait for.
 */
function ownerName(uid: number): string {
  try {
    return userInfo().username
  } catch {
    return String(uid)
  }
}
