/**
 * A word where a subcommand was expected: what the user typed, and the
 * command they most likely meant (by edit distance, over whole command ids
 * and over their last word, so `cloud whoami` finds `cloud auth whoami`).
 * One error for every level: below a topic of ours (`cloud auth whomai`,
 * see topic-index.ts) and, when the plugin is the CLI, at the top
 * (`pipecat clod`, see hooks/command-not-found/root.ts).
 */
import {type Errors, type Interfaces, toConfiguredId} from '@oclif/core'

import {commandRef, usageError} from './failure.js'

/**
 * `word` typed where one of the commands or topics below `parent` (an oclif id;
 * undefined at the top) was expected; undefined when there is nothing below it.
 */
export function unknownCommandError(config: Interfaces.Config, parent: string | undefined, word: string): Errors.CLIError | undefined {
  const prefix = parent ? `${parent}:` : ''
  // What can be typed there: commands and topics (`cloud organizations`).
  const names = [
    ...config.commands.filter(command => !command.hidden).map(command => command.id),
    ...config.topics.map(topic => topic.name),
  ]
  const below = [...new Set(names.filter(name => name.startsWith(prefix)))]
  if (below.length === 0) return undefined
  const typed = parent ? [...parent.split(':'), word] : [word]
  const closest = closestCommand(typed, below)
  // As typed: the command in the host's separator, then the word.
  const message = `Unknown command: ${parent ? `${toConfiguredId(parent, config)} ` : ''}${word}`
  const help = `Run \`${commandRef(config, parent ?? '')} --help\` to see its commands.`
  return usageError(message, closest ? `Did you mean \`${commandRef(config, closest)}\`? ${help}` : help)
}

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

/**
 * Edit distance: insertions, deletions, substitutions, and two neighbours
 * swapped (`whomai`), each one edit (optimal string alignment).
 */
function editDistance(a: string, b: string): number {
  const [x, y] = [[...a], [...b]]
  // rows[i][j]: the distance between the first i characters of a and the first j of b.
  // The first row and column: that many insertions or deletions.
  const edge = (i: number, j: number) => (i === 0 || j === 0 ? i + j : 0)
  const rows = Array.from({length: x.length + 1}, (_row, i) => Array.from({length: y.length + 1}, (_column, j) => edge(i, j)))
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const substitution = x[i - 1] === y[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + substitution)
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = best
    }
  }

  return rows[x.length]![y.length]!
}
