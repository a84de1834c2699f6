/**
 * node:crypto, loaded on first use. In the bundle (dist/plugin.js) a static
 * import of a built-in runs at every start, even for code that never runs
 * then; node:crypto costs about 2 ms, and most runs hash nothing (Node and
 * oclif load no crypto of their own, unlike node:util or node:readline, which
 * are there already). test/config/config-file.test.ts holds `cloud config`
 * and `--help` to that.
 */
import type * as Crypto from 'node:crypto'

import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

export function nodeCrypto(): typeof Crypto {
  return require('node:crypto') as typeof Crypto
}
