/**
 * A process that writes the config file in a loop, the way a command does
 * (ConfigStore.write, or update under the lock), until Ctrl-C. Ctrl-C during a
 * write is deferred until the rename; it then exits 130, as the base command
 * maps InterruptedError. Ctrl-C reaches the store as the base command hands it
 * over: through src/interrupt.ts and an aborted signal.
 *   write  <file>    rewrite the whole file, round after round
 *   update <file>    the same, as a locked read-modify-write
 * Prints "ready" after the first round.
 */
import {ConfigStore} from '../../src/config/file.js'
import {InterruptedError} from '../../src/errors.js'
import {onInterrupt} from '../../src/interrupt.js'

const [mode, file = ''] = process.argv.slice(2)
// As the base command does: Ctrl-C aborts the signal the store was given.
const interruption = new AbortController()
onInterrupt(() => {
  interruption.abort(new InterruptedError())
})
const store = new ConfigStore(file, {signal: interruption.signal})

/** Big enough that a torn write would show, and that most of the time is spent inside a write. */
function document(round: number): Record<string, unknown> {
  const table = Object.fromEntries(Array.from({length: 2000}, (_, index) => [`key_${index}`, `${round}-${'x'.repeat(40)}`]))
  return {org: 'acme', progress: {round}, 'user-namespace': table}
}

try {
  for (let round = 0; ; round++) {
    if (mode === 'update') await store.update(() => ({data: document(round), result: undefined}))
    else await store.write(document(round))
    if (round === 0) process.stdout.write('ready\n')
  }
} catch (error) {
  if (!(error instanceof InterruptedError)) throw error
  process.stdout.write(`interrupted: ${error.message}\n`)
  process.exitCode = 130
}
