import {expect} from 'chai'

import {redact} from '../../src/config/report.js'

describe('redaction (redact)', () => {
  const cases: Array<[string, string]> = [
    ['pcc_pat_0123456789abcdef', 'pcc_pat_****'],
    // Only a known prefix is ever shown: an unknown one may be part of the secret (correct_horse_battery).
    ['emu_at_abcdef', '****'],
    ['rt_verysecret', '****'],
    ['correct_horse_S05battery', '****'],
    ['sk_live_abcdef', 'sk_live_****'],
    ['pcc_pat_', '****'],
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
