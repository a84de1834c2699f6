/**
 * Symbolic links at the config path. In a folder others may write to (with
 * the sticky bit, as /tmp; without it the folder is refused outright), anyone
 * can plant `pipecatcloud.toml -> ~victim/precious` before the file exists:
 * such a link is refused unless it is the user's own (or root's), and a write
 * goes to the path resolved when the file was read, never through a link
 * planted since.
 */
import {
  type FileHandle,
  lstat,
  readlink,
  realpath,
  stat,
} from 'node:fs/promises'
import nodePath from 'node:path'

/** Why the link at `file` must not be followed, or undefined: a link another user owns, in a folder others may write to. */
export async function foreignLinkProblem(file: string): Promise<string | undefined> {
  const me = process.getuid?.()
  if (me === undefined) return undefined
  const link = await lstat(file).catch(() => {})
  if (!link?.isSymbolicLink() || link.uid === me || link.uid === 0) return undefined
  const folder = nodePath.dirname(nodePath.resolve(file))
  const folderStats = await stat(folder).catch(() => {})
  // eslint-disable-next-line no-bitwise -- mode bits
  if (!folderStats || (folderStats.mode & 0o022) === 0) return undefined
  return `it is a symbolic link owned by another user (uid ${link.uid}) in ${folder}, a folder other users can write to, `
    + 'so it was not followed'
}

/** The path of the file a handle has open (Linux: /proc/self/fd), else the path as resolved now. */
export async function openedPath(handle: FileHandle, file: string): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`)
  } catch {
    return realpath(file).catch(() => file)
  }
}
