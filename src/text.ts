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
  return text.replaceAll(/[[\p{Cc}\u{202A}-\u{202E}\u{2066}-\u{2069}]--[\t\n]]/gv, '')
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
