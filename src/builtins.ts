/**
 * Node built-ins loaded on first use. In the bundle (dist/plugin.js) a static
 * import of a built-in runs at every start, even for code that never runs
 * then: node:crypto costs about 2.5 ms, and most runs hash nothing;
 * node:readline is for sign-in prompts only.
 */
import type * as Crypto from 'node:crypto'
import type * as Readline from 'node:readline'

import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

export function nodeCrypto(): typeof Crypto {
  return require('node:crypto') as typeof Crypto
}

export function nodeReadline(): typeof Readline {
  return require('node:readline') as typeof Readline
}
