/**
 * The command name a user typed: oclif runs an alias as its command and does
 * not tell the command which name was used. The init hook, which oclif runs
 * once before each command with the id as typed, records it here, and a
 * command whose alias means something more (`cloud auth use-pat` is
 * `cloud auth login --with-token`) reads it. (The hook's config and the
 * command's are different objects, so the id is not kept on either.)
 */
let typed: string | undefined

export function recordInvocation(id: string | undefined): void {
  typed = id?.replaceAll(' ', ':')
}

/** Whether the running command was started by this id (any topic separator). */
export function wasInvokedAs(id: string): boolean {
  return typed === id.replaceAll(' ', ':')
}
