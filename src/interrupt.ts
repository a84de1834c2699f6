/**
 * Ctrl-C, in one place. While anything here cares, the process has exactly one
 * SIGINT listener; the handler on top of a stack decides what an interrupt
 * means (a command aborts its context's signal; login's wait names what was
 * lost). A step that must not be cut in half (a config write, taking or
 * releasing the lock, a refresh grant until its answer is saved) defers the
 * interrupt until it has finished; a second interrupt does not wait.
 *
 * Owning the signal this way, rather than counting `process.listeners`, keeps
 * a dependency's own listener (signal-exit, loaded by proper-lockfile) from
 * changing what Ctrl-C does. docs/architecture.md, "Interrupts", has the model.
 */

type Handler = () => void

const handlers: Handler[] = []
/** What each step being held would lose if the process stopped now (empty: nothing worth saying). */
const held: string[] = []
let isPending = false
let isListening = false

function deliver(): void {
  // The first interrupt waits for the step; a second one is the user insisting: both are delivered at once.
  const isInsisting = isPending && held.length > 0
  if (!isInsisting && held.length > 0) {
    isPending = true
    return
  }

  const handler = handlers.at(-1)
  if (handler) {
    if (isInsisting) {
      isPending = false
      handler()
    }

    handler()
    return
  }

  // Nobody handles it (a deferred step outside any command): what Node would have done.
  stopListening()
  process.kill(process.pid, 'SIGINT')
}

function onSignal(): void {
  deliver()
}

function listen(): void {
  if (isListening) return
  isListening = true
  process.on('SIGINT', onSignal)
}

function stopListening(): void {
  if (!isListening || handlers.length > 0 || held.length > 0) return
  isListening = false
  process.off('SIGINT', onSignal)
}

/** Puts `handler` on top of the stack; the function returned takes it off again. */
export function onInterrupt(handler: Handler): () => void {
  handlers.push(handler)
  listen()
  let isRemoved = false
  return () => {
    if (isRemoved) return
    isRemoved = true
    handlers.splice(handlers.lastIndexOf(handler), 1)
    stopListening()
  }
}

/** An interrupt that did not come as a signal: a terminal in raw mode hands Ctrl-C over as a key. */
export function interrupt(): void {
  deliver()
}

/**
 * Defers interrupts from now until the function returned is called: uninterrupted() for a span that is not
 * one function (a refresh grant from the moment it is sent until its answer is saved). `loses` says what a
 * second Ctrl-C, which does not wait, leaves undone.
 */
export function holdInterrupts(loses = ''): () => void {
  listen()
  held.push(loses)
  let isReleased = false
  return () => {
    if (isReleased) return
    isReleased = true
    held.splice(held.lastIndexOf(loses), 1)
    if (isPending && held.length === 0) {
      isPending = false
      deliver()
    }

    stopListening()
  }
}

/** Runs a step Ctrl-C must not split; an interrupt during it is delivered as soon as it has finished. */
export async function uninterrupted<T>(step: () => Promise<T>, loses = ''): Promise<T> {
  const release = holdInterrupts(loses)
  try {
    return await step()
  } finally {
    release()
  }
}

/** What the steps being held would lose if the process stopped now, for the message of a second Ctrl-C. */
export function heldSteps(): string[] {
  return held.filter(Boolean)
}
