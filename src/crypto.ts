/**
 * node:crypto, loaded on first use: importing it up front costs about a
 * millisecond of every command's start, and most runs never hash anything.
 */
import type * as Crypto from 'node:crypto'

import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

export function nodeCrypto(): typeof Crypto {
  return require('node:crypto') as typeof Crypto
}
