/**
 * oclif sorts each plugin's command IDs with `localeCompare` as it loads, and the
 * first call builds ICU's collator: about 7 ms, a twentieth of this CLI's
 * start-up, spent on strings whose order needs no collator. bin/run.js installs
 * this before it loads oclif (a host CLI's own bin does not).
 *
 * Only where it cannot change a result: two strings of lower-case ASCII letters,
 * ':' and '-', no locales or options, and a default locale (LC_ALL,
 * else LC_MESSAGES, else LANG, as ICU reads them) that is unset, C, POSIX or
 * English, whose collation orders these as the code units do (Danish would put
 * "aa" after "z"). Every other call goes to the original.
 */
// Not digits or '_': ICU puts all punctuation before digits, code units put ':' after them and '_' after ':'.
const PLAIN = /^[a-z:\-]*$/v

/** Installs the shortcut where the locale allows it; returns what puts the original back. */
export function installLocaleCompare(env: NodeJS.ProcessEnv = process.env): () => void {
  // An empty variable counts as unset, as for setlocale().
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find(Boolean) ?? ''
  if (!/^(?:C|POSIX|en)(?:[._@\-]|$)|^$/v.test(locale)) return () => {}
  const original = String.prototype.localeCompare
  // eslint-disable-next-line no-extend-native -- the same results, without the collator; see above
  String.prototype.localeCompare = function (this: string, that: string, ...rest: unknown[]): number {
    if (typeof that === 'string' && rest.length === 0 && PLAIN.test(this) && PLAIN.test(that)) {
      return this < that ? -1 : (this > that ? 1 : 0)
    }

    return original.apply(this, [that, ...rest] as Parameters<typeof original>)
  }

  return () => {
    // eslint-disable-next-line no-extend-native -- putting the original back
    String.prototype.localeCompare = original
  }
}
