/** The --json error codes have one home (src/errors.ts): the README's table is made from it and is current. */
import {expect} from 'chai'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {errorCodeTable, withErrorCodes} from '../../scripts/error-codes.js'
import {ERROR_CODES, ExitCode} from '../../src/errors.js'
import {ROOT} from '../support/cli.js'

describe('error codes: one record, the README made from it', () => {
  it('the README holds the table made from src/errors.ts (npm run readme)', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8')
    expect(withErrorCodes(readme), 'README.md is stale: run npm run readme').to.equal(readme)
    for (const {code} of ERROR_CODES) expect(errorCodeTable()).to.contain(`| \`${code}\` |`)
  })

  it('each code is given with one of the documented exit statuses', () => {
    const statuses = new Set<number>(Object.values(ExitCode))
    for (const {exit} of ERROR_CODES) expect(statuses.has(exit)).to.equal(true)
    expect(new Set(ERROR_CODES.map(({code}) => code)).size).to.equal(ERROR_CODES.length)
  })
})
