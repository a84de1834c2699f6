/**
 * Whether a group is its owner's private group, as Debian's OpenSSH decides
 * before it accepts a group-writable file: the group has exactly one member,
 * the owner (as primary group or as the one listed member). Ubuntu and Debian
 * give every user such a group and a umask of 002, so folders the official
 * CLI makes there are group-writable without anyone else being able to write.
 * Read from /etc/passwd and /etc/group; a group known only to a directory
 * service (LDAP, sssd) is not found there, and stays refused.
 */
import {readFileSync} from 'node:fs'

/** The two databases, as text: /etc/passwd and /etc/group. */
export type AccountFiles = {group: string; passwd: string}

function systemFiles(): AccountFiles | undefined {
  try {
    return {group: readFileSync('/etc/group', 'utf8'), passwd: readFileSync('/etc/passwd', 'utf8')}
  } catch {
    return undefined
  }
}

function entries(text: string): string[][] {
  return text.split('\n').filter(line => line.trim() !== '' && !line.startsWith('#')).map(line => line.split(':'))
}

/** `files`: the databases to read (default: the system's); null when they cannot be read. */
export function isPrivateGroup(gid: number, ownerUid: number, files: AccountFiles | null = systemFiles() ?? null): boolean {
  if (!files) return false
  const users = entries(files.passwd)
  const groups = entries(files.group)
  const group = groups.find(fields => Number(fields[2]) === gid)
  const owner = users.find(fields => Number(fields[2]) === ownerUid)
  if (!group || !owner) return false
  const primaryMembers = users.filter(fields => Number(fields[3]) === gid)
  if (primaryMembers.some(fields => Number(fields[2]) !== ownerUid)) return false
  const listed = (group[3] ?? '').split(',').filter(Boolean)
  if (listed.some(name => name !== owner[0])) return false
  return primaryMembers.length + listed.length > 0
}
