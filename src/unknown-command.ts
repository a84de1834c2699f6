/**
 * A word where a subcommand was expected: what the user typed, and the
 * command they most likely meant (by edit distance, over whole command ids
 * and over their last word, so `cloud whoami` finds `cloud auth whoami`).
 */

/** The closest of `ids` (oclif ids, `cloud:auth:whoami`) to what was typed, or undefined when none is close. */
export function closestCommand(typed: string[], ids: string[]): string | undefined {
  const wanted = typed.join(':')
  const last = typed.at(-1) ?? ''
  let best: undefined | {distance: number; id: string}
  for (const id of ids) {
    const distance = Math.min(editDistance(wanted, id), editDistance(last, id.split(':').at(-1) ?? ''))
    if (!best || distance < best.distance) best = {distance, id}
  }

  // More than a third of the word changed is a different word, not a typo.
  return best && best.distance <= Math.max(1, Math.floor(last.length / 3)) ? best.id : undefined
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, index) => index)
  for (const [i, charA] of [...a].entries()) {
    const current = [i + 1]
    for (const [j, charB] of [...b].entries()) {
      current.push(Math.min(previous[j + 1]! + 1, current[j]! + 1, previous[j]! + (charA === charB ? 0 : 1)))
    }

    previous = current
  }

  return previous[b.length]!
}
