/** Text from outside (a query string, a config file), safe to print on a terminal: no control characters, bounded. */
export function printable(text: string, max = 200): string {
  const clean = text.replaceAll(/[\p{Cc}\p{Cf}\s]+/gv, ' ').trim()
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}

/**
 * Text that may carry strings from the service or the file, made safe for a
 * terminal: control characters (ESC and so terminal escapes such as OSC 52,
 * which writes the clipboard) and bidirectional overrides are dropped; line
 * breaks and tabs stay. Everything printed for people goes through it.
 */
export function terminalSafe(text: string): string {
  return text.replaceAll(/[[\p{Cc}\u{061C}\u{200E}\u{200F}\u{202A}-\u{202E}\u{2066}-\u{2069}]--[\t\n]]/gv, '')
}

/**
 * One line of output for people, whatever strings from the service or the
 * file it carries: line breaks (CR, LF, VT, FF, NEL, U+2028, U+2029) and tabs
 * become a space, so a value cannot print a line of its own (`Organization:
 * FORGED`); then terminalSafe.
 */
export function oneLine(text: string): string {
  return terminalSafe(text.replaceAll(/[\t\n\v\f\r\u{85}\u{2028}\u{2029}]+/gv, ' '))
}

/**
 * A JSON document as printed: JSON.stringify leaves DEL, C1 controls, bidi and
 * other format characters and the line separators raw; each is written as a
 * \uXXXX escape instead (the same string to a parser, inert on a terminal).
 * ESC is left alone: the only raw one is the colouring's (strings escape theirs).
 */
export function jsonSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- ESC is named to be left out
  return text.replaceAll(/[[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]--[\t\n\r\u{1B}]]/gv, char => jsonEscape(char))
}

/** A character as JSON spells it: \uXXXX, astral ones (tag characters, U+E0001...) as their two UTF-16 halves. */
function jsonEscape(char: string): string {
  // eslint-disable-next-line unicorn/prefer-code-point -- JSON escapes UTF-16 code units, not code points
  return Array.from({length: char.length}, (_, at) => String.raw`\u${char.charCodeAt(at).toString(16).padStart(4, '0')}`).join('')
}

/** An organization as people know it: "Acme Inc (acme)", or its name alone. */
export function organizationLabel({name, verboseName}: {name: string; verboseName?: null | string}): string {
  return verboseName ? `${verboseName} (${name})` : name
}

/** An error's message as a clause, to go inside a sentence: no final full stop. */
export function reasonText(reason: unknown): string {
  const text = reason instanceof Error ? reason.message : String(reason)
  return text.replace(/\.$/v, '')
}
