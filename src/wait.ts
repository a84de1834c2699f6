/**
 * Waiting that an AbortSignal cuts short. Every wait rejects with the signal's
 * own reason (an InterruptedError for Ctrl-C, a LoginError for login's
 * timeout), so the caller reports what actually stopped it.
 */

/** `promise`'s outcome, unless the signal aborts first. */
export async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  const {promise: aborted, reject} = Promise.withResolvers<never>()
  const onAbort = () => {
    reject(signal.reason)
  }

  signal.addEventListener('abort', onAbort, {once: true})
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Waits `ms` milliseconds (not at all when not positive), or until the signal, when there is one, aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  if (ms <= 0) return
  let timer: NodeJS.Timeout | undefined
  const elapsed = new Promise(resolve => {
    timer = setTimeout(resolve, ms)
  })
  try {
    await (signal ? abortable(elapsed, signal) : elapsed)
  } finally {
    clearTimeout(timer)
  }
}
