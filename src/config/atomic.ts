/**
 * How the config file is replaced without ever being lost or torn: a 0600
 * temporary file beside it, prepared first (its space written and synced, so a
 * full disk or `ulimit -f` fails before anything is spent), then the text,
 * fsync, rename, and the folder synced. Temporary files a killed process left
 * behind are swept under the lock.
 */
import {
  type FileHandle,
  open,
  readdir,
  rename,
  rm,
} from 'node:fs/promises'
import nodePath from 'node:path'

import {sleep} from '../wait.js'

/** Room kept for what a change adds (new tokens are a few KB at most), on top of the file's current size. */
const RESERVE_MARGIN = 8192
/** Tries of a commit that failed (a full disk a moment ago may have room now), and the pause between them. */
const COMMIT_TRIES = 3
const COMMIT_PAUSE_MS = 200

let isFileSizeSignalHandled = false

/**
 * Past `ulimit -f` the kernel sends SIGXFSZ, which kills the process mid-write by default. Handled, the
 * write fails with EFBIG instead, and is reported like a full disk.
 */
function handleFileSizeSignal(): void {
  if (isFileSizeSignalHandled || process.platform === 'win32') return
  isFileSizeSignalHandled = true
  process.on('SIGXFSZ', () => {})
}

/** `.pipecatcloud.toml.<pid>.<8 hex>.tmp`, beside the file. */
async function temporaryName(target: string): Promise<string> {
  // Loaded here, not at start-up: only writes need it.
  const {randomBytes} = await import('node:crypto')
  return nodePath.join(nodePath.dirname(target), `.${nodePath.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/** A write failed; `cause` is the system error, `reason` it in words. */
export class WriteFailure extends Error {
  constructor(
    readonly reason: string,
    options: {cause: unknown},
  ) {
    super(reason, options)
  }
}

/** A temporary file holding room for the new text; commit() or discard() ends it. */
export class PreparedWrite {
  private isDone = false

  private constructor(
    private readonly target: string,
    private readonly temporary: string,
    private handle: FileHandle | undefined,
  ) {}

  /** Creates the temporary file beside `target`, with room for `size` bytes and more written and synced. WriteFailure if it cannot. */
  static async prepare(target: string, size: number): Promise<PreparedWrite> {
    handleFileSizeSignal()
    const temporary = await temporaryName(target)
    let handle: FileHandle | undefined
    try {
      handle = await open(temporary, 'wx', 0o600)
      await writeAll(handle, Buffer.alloc(size + RESERVE_MARGIN, ' '))
      await handle.sync()
      return new PreparedWrite(target, temporary, handle)
    } catch (error) {
      await handle?.close().catch(() => {})
      await rm(temporary, {force: true})
      throw new WriteFailure(systemReason(error), {cause: error})
    }
  }

  /**
   * Writes `text` over the room kept, syncs, and renames it over the target; tried again after a pause
   * when it fails. WriteFailure when it still fails (the target is then as it was).
   */
  async commit(text: string): Promise<void> {
    let failure: unknown
    for (let attempt = 1; attempt <= COMMIT_TRIES; attempt++) {
      try {
        // eslint-disable-next-line no-await-in-loop -- tries are sequential by nature
        await this.commitOnce(text)
        return
      } catch (error) {
        failure = error
        // eslint-disable-next-line no-await-in-loop -- the pause between tries
        if (attempt < COMMIT_TRIES) await sleep(COMMIT_PAUSE_MS)
      }
    }

    await this.discard()
    throw new WriteFailure(systemReason(failure), {cause: failure})
  }

  /** Removes the temporary file unless it was committed. */
  async discard(): Promise<void> {
    if (this.isDone) return
    this.isDone = true
    await this.handle?.close().catch(() => {})
    this.handle = undefined
    await rm(this.temporary, {force: true})
  }

  private async commitOnce(text: string): Promise<void> {
    // A try after a failed rename starts from a fresh file (the handle was closed).
    this.handle ??= await open(this.temporary, 'r+')
    const bytes = Buffer.from(text)
    await writeAll(this.handle, bytes)
    await this.handle.truncate(bytes.length)
    await this.handle.sync()
    await this.handle.close()
    this.handle = undefined
    await rename(this.temporary, this.target)
    this.isDone = true
    await syncDirectory(nodePath.dirname(this.target))
  }
}

/** Writes all of `bytes` from the start of the file: one write may take only part of them (a disk filling up). */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    // eslint-disable-next-line no-await-in-loop -- each write goes on where the last one stopped
    const {bytesWritten} = await handle.write(bytes, offset, bytes.length - offset, offset)
    offset += bytesWritten
  }
}

/** Whether a process with this id is running (EPERM: it is, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes temporary files of this program beside `target` whose process is gone (killed mid-write); called under the lock. */
export async function sweepTemporaryFiles(target: string): Promise<void> {
  const folder = nodePath.dirname(target)
  const base = nodePath.basename(target)
  const names = await readdir(folder).catch(() => [] as string[])
  const removals = names.map(async name => {
    const match = /^\.(?<base>.+)\.(?<pid>\d+)\.[\da-f]{8}\.tmp$/v.exec(name)
    if (match?.groups?.base !== base) return
    const pid = Number(match.groups.pid)
    if (pid === process.pid || isRunning(pid)) return
    await rm(nodePath.join(folder, name), {force: true})
  })
  await Promise.all(removals)
}

async function syncDirectory(directory: string): Promise<void> {
  // Makes the rename itself durable; not every file system allows it, and the data is already safe.
  try {
    const handle = await open(directory, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {}
}

export function systemReason(error: unknown): string {
  const {code, message} = error as NodeJS.ErrnoException
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'the file size limit was reached (ulimit -f)',
    EIO: 'an input/output error (the disk may be failing)',
    EISDIR: 'it is a directory',
    ELOOP: 'too many levels of symbolic links',
    ENOSPC: 'no space left on the device',
    ENOTDIR: 'a part of the path is not a folder',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
  }
  return (code && reasons[code]) ?? message
}
