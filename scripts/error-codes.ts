// `npm run readme` (after `oclif readme`): the README's table of --json error
// codes, made from the one record in src/errors.ts, between its two markers.
// With --check, says whether the README is current instead (exit 1 if not).
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {ERROR_CODES} from '../src/errors.js'

const START = '<!-- error-codes -->'
const END = '<!-- error-codes-end -->'

export function errorCodeTable(): string {
  const rows = ERROR_CODES.map(({code, exit, when}) => `| \`${code}\` | ${exit} | ${when} |`)
  return ['| `code` | exit | when |', '| --- | --- | --- |', ...rows].join('\n')
}

/** The README with its table replaced; throws when the markers are missing. */
export function withErrorCodes(readme: string): string {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`README.md lacks the ${START} ... ${END} markers`)
  return `${readme.slice(0, start + START.length)}\n${errorCodeTable()}\n${readme.slice(end)}`
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'README.md')
  const readme = await readFile(file, 'utf8')
  const next = withErrorCodes(readme)
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md: the error code table is stale; run npm run readme')
      process.exitCode = 1
    }
  } else if (next !== readme) {
    await writeFile(file, next)
    console.log('Wrote the error code table in README.md')
  }
}
