import {nodeCrypto} from './builtins.js'

/** Compares a secret (an OAuth state) in constant time, so a forged one learns nothing from how long the check took. */
export function isSameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && nodeCrypto().timingSafeEqual(a, b)
}
