/**
 * The cross-process lock on the config file: `<path>.lock`, a directory made by
 * proper-lockfile, broken as stale after 10 s. Taking and releasing it are
 * steps Ctrl-C cannot split. A lock another command broke while this one was
 * stopped is reported as compromised, and the holder must not write.
 */
import {ConfigFileError} from '../errors.js'
import {uninterrupted} from '../interrupt.js'
import {sleep} from '../wait.js'

export type HeldLock = {compromised: boolean}

/** How often to try for a lock another command holds (about 25 s in all, backing off to 250 ms). */
const LOCK_ATTEMPTS = 120

/**
 * Takes the lock, waiting while another command holds it. Each attempt is
 * one step Ctrl-C cannot split (a lock taken but not yet registered for
 * removal at exit would be left behind); the waits between them stay
 * interruptible.
 */
export async function acquireLock(path: string, held: HeldLock, signal?: AbortSignal): Promise<() => Promise<void>> {
  // Loaded here, not at start-up: `cloud config` and --help never lock.
  const {lock} = await import('proper-lockfile')
  const options = {
    lockfilePath: `${path}.lock`,
    // Another command broke it as stale (this one was stopped): this one must not write on what it read.
    onCompromised() {
      held.compromised = true
    },
    realpath: false,
    retries: 0,
    stale: 10_000,
  }
  /* eslint-disable no-await-in-loop -- attempts are sequential by nature */
  for (let attempt = 0, delay = 15; ; attempt++, delay = Math.min(delay * 1.3, 250)) {
    signal?.throwIfAborted()
    try {
      return await uninterrupted(async () => lock(path, options))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED' || attempt >= LOCK_ATTEMPTS) {
        throw new ConfigFileError(`Could not lock the config file ${path}: ${(error as Error).message}`, {
          cause: error,
          suggestion: `Another command may be updating it; try again. If none is running, delete ${path}.lock.`,
        })
      }
    }

    await sleep(delay, signal)
  }
  /* eslint-enable no-await-in-loop */
}

/** Releases the lock as one step Ctrl-C cannot split (a lock left behind would block the next command for 10 s). */
export async function releaseLock(release: () => Promise<void>): Promise<void> {
  await uninterrupted(async () => release().catch(() => {}))
}
