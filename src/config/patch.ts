/**
 * Writing the config file the way its owner wrote it: a command's change is
 * applied to the file's own text, key by key, so comments, order, blank lines,
 * number formats and inline tables outside the changed keys stay as they were.
 * The editor is `@decimalturn/toml-patch`, loaded only when writing (why this
 * one: docs/architecture.md, "Choices"). Its own patch() re-pads comments, so
 * the edits commands make are spliced here into the text at the places its
 * syntax tree gives; whatever the splice cannot do, or a result that does not
 * read back to the expected document, falls back to patch()'s whole output.
 */
import type * as TomlPatch from '@decimalturn/toml-patch'

import {isDeepStrictEqual} from 'node:util'

import {type ConfigData, isTable} from './data.js'

/** Changed top-level keys: set to a value, or removed (undefined). */
export type TopLevelEdits = Map<string, unknown>

/** The top-level keys whose values differ between two documents (untouched values keep their identity). */
export function topLevelEdits(before: ConfigData, after: ConfigData): TopLevelEdits {
  const edits: TopLevelEdits = new Map()
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) edits.set(key, undefined)
  for (const [key, value] of Object.entries(after)) {
    if (!Object.hasOwn(before, key) || !Object.is(before[key], value)) edits.set(key, value)
  }

  return edits
}

type Editor = typeof TomlPatch
type Position = {column: number; line: number}
type Span = {end: Position; start: Position}
/** A block of the editor's syntax tree: a key's name is in `key.value`, a table header's in `key.item.value`. */
type Node = {key?: {item?: {value: string[]}; value?: string[]}; loc: Span; type: string; value?: {loc: Span; type: string}}

/**
 * The text with the edits applied, read back with `read` and checked to equal
 * `expected`. `token_expires_at` is written as a float, as the official CLI
 * writes it (`1767225600.0`, never `1767225600`), except 0, which means "does
 * not expire" and stays an integer.
 */
export async function applyEdits(
  text: string,
  edits: TopLevelEdits,
  expected: ConfigData,
  read: (text: string) => ConfigData,
): Promise<string> {
  const editor = await import('@decimalturn/toml-patch')
  const reads = (candidate: string) => {
    try {
      // structuredClone: tables as plain objects and dates as plain Dates on both sides.
      return isDeepStrictEqual(structuredClone(read(candidate)), structuredClone(expected))
    } catch {
      return false
    }
  }

  const spliced = splice(editor, text, edits)
  if (spliced !== undefined && reads(spliced)) return spliced
  const patched = patchWhole(editor, text, edits)
  if (reads(patched)) return patched
  throw new Error('the edited file would not read back as expected')
}

/** Digits after the point: the expiry is a float, but 0 ("does not expire") stays an integer; other numbers as they are. */
function decimals(key: string, value: unknown): number {
  return key === 'token_expires_at' && typeof value === 'number' && value !== 0 ? 1 : 0
}

/** `key = value` (or a table's header) as the editor writes it. */
function render(editor: Editor, key: string, value: unknown): string {
  return editor.stringify({[key]: value}, {minimumDecimals: decimals(key, value)}).trimEnd()
}

/** A value alone as the editor writes it. */
function renderValue(editor: Editor, key: string, value: unknown): string {
  return editor.stringify({_: value}, {minimumDecimals: decimals(key, value)}).trimEnd().replace(/^_ = /v, '')
}

/** Offsets in a text from the editor's line (1-based) and column (UTF-16, 0-based) positions. */
class Lines {
  private readonly starts = [0]

  constructor(readonly text: string) {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.starts.push(at + 1)
  }

  /** Where the line after this position's line starts (the end of the text on the last line). */
  next({line}: Position): number {
    return this.starts[line] ?? this.text.length
  }

  offset({column, line}: Position): number {
    return this.starts[line - 1]! + column
  }
}

/**
 * Replaces a set key's value (its key, spacing and trailing comment stay),
 * removes a removed key's own lines (a comment above it stays: it may speak
 * for more than that key), puts new keys after the last top-level key that
 * is not an inline table (else before the first table and the comment lines
 * attached to it, else at the end) and new tables at the end. A `[table]`
 * section that changes is written anew in its place, one that goes is
 * removed with the blank line before it (the plugin's binding table: both
 * happen at every sign-in, refresh and logout). Undefined for any other edit.
 */
function splice(editor: Editor, source: string, edits: TopLevelEdits): string | undefined {
  const bom = source.startsWith('\u{FEFF}') ? '\u{FEFF}' : ''
  const lines = new Lines(source.slice(bom.length))
  const blocks = new editor.TomlDocument(lines.text).cst as Node[]
  const newline = lines.text.includes('\r\n') ? '\r\n' : '\n'
  const firstTable = blocks.findIndex(block => block.type !== 'KeyValue' && block.type !== 'Comment')
  const root = firstTable === -1 ? blocks : blocks.slice(0, firstTable)
  const keys = new Map(
    root.filter(block => block.type === 'KeyValue' && block.key?.value?.length === 1).map(block => [block.key!.value![0]!, block]),
  )
  const sections = new Map(
    blocks
    .filter(block => block.type === 'Table' && block.key?.item?.value.length === 1)
    .map(block => [block.key!.item!.value[0]!, block]),
  )
  const changes: Array<{end: number; start: number; text: string}> = []
  const added: string[] = []
  const tables: string[] = []
  for (const [key, value] of edits) {
    const node = keys.get(key)
    const section = node === undefined ? sections.get(key) : undefined
    if (section !== undefined) {
      if (value !== undefined && !isTable(value)) return undefined
      const text = value === undefined ? undefined : render(editor, key, value).split('\n').join(newline) + newline
      changes.push(sectionChange(lines, section, text))
    } else if (node === undefined) {
      if (value === undefined) return undefined;
      (isTable(value) ? tables : added).push(render(editor, key, value))
    } else if (value === undefined) {
      changes.push({end: lines.next(node.loc.end), start: lines.offset({column: 0, line: node.loc.start.line}), text: ''})
    } else if (isTable(value) || node.value === undefined) {
      return undefined
    } else {
      changes.push({
        end: lines.offset(node.value.loc.end),
        start: lines.offset(node.value.loc.start),
        text: renderValue(editor, key, value),
      })
    }
  }

  if (added.length > 0) {
    const at = insertionPoint(lines, root, blocks[firstTable])
    // A last line without its line break gets one before the new keys.
    const before = at === lines.text.length && at > 0 && !lines.text.endsWith('\n') ? newline : ''
    changes.push({end: at, start: at, text: before + added.map(line => line + newline).join('')})
  }

  // From the end, so that each change's offsets are still those of the original text.
  let result = lines.text
  for (const {end, start, text} of changes.toSorted((a, b) => b.start - a.start)) {
    result = result.slice(0, start) + text + result.slice(end)
  }

  for (const table of tables) {
    if (result !== '' && !result.endsWith('\n')) result += newline
    result += (result === '' ? '' : newline) + table.split('\n').join(newline) + newline
  }

  return bom + result
}

/** A `[table]` section's lines replaced by `text`, or removed (with the blank line before it) when there is none. */
function sectionChange(lines: Lines, section: Node, text: string | undefined): {end: number; start: number; text: string} {
  const end = lines.next(section.loc.end)
  let start = lines.offset({column: 0, line: section.loc.start.line})
  if (text === undefined && section.loc.start.line > 1) {
    const before = lines.offset({column: 0, line: section.loc.start.line - 1})
    if (lines.text.slice(before, start).trim() === '') start = before
  }

  return {end, start, text: text ?? ''}
}

/**
 * Where new top-level keys go: after the last one (not counting inline
 * tables), else before the first table and its comment lines, else at the end.
 */
function insertionPoint(lines: Lines, root: Node[], table: Node | undefined): number {
  // After the last plain key rather than an organization's inline table, so that the credentials stay together.
  const keys = root.filter(block => block.type === 'KeyValue')
  const last = keys.findLast(block => block.value?.type !== 'InlineTable') ?? keys.at(-1)
  if (last) return lines.next(last.loc.end)
  if (!table) return lines.text.length
  let {line} = table.loc.start
  for (const block of root.toReversed()) {
    if (block.type !== 'Comment' || block.loc.end.line !== line - 1) break
    line = block.loc.start.line
  }

  return lines.offset({column: 0, line})
}

/** The editor's own patch; the expiry alone, so that other numbers keep their form. */
function patchWhole(editor: Editor, text: string, edits: TopLevelEdits): string {
  const document = new editor.TomlDocument(text)
  const step = (changes: TopLevelEdits) => {
    const next = document.toJsObject as ConfigData
    const kept = Object.fromEntries(Object.entries(next).filter(([key]) => !changes.has(key) || changes.get(key) !== undefined))
    for (const [key, value] of changes) if (value !== undefined) kept[key] = value
    document.patch(kept, {minimumDecimals: decimals('token_expires_at', changes.get('token_expires_at'))})
  }

  const others = new Map([...edits].filter(([key]) => key !== 'token_expires_at'))
  if (others.size > 0) step(others)
  if (edits.has('token_expires_at')) step(new Map([['token_expires_at', edits.get('token_expires_at')]]))
  return document.toTomlString
}
