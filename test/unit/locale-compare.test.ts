/**
 * bin/run.js's shortcut for localeCompare (src/start-up/locale-compare.ts) gives
 * ICU's answer for every pair of strings, installed or not: it only skips
 * building the collator where the answer cannot differ.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {installLocaleCompare} from '../../src/start-up/locale-compare.js'

const ICU = String.prototype.localeCompare

/** Command IDs and what else oclif and plugins sort: plain IDs, and strings the shortcut must leave to ICU. */
// fast-check reads u-flag patterns only.
// eslint-disable-next-line require-unicode-regexp
const idLike = fc.stringMatching(/^[-a-z:]{0,12}$/u)
// eslint-disable-next-line require-unicode-regexp
const other = fc.oneof(fc.stringMatching(/^[-\w:]{0,12}$/u), fc.string({maxLength: 8}), fc.constantFrom('aa', 'b', 'z', 'cloud:1', 'cloud:a', 'cloud_x', 'Cloud'))

describe('the localeCompare shortcut of bin/run.js', () => {
  for (const [name, env] of [['no locale', {}], ['LANG=C.UTF-8', {LANG: 'C.UTF-8'}], ['LANG=en_US.UTF-8', {LANG: 'en_US.UTF-8'}]] as const) {
    it(`with ${name}: gives ICU's order for every pair of strings`, () => {
      const restore = installLocaleCompare(env)
      try {
        expect(String.prototype.localeCompare).not.to.equal(ICU)
        fc.assert(fc.property(fc.oneof(idLike, other), fc.oneof(idLike, other), (a, b) => Math.sign(a.localeCompare(b)) === Math.sign(ICU.call(a, b))), {numRuns: 2000})
        expect(['cloud:config', 'cloud', 'cloud:auth:whoami', 'cloud:auth:login', 'cloud:auth'].toSorted((a, b) => a.localeCompare(b))).to.deep.equal([
          'cloud', 'cloud:auth', 'cloud:auth:login', 'cloud:auth:whoami', 'cloud:config',
        ])
      } finally {
        restore()
      }

      expect(String.prototype.localeCompare).to.equal(ICU)
    })
  }

  for (const env of [{LANG: 'da_DK.UTF-8'}, {LANG: 'en_US.UTF-8', LC_ALL: 'lt_LT.UTF-8'}, {LC_MESSAGES: 'sv_SE.UTF-8'}]) {
    it(`stays out of the way where the locale orders letters its own way (${JSON.stringify(env)})`, () => {
      const restore = installLocaleCompare(env)
      expect(String.prototype.localeCompare).to.equal(ICU)
      restore()
    })
  }
})
