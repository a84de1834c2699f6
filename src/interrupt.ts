/**
 * Ctrl-C, in one place. While anything here cares, the process has exactly one
 * SIGINT listener; the handler on top of a stack decides what an interrupt
 * means (a command aborts its context's signal; login's wait names what was
 * lost). A step that must not be cut in half (a config write, taking or
 * releasing the lock) defers the interrupt until it has finished.
 *
 * Owning the signal this way, rather than counting `process.listeners`, keeps
 * a dependency's own listener (signal-exit, loaded by proper-lockfile) from
 * changing what Ctrl-C does. docs/architecture.md, "Interrupts", has the model.
 */

type Handler = () => void

const handlers: Handler[] = []
let deferring = 0
let isPending = false
let isListening = false

function deliver(): void {
  if (deferring > 0) {
    isPending = true
    return
  }

  const handler = handlers.at(-1)
  if (handler) {
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
  if (!isListening || handlers.length > 0 || deferring > 0) return
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

/** Runs a step Ctrl-C must not split; an interrupt during it is delivered as soon as it has finished. */
export async function uninterrupted<T>(step: () => Promise<T>): Promise<T> {
  listen()
  deferring++
  try {
    return await step()
  } finally {
    deferring--
    if (deferring === 0 && isPending) {
      isPending = false
      deliver()
    }

    stopListening()
  }
}
