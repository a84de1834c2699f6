/**
 * The command name a user typed: oclif runs an alias as its command and does
 * not tell the command which name was used. The init hook, which oclif runs
 * once before each command with the id as typed, records it here, and a
 * command whose alias means something more (`cloud auth use-pat` is
 * `cloud auth login --with-token`) reads it. (The hook's config and the
 * command's are different objects, so the id is not kept on either.)
 */
// On the process, not in this module: the built hook and commands are separate bundles, each with its own copy of it.
const TYPED = Symbol.for('@pipecat-ai/plugin-cloud:invocation')
const slot = globalThis as {[TYPED]?: string}

export function recordInvocation(id: string | undefined): void {
  slot[TYPED] = id?.replaceAll(' ', ':')
}

/** Whether the running command was started by this id (any topic separator). */
export function wasInvokedAs(id: string): boolean {
  return slot[TYPED] === id.replaceAll(' ', ':')
}
