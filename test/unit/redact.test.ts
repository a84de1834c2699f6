import {expect} from 'chai'

import {redact} from '../../src/config/report.js'

describe('redaction (redact)', () => {
  const cases: Array<[string, string]> = [
    ['pcc_pat_0123456789abcdef', 'pcc_pat_****'],
    ['emu_at_abcdef', 'emu_at_****'],
    ['rt_verysecret', 'rt_****'],
    ['eyJhbGciOiJSUzI1NiJ9.payload.signature', 'eyJ****'],
    ['plainsecretvalue', '****'],
    ['Sk_Live_UPPER', '****'],
    ['', ''],
  ]
  for (const [secret, shown] of cases) {
    it(`${JSON.stringify(secret)} is shown as ${JSON.stringify(shown)}`, () => {
      expect(redact(secret)).to.equal(shown)
    })
  }
})
