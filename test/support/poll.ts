/** The one polling loop: for conditions nothing announces (a request reached the emulator, a line was printed). */

export type WaitOptions = {
  /** How often to look, in milliseconds; default 20. */
  intervalMs?: number;
  /** Gives up early (e.g. the process it waits on exited); the error then says what was seen. */
  stopIf?: () => boolean;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Named in the error, with what was seen when it is a function. */
  what?: (() => string) | string;
}

/** Resolves with the first truthy value `condition` returns; rejects when the time is up. */
export async function waitFor<T>(condition: () => Promise<T | undefined> | T | undefined, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const {intervalMs = 20, stopIf, timeoutMs = 10_000, what = 'the condition'} = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value
    if (Date.now() > deadline || stopIf?.()) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`)

    await new Promise(resolve => {
      setTimeout(resolve, intervalMs)
    })
  }
}
