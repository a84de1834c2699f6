/**
 * The config file shared with the official Pipecat Cloud CLI: where it lives,
 * how it is read and validated (only a regular file no one else could have
 * written), and how it is written (atomically, 0600, under a cross-process
 * lock, re-read inside the lock).
 */
import {constants, type Stats} from 'node:fs'
import {
  type FileHandle,
  mkdir,
  open,
  realpath,
  rename,
  stat,
} from 'node:fs/promises'
import nodePath from 'node:path'
import {stringify} from 'smol-toml'

import {ConfigFileError, MalformedConfigError} from '../errors.js'
import {uninterrupted} from '../interrupt.js'
import {
  PreparedWrite,
  sweepTemporaryFiles,
  systemReason,
  WriteFailure,
} from './atomic.js'
import {repairBinding} from './binding.js'
import {type ConfigData} from './data.js'
import {foreignLinkProblem, openedPath} from './links.js'
import {acquireLock, type HeldLock, releaseLock} from './lock.js'
import {decodeUtf8, parseConfig} from './parse.js'
import {checkTrust, octal} from './trust.js'

export type {HeldLock} from './lock.js'
export {defaultConfigPath, parseConfig} from './parse.js'

export type ConfigSnapshot = {
  data: ConfigData;
  exists: boolean;
  /** The file as it was read (device, inode, size, modification time): a write first checks nobody changed it since. */
  identity?: string;
  /** The file's text as read, which a write edits in place; undefined when there is no file. */
  text?: string;
  /** Why a token in the file must not be used (permissions we could not repair), if any. */
  tokenUnusable?: string;
}

export type ConfigStoreOptions = {
  /** Ctrl-C: aborts waiting for the lock, and is reported after a write it arrived during. */
  signal?: AbortSignal;
  /** Where warnings go (a repaired file mode). */
  warn?: (message: string) => void;
}

export class ConfigStore {
  /**
   * Where the file was when last read, through any symlink (null: there was none);
   * writes go there, never through a link planted since.
   */
  private readAt?: null | string
  private readonly signal?: AbortSignal
  private readonly warn: (message: string) => void

  constructor(
    readonly path: string,
    options: ConfigStoreOptions = {},
  ) {
    this.signal = options.signal
    this.warn = options.warn ?? (() => {})
  }

  /**
   * Logout on a malformed file: under the lock, re-read, and only if it is
   * still malformed (not fixed or removed meanwhile), move it aside to a
   * timestamped backup beside it, leaving no file: nothing is lost, and the
   * next login starts clean. Returns the backup's path; null when the file
   * was no longer malformed.
   */
  async resetMalformed(): Promise<null | string> {
    return this.withLock(async () => {
      try {
        await this.read()
        return null
      } catch (error) {
        if (!(error instanceof MalformedConfigError)) throw error
      }

      const stamp = new Date().toISOString().replaceAll(/[:.]/gv, '-')
      const target = `${this.path}.bak-${stamp}`
      await rename(this.path, target)
      return target
    })
  }

  async read(): Promise<ConfigSnapshot> {
    await this.refuseForeignLink()
    const opened = await this.openRegular()
    this.readAt = opened ? await openedPath(opened.handle, this.path) : null
    if (!opened) return {data: {}, exists: false}
    const {handle, stats} = opened
    try {
      await checkTrust(this.path, stats)
      const bytes = await handle.readFile().catch((error: unknown) => {
        throw this.readError(error)
      })
      const tokenUnusable = await this.repairPermissions(handle, stats)
      const text = decodeUtf8(bytes, this.path)
      return {
        data: parseConfig(text, this.path), exists: true, identity: identityOf(stats), text, tokenUnusable,
      }
    } finally {
      await handle.close()
    }
  }

  /**
   * Read-modify-write under the cross-process lock. The file is re-read inside
   * the lock so that concurrent commands never lose each other's updates.
   * `change` returns the new document, or undefined to write nothing. The
   * write's room is made before `change` runs (a full disk fails before it
   * spends anything). If the file changed after it was read (a lock broken as
   * stale: this process was stopped) nothing is written over it: the lock is
   * taken again and `change` runs again on the file as it is, so it must give
   * the same answer for the same file.
   */
  async update<T>(change: Change<T>): Promise<T> {
    for (let round = 1; ; round++) {
      // eslint-disable-next-line no-await-in-loop -- rounds are sequential by nature
      const outcome = await this.withLock(async lock => {
        this.signal?.throwIfAborted()
        const snapshot = await this.read()
        return this.writeOver(snapshot, lock, change)
      })
      if (outcome) return outcome.result
      if (round >= UPDATE_ROUNDS) {
        const reason = 'another command kept changing it while this one was saving'
        throw new ConfigFileError(`Could not save the config file ${this.path}: ${reason}.`, {
          suggestion: 'Let the other commands finish, then try again.',
        })
      }
    }
  }

  /** Runs `work` holding the lock on the config file (stale locks from crashed or stopped processes are broken after 10 s). */
  async withLock<T>(work: (lock: HeldLock) => Promise<T>): Promise<T> {
    // Before any lock or folder is made beside it: nothing is written where it could not be read back.
    await this.inspect()
    await this.ensureDirectory()
    const held: HeldLock = {compromised: false}
    const release = await acquireLock(this.path, held, this.signal)
    try {
      await sweepTemporaryFiles(await this.writeTarget())
      return await work(held)
    } finally {
      await releaseLock(release)
    }
  }

  /**
   * Writes the document atomically: a 0600 temp file in the same folder, fsync,
   * rename. Ctrl-C waits for it to finish, then is reported. Given the
   * snapshot it was made from, only the top-level keys that differ are
   * rewritten in the file's own text; everything else keeps its bytes.
   */
  async write(data: ConfigData, base?: ConfigSnapshot): Promise<void> {
    const text = await configText(repairBinding(data), this.path, base)
    await this.ensureDirectory()
    const prepared = await this.prepare(text.length)
    await this.commit(prepared, text)
  }

  /** Commits the prepared write; Ctrl-C waits for it, then is reported. */
  private async commit(prepared: PreparedWrite, text: string): Promise<void> {
    await uninterrupted(async () => prepared.commit(text).catch((error: unknown) => {
      throw this.writeError(error, 'Free some disk space or fix the folder permissions, then try again.')
    }))
    this.signal?.throwIfAborted()
  }

  /** Whether the file is no longer the one the snapshot was read from. */
  private async hasChanged(snapshot: ConfigSnapshot): Promise<boolean> {
    const now = await stat(this.path).then(identityOf).catch(() => {})
    return now !== (snapshot.exists ? snapshot.identity : undefined)
  }

  private async prepare(size: number): Promise<PreparedWrite> {
    const target = await this.writeTarget()
    return uninterrupted(async () => PreparedWrite.prepare(target, size)).catch((error: unknown) => {
      throw this.writeError(error, 'Free some disk space or fix the folder permissions, then try again (nothing was changed).')
    })
  }

  private writeError(error: unknown, suggestion: string): ConfigFileError {
    const reason = error instanceof WriteFailure ? error.reason : systemReason(error)
    return new ConfigFileError(`Could not save the config file ${this.path}: ${reason}`, {cause: error, suggestion})
  }

  /** One round of update(): room made, `change` run, and its document written unless the file changed meanwhile (undefined). */
  private async writeOver<T>(
    snapshot: ConfigSnapshot,
    lock: HeldLock,
    change: Change<T>,
  ): Promise<undefined | {result: T}> {
    const prepared = await this.prepare(snapshot.text?.length ?? 0)
    try {
      const {data, result} = await change(snapshot)
      if (!data) return {result}
      const text = await configText(repairBinding(data), this.path, snapshot)
      // A lock broken as stale, or anyone else's write: what was read is not what is there.
      if (lock.compromised || (await this.hasChanged(snapshot))) return undefined
      await this.commit(prepared, text)
      return {result}
    } finally {
      await prepared.discard()
    }
  }

  private async ensureDirectory(): Promise<void> {
    const directory = nodePath.dirname(this.path)
    try {
      await mkdir(directory, {mode: 0o700, recursive: true})
    } catch (error) {
      throw new ConfigFileError(`Could not create the folder ${directory}: ${systemReason(error)}`, {
        cause: error,
        suggestion: 'Check the folder permissions, or set PIPECAT_CONFIG_PATH to a writable location.',
      })
    }
  }

  /** Before writing: whatever is at the path must be a file we would read, in a folder we would trust. */
  private async inspect(): Promise<void> {
    await this.refuseForeignLink()
    let stats: Stats
    try {
      stats = await stat(this.path)
    } catch (error) {
      // Nothing there yet (a part of the path that is not a folder is for ensureDirectory to report).
      const {code} = error as NodeJS.ErrnoException
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw this.readError(error)
      return checkTrust(this.path, undefined)
    }

    if (!stats.isFile()) throw this.notRegular(stats)
    return checkTrust(this.path, stats)
  }

  private notRegular(stats: Stats): ConfigFileError {
    const kind = stats.isDirectory()
      ? 'it is a directory'
      : `it is ${nodeKind(stats)}, not a regular file`
    return new ConfigFileError(`Could not read the config file ${this.path}: ${kind}.`, {
      suggestion: 'It was left as it is. Move it out of the way, or set PIPECAT_CONFIG_PATH to a regular file.',
    })
  }

  /**
   * Opens the file for reading if it is a regular file (through symlinks);
   * undefined when there is none. Checked before opening (opening a device
   * can do things) and again on the open file; non-blocking, so a FIFO
   * swapped in between cannot hang the command.
   */
  private async openRegular(): Promise<undefined | {handle: FileHandle; stats: Stats}> {
    const before = await stat(this.path).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw this.readError(error)
    })
    if (!before) return undefined
    if (!before.isFile()) throw this.notRegular(before)
    let handle: FileHandle
    try {
      // eslint-disable-next-line no-bitwise -- open(2) flags are a bit set
      handle = await open(this.path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw this.readError(error)
    }

    const stats = await handle.stat()
    if (stats.isFile()) return {handle, stats}
    await handle.close()
    throw this.notRegular(stats)
  }

  private readError(error: unknown): ConfigFileError {
    const {code} = (error as NodeJS.ErrnoException)
    return new ConfigFileError(`Could not read the config file ${this.path}: ${systemReason(error)}`, {
      cause: error,
      suggestion:
        code === 'EISDIR' || code === 'ELOOP'
          ? 'Move it out of the way, or set PIPECAT_CONFIG_PATH to a file.'
          : `Check its permissions (\`chmod 600 ${this.path}\`).`,
    })
  }

  /**
   * Group- or world-readable credentials of ours are fixed to 0600 (on the
   * open file); someone else's file is never changed, even by root. If it
   * stays readable, the token must not be used.
   */
  private async repairPermissions(handle: FileHandle, stats: Stats): Promise<string | undefined> {
    if (process.platform === 'win32') return undefined
    const permissions = stats.mode % 0o1000
    if (permissions % 0o100 === 0) return undefined
    const was = octal(permissions)
    if (stats.uid === process.getuid?.()) {
      try {
        await handle.chmod(0o600)
        this.warn(`The config file ${this.path} was accessible to other users (mode ${was}); its permissions are now 0600.`)
        return undefined
      } catch {}
    }

    return `${this.path} is accessible to other users (mode ${was}) and its permissions could not be fixed. `
      + `Run \`chmod 600 ${this.path}\`.`
  }

  /** A symlink at the path that another user planted where others can write: ConfigFileError. */
  private async refuseForeignLink(): Promise<void> {
    const problem = await foreignLinkProblem(this.path)
    if (!problem) return
    throw new ConfigFileError(`The config file ${this.path} is not trusted: ${problem}.`, {
      suggestion: 'Nothing was read or written. '
        + 'Set PIPECAT_CONFIG_PATH to a file in a folder of your own, or ask whoever made the link to remove it.',
    })
  }

  /**
   * Writes go through a symlinked config file to its target, so dotfile managers keep their link: the target
   * as resolved when the file was read, or the path itself when there was no file then (a link planted since is replaced,
   * not followed).
   */
  private async writeTarget(): Promise<string> {
    if (this.readAt !== undefined) return this.readAt ?? this.path
    try {
      return await realpath(this.path)
    } catch {
      return this.path
    }
  }
}

/**
 * The new file's text: the snapshot's text with the changed keys edited (see
 * patch.ts), or without a file, the document written whole. Written whole
 * too when the editor cannot edit a file our parser reads (its comments are
 * lost, the data is not).
 */
async function configText(data: ConfigData, file: string, base?: ConfigSnapshot): Promise<string> {
  // Loaded here, not at start-up: only writes need it.
  const {applyEdits, topLevelEdits} = await import('./patch.js')
  const read = (text: string) => parseConfig(text, file)
  if (base?.text !== undefined) {
    const edits = topLevelEdits(base.data, data)
    if (edits.size === 0) return base.text
    try {
      return await applyEdits(base.text, edits, data, read)
    } catch {}
  }

  // The expiry is added to the written document as the editor writes it: a float.
  const {token_expires_at: expiry, ...rest} = data
  const text = stringify(rest)
  if (expiry === undefined) return text
  return applyEdits(text, new Map([['token_expires_at', expiry]]), data, read).catch(() => stringify(data))
}

/** What update() runs on the file as read: the new document (none: write nothing) and the result. */
type Change<T> = (snapshot: ConfigSnapshot) => Promise<{data?: ConfigData; result: T}> | {data?: ConfigData; result: T}

/** The lock as this process holds it: `compromised` once another command broke it as stale. */

/** How many times update() reads, changes and writes when the file keeps changing under it. */
const UPDATE_ROUNDS = 3

/** The identity of the file a snapshot was read from. */
function identityOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`
}

/** How often to try for a lock another command holds (about 25 s in all, backing off to 250 ms). */

/** Releases the lock as one step Ctrl-C cannot split (a lock left behind would block the next command for 10 s). */

/** What a node that is not a regular file or a directory is, for a message. */
function nodeKind(stats: Stats): string {
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  if (stats.isFIFO()) return 'a FIFO (named pipe)'
  if (stats.isSocket()) return 'a socket'
  return 'an unknown kind of file'
}

