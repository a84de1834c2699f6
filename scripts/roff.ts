/**
 * Roff for the man pages (scripts/man.ts): escaping, fonts, and running text
 * in which commands, flags and paths are never hyphenated, so they copy as typed.
 */
/**
 * Paragraphs (blank-line separated) of filled text, `code` in bold; "- " lines become bullets.
 * Inside a tagged paragraph (an option) further paragraphs use .IP to keep its indent.
 */
export function prose(input: string, paragraphMacro: '.IP' | '.PP' = '.PP'): string[] {
  const paragraphs = input
  .split(/\n\s*\n/v)
  .map(paragraph => paragraph.trim())
  .filter(Boolean)
  return paragraphs.flatMap((paragraph, index) => [
    ...(index > 0 ? [paragraphMacro] : []),
    ...paragraph.split('\n').flatMap(raw => {
      const line = raw.trim()
      if (!/^[\-*]\s/v.test(line)) return [text(line)]
      const item = text(line.slice(2).trim())
      return paragraphMacro === '.PP' ? [String.raw`.IP \(bu 2`, item] : ['.br', String.raw`\(bu ${item}`]
    }),
  ])
}

/** One line of running text: roff-escaped, with `code` spans set in bold. */
export function text(input: string): string {
  const parts = input.split('`')
  // An odd count of backticks leaves the last one literal.
  return startSafe(
    parts
    .map((part, index) => {
      if (index % 2 === 0 || index === parts.length - 1) return words(index % 2 === 1 ? `\`${part}` : part)
      // A code span right after "(" or a quote continues that word.
      return bold(part, !/(?:^|\s)$/v.test(parts[index - 1] ?? ''))
    })
    .join(''),
  )
}

export function code(input: string): string {
  return startSafe(escape(input))
}

/** Bold; `inWord` when it continues a word (after "[" or "|"), where \\% would mark a hyphenation point instead. */
export function bold(input: string, inWord = false): string {
  return String.raw`\fB${literal(input, inWord)}\fR`
}

export function italic(input: string, inWord = false): string {
  return String.raw`\fI${literal(input, inWord)}\fR`
}

/** Running text, escaped; words that are names (PIPECAT_TOKEN, ~/.config/..., --json) are not hyphenated. */
export function words(input: string): string {
  return input
  .split(' ')
  .map(word => (/[^\p{L},.;:\(\)!?'"]/v.test(word.replace(/[.,;:\)]+$/v, '')) ? literal(word) : escape(word)))
  .join(' ')
}

/** Commands, flags and paths are never hyphenated at a line end: they must copy as typed. */
export function literal(input: string, inWord = false): string {
  return escape(input).replaceAll(inWord ? /(?<= )(?=\S)/gv : /(?<=^| )(?=\S)/gv, String.raw`\%`)
}

/** A text line must not start with a control character ('.' or "'"), nor with a space (a break). */
export function startSafe(line: string): string {
  return /^[.' ]/v.test(line) ? String.raw`\&${line}` : line
}

/**
 * Roff escapes: backslash, the hyphen-minus (so flags and commands copy as typed), the quote
 * characters, ~ and ^ (which groff otherwise typesets as non-ASCII glyphs), and any other
 * non-ASCII character by its code point.
 */
export function escape(input: string): string {
  return Array.from(input, char => ESCAPES[char] ?? escapeCodePoint(char)).join('')
}

const ESCAPES: Record<string, string> = {
  "'": String.raw`\(aq`,
  '-': String.raw`\-`,
  '\\': String.raw`\e`,
  '^': String.raw`\(ha`,
  '`': String.raw`\(ga`,
  '~': String.raw`\(ti`,
}

function escapeCodePoint(char: string): string {
  const point = char.codePointAt(0) ?? 0
  const plain = char === '\t' || (point >= 0x20 && point <= 0x7E)
  return plain ? char : String.raw`\[u${point.toString(16).toUpperCase().padStart(4, '0')}]`
}
