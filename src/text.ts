/** Text from outside (a query string, a config file), safe to print on a terminal: no control characters, bounded. */
export function printable(text: string, max = 200): string {
  const clean = text.replaceAll(/[\p{Cc}\p{Cf}\s]+/gv, ' ').trim()
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}

/** An organization as people know it: "Acme Inc (acme)", or its name alone. */
export function organizationLabel({name, verboseName}: {name: string; verboseName?: null | string}): string {
  return verboseName ? `${verboseName} (${name})` : name
}
