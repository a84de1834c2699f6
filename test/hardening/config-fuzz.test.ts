/**
 * Hostile config files, property-based (fast-check): random bytes, and valid
 * files in the official layout mutated (truncated, invalid UTF-8, NUL bytes,
 * duplicate keys, wrong types for known keys, huge strings, deep tables), plus
 * a folder and a symlink loop where the file should be.
 *
 * The parser is checked in-process with many runs; every command is then run
 * as a user would (the built CLI) on a few dozen such files: never a crash,
 * only the documented exit codes, and never a write over a file it could not
 * parse, except logout's documented backup-and-reset.
 *
 * Replay a failure with FC_SEED=<seed> (and FC_PATH=<path>) from the report.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {
  mkdir,
  mkdtemp,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse, stringify} from 'smol-toml'

import {ConfigStore, parseConfig} from '../../src/config/file.js'
import {ConfigFileError} from '../../src/errors.js'
import {type Emulator, startEmulator} from '../emulator/server.js'
import {type CliResult, startCli} from '../support/cli.js'
import {expectSameFolder, type FolderSnapshot, snapshotFolder} from '../support/config.js'
import {expectNoLeaks} from '../support/expect.js'
import {inPool} from '../support/pool.js'

const KNOWN = new Set(['org', 'refresh_token', 'token', 'token_expires_at'])
const CREDENTIALS = new Set(['refresh_token', 'token', 'token_expires_at'])
const SETTING_KEYS = ['api_host', 'dashboard_host', 'whoami_path', 'organization_path', 'daily_key_path', 'auth_config_path', 'default_public_key']
const EXIT_CODES = [0, 1, 2, 4]

const seedParameters = <T>(numRuns: number): fc.Parameters<T> => ({
  numRuns,
  ...(process.env.FC_SEED && {path: process.env.FC_PATH, seed: Number(process.env.FC_SEED)}),
})

// ------------------------------------------------------------------ documents in the official layout

const alphanumeric = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
const secretBody = fc.string({maxLength: 40, minLength: 24, unit: alphanumeric})
const secretPrefix = fc.constantFrom('pcc_pat_', 'emu_at_', 'eyJ', 'tok_', '')
const anyString = (maxLength: number) => fc.string({maxLength, unit: 'binary'})

/** A token-shaped secret (checked never to be printed), or any string at all. */
const secretArb = fc.oneof(fc.tuple(secretPrefix, secretBody).map(([prefix, body]) => prefix + body), anyString(40))

const orgNameArb = fc
.oneof(fc.constantFrom('user-namespace', 'acme', 'a.b', 'with space', 'ünïcødé', '"quoted"', ''), fc.string({maxLength: 16, unit: 'binary'}))
.filter(name => !KNOWN.has(name))

const scalarArb = fc.oneof(
  fc.string({maxLength: 30, unit: 'binary'}),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.date({max: new Date('2100-01-01'), min: new Date('1970-01-01'), noInvalidDate: true}),
  fc.array(fc.integer(), {maxLength: 3}),
)

const publicKeysArb = fc.record({default_public_key: fc.string({maxLength: 30}), default_public_key_name: anyString(30)}, {requiredKeys: []})
const tableKeyArb = fc.oneof(fc.constantFrom(...SETTING_KEYS), fc.string({maxLength: 12}))
const orgTableArb = fc.tuple(publicKeysArb, fc.dictionary(tableKeyArb, scalarArb, {maxKeys: 3})).map(([known, extra]) => ({...extra, ...known}))

type Doc = {data: Record<string, unknown>; secrets: string[]}

const expiryArb = fc.oneof(fc.constant(0), fc.integer({max: 2 ** 31, min: 0}), fc.double())
const topLevelArb = fc.record(
  {
    org: fc.oneof(orgNameArb, fc.string({maxLength: 20})), refresh_token: secretArb, token: secretArb, token_expires_at: expiryArb,
  },
  {requiredKeys: []},
)

const docArb: fc.Arbitrary<Doc> = fc
.tuple(
  topLevelArb,
  fc.dictionary(orgNameArb, orgTableArb, {maxKeys: 4}),
  fc.boolean(),
)
.map(([known, orgs, isActiveOrgTable]) => {
  const data: Record<string, unknown> = {...orgs, ...known}
  // Often point `org` at one of the tables, so that its settings take effect.
  const names = Object.keys(orgs)
  if (isActiveOrgTable && names.length > 0) data.org = names[0]
  const secrets = [known.token, known.refresh_token].filter((value): value is string => typeof value === 'string' && /^[\w\-]{24,}$/v.test(value))
  return {data, secrets}
})

// ------------------------------------------------------------------ mutations

type Mutation = {apply: (bytes: Buffer) => Buffer; name: string}

const fraction = fc.double({max: 1, min: 0, noNaN: true})
const at = (bytes: Buffer, where: number) => Math.min(bytes.length, Math.floor(where * (bytes.length + 1)))
const splice = (bytes: Buffer, where: number, insert: Buffer | readonly number[]) =>
  Buffer.concat([bytes.subarray(0, at(bytes, where)), Buffer.from(insert), bytes.subarray(at(bytes, where))])

/** Replaces a top-level key's line (top-level keys must come before the first table, so the new line goes first). */
const setTopLevel = (bytes: Buffer, key: string, valueText: string) => {
  const lines = bytes.toString('latin1').split('\n').filter(line => !line.startsWith(`${key} =`))
  return Buffer.from([`${key} = ${valueText}`, ...lines].join('\n'), 'latin1')
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fraction.map(where => ({apply: (bytes: Buffer) => bytes.subarray(0, at(bytes, where)), name: `truncate at ${where.toFixed(3)}`})),
  fc
  .tuple(fraction, fc.constantFrom([0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xFE, 0xFF]))
  .map(([where, insert]) => ({apply: (bytes: Buffer) => splice(bytes, where, insert), name: `invalid UTF-8 ${insert.join(',')} at ${where.toFixed(3)}`})),
  fc.tuple(fraction, fc.integer({max: 3, min: 1})).map(([where, count]) => ({
    apply: (bytes: Buffer) => splice(bytes, where, Array.from({length: count}, () => 0)),
    name: `${count} NUL at ${where.toFixed(3)}`,
  })),
  fraction.map(where => ({
    apply(bytes: Buffer) {
      const lines = bytes.toString('latin1').split('\n')
      const index = Math.min(lines.length - 1, Math.floor(where * lines.length))
      lines.splice(index, 0, lines[index]!)
      return Buffer.from(lines.join('\n'), 'latin1')
    },
    name: `duplicate line at ${where.toFixed(3)}`,
  })),
  fc
  .tuple(fc.constantFrom(...KNOWN), fc.constantFrom('42', '[1, 2]', '"text"', '{ a = 1 }', 'true', '1979-05-27T07:32:00Z', 'nan', '-inf', '""'))
  .map(([key, value]) => ({apply: (bytes: Buffer) => setTopLevel(bytes, key, value), name: `${key} = ${value}`})),
  fc.tuple(fc.constantFrom('token', 'refresh_token', 'org'), fc.integer({max: 2_000_000, min: 50_000})).map(([key, size]) => ({
    apply: (bytes: Buffer) => setTopLevel(bytes, key, `"${'x'.repeat(size)}"`),
    name: `${key} of ${size} characters`,
  })),
  fc.integer({max: 400_000, min: 10_000}).map(size => ({
    apply: (bytes: Buffer) => Buffer.concat([bytes, Buffer.from(`\n["${'o'.repeat(size)}"]\ndefault_public_key = "pk_${'k'.repeat(size)}"\n`)]),
    name: `organization name and key of ${size} characters`,
  })),
  fc.integer({max: 3000, min: 2}).map(depth => ({
    apply: (bytes: Buffer) => Buffer.concat([bytes, Buffer.from(`\n[${Array.from({length: depth}, () => 'd').join('.')}]\nx = 1\n`)]),
    name: `a table ${depth} deep`,
  })),
  fc.integer({max: 3000, min: 2}).map(depth => ({
    apply: (bytes: Buffer) => Buffer.concat([bytes, Buffer.from(`\n[inline]\nv = ${'{ a = '.repeat(depth)}1${' }'.repeat(depth)}\n`)]),
    name: `an inline table ${depth} deep`,
  })),
  fc.tuple(fraction, fc.uint8Array({maxLength: 16, minLength: 1})).map(([where, insert]) => ({
    apply: (bytes: Buffer) => splice(bytes, where, Buffer.from(insert)),
    name: `bytes ${Buffer.from(insert).toString('hex')} at ${where.toFixed(3)}`,
  })),
  fc.constant({apply: (bytes: Buffer) => Buffer.concat([Buffer.from([0xEF, 0xBB, 0xBF]), bytes]), name: 'a byte order mark'}),
  fc.constant({apply: (bytes: Buffer) => Buffer.from(bytes.toString('latin1').replaceAll('\n', '\r\n'), 'latin1'), name: 'CRLF line ends'}),
  fc.constant({apply: (bytes: Buffer) => Buffer.from(bytes.toString('latin1').replaceAll('\n', '\r'), 'latin1'), name: 'CR line ends'}),
)

type Sample = {bytes: Buffer; mutations?: string[]; secrets: string[]}

/** Reports show the mutations and the start of the file, not megabytes of it. */
const described = (sample: Sample): Sample =>
  Object.assign(sample, {
    [fc.toStringMethod]: () =>
      `${sample.bytes.length} bytes${sample.mutations ? ` after ${JSON.stringify(sample.mutations)}` : ''}: ${JSON.stringify(sample.bytes.subarray(0, 300).toString('latin1'))}`,
  })

/** A file: valid in the official layout (sometimes), mutated (mostly), or random bytes. */
const fileArb: fc.Arbitrary<Sample> = fc.oneof(
  {
    arbitrary: fc.tuple(docArb, fc.array(mutationArb, {maxLength: 3, minLength: 0})).map(([doc, mutations]) => {
      let bytes: Buffer = Buffer.from(stringify(doc.data))
      for (const mutation of mutations) bytes = mutation.apply(bytes)
      return described({bytes, mutations: mutations.map(mutation => mutation.name), secrets: doc.secrets})
    }), weight: 8,
  },
  {arbitrary: fc.uint8Array({maxLength: 300}).map(bytes => described({bytes: Buffer.from(bytes), secrets: []})), weight: 1},
  {arbitrary: fc.string({maxLength: 300, unit: 'binary'}).map(text => described({bytes: Buffer.from(text), secrets: []})), weight: 1},
)

// ------------------------------------------------------------------ the parser, in-process

const textArb = fc.oneof(anyString(400), fileArb.map(sample => sample.bytes.toString('utf8')))

/** What a parsed document must look like: the four known keys with their types, everything else a table. */
function expectValidShape(data: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(data)) {
    if (key === 'token_expires_at') expect(typeof value).to.equal('number')
    else if (KNOWN.has(key)) expect(typeof value).to.equal('string')
    else expect(value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date), `${key} is a table`).to.equal(true)
  }
}

function expectConfigFileError(error: unknown, file: string): void {
  expect(error, String((error as Error)?.stack)).to.be.instanceOf(ConfigFileError)
  const {message} = error as ConfigFileError
  expect(message).to.contain(file)
  expect(message, 'one line').not.to.match(/[\n\r]/v)
}

// ------------------------------------------------------------------ every command, as a process

type Command = {args: string[]; input?: string; name: string}

const COMMANDS: Command[] = [
  {args: ['cloud', 'config'], name: 'cloud config'},
  {args: ['cloud', 'config', '--json'], name: 'cloud config --json'},
  {args: ['cloud', 'auth', 'whoami'], name: 'cloud auth whoami'},
  {args: ['cloud', 'auth', 'logout'], name: 'cloud auth logout'},
  {args: ['cloud', 'auth', 'login', '--with-token'], input: 'pcc_pat_made-up-and-rejected\n', name: 'cloud auth login --with-token (a bad token)'},
  {args: ['cloud', 'auth', 'login', '--headless', '--timeout', '1'], name: 'cloud auth login --headless --timeout 1'},
]

const RUNS_PER_COMMAND = Number(process.env.FUZZ_RUNS) || 30

type Parsed = {data: Record<string, unknown>; ok: true} | {ok: false}

/** The oracle: does the plugin's own reader accept this file? */
async function readsAs(file: string): Promise<Parsed> {
  try {
    return {data: (await new ConfigStore(file).read()).data, ok: true}
  } catch (error) {
    if (error instanceof ConfigFileError) return {ok: false}
    throw error
  }
}

async function runCommand(command: Command, emulator: Emulator, configPath: string): Promise<CliResult> {
  const child = startCli([...command.args], {
    env: {PIPECAT_API_HOST: emulator.url, PIPECAT_CONFIG_PATH: configPath, PIPECAT_HTTP_TIMEOUT: '3'},
    timeoutMs: 60_000,
  })
  child.stdin.end(command.input ?? '')
  return child.result
}

function expectCalm(result: CliResult, secrets: string[] = []): void {
  expect(EXIT_CODES, `exit code ${result.code} (signal ${result.signal})\n${result.stderr}`).to.include(result.code)
  expectNoLeaks(result, ...secrets)
}

/** The plugin's own table: the host the credentials are bound to. */
const BINDING = '@pipecat-ai/plugin-cloud'

/** One command on one hostile file, with everything the user could see or lose checked. */
async function checkCommand(command: Command, emulator: Emulator, {bytes, secrets}: Sample): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-fuzz-'))
  const file = path.join(dir, 'pipecatcloud.toml')
  try {
    await writeFile(file, bytes, {mode: 0o600})
    const oracle = await readsAs(file)
    const before = await snapshotFolder(dir)
    const result = await runCommand(command, emulator, file)
    expectCalm(result, secrets)
    const after = await snapshotFolder(dir)

    if (!oracle.ok) {
    // A file it cannot parse: a clear error naming it; only logout moves it aside.
      expect(result.stdout + result.stderr, 'names the file').to.contain(file)
      if (command.name !== 'cloud auth logout') {
        expect(result.code, result.stderr).to.equal(1)
        expectSameFolder(after, before)
        return
      }

      expect(result.code, result.stderr).to.equal(0)
      const names = Object.keys(after)
      const backups = names.filter(name => name.startsWith('pipecatcloud.toml.bak-'))
      expect(names, 'only the backup is left').to.deep.equal(backups).and.to.have.length(1)
      expect(after[backups[0]!]!.equals(bytes), 'the backup holds the original bytes').to.equal(true)
      expect(result.stdout).to.contain(path.join(dir, backups[0]!))
      return
    }

    if (command.name === 'cloud auth whoami' && !after['pipecatcloud.toml']?.equals(bytes)) {
      // Credentials used for the first time are bound to the host they were sent to: that table, and nothing else.
      expect(Object.keys(after), 'no leftover files').to.deep.equal(['pipecatcloud.toml'])
      const now = parse(after['pipecatcloud.toml']!.toString('utf8'))
      expect(now[BINDING]).to.deep.include({issuer: emulator.url})
      const rest = Object.fromEntries(Object.entries(now).filter(([key]) => key !== BINDING))
      expect(rest).to.deep.equal(Object.fromEntries(Object.entries(oracle.data).filter(([key]) => key !== BINDING && key !== 'token_issuer')))
      return
    }

    if (command.name !== 'cloud auth logout') {
      expectSameFolder(after, before)
      return
    }

    // A file it can parse: logout may remove the credentials, and nothing else.
    expect(Object.keys(after), 'no leftover or backup files').to.deep.equal(['pipecatcloud.toml'])
    if (after['pipecatcloud.toml']!.equals(bytes)) return
    const now = parse(after['pipecatcloud.toml']!.toString('utf8'))
    const expected = Object.fromEntries(Object.entries(oracle.data).filter(([key]) => !CREDENTIALS.has(key)))
    expect(now).to.deep.equal(expected)
  } finally {
    await rm(dir, {force: true, recursive: true})
  }
}

/** RUNS_PER_COMMAND hostile files for one command, one after another (shrunk to the smallest failing one). */
async function fuzzCommand(command: Command, emulator: Emulator): Promise<fc.RunDetails<[Sample]>> {
  return fc.check(
    fc.asyncProperty(fileArb, async sample => checkCommand(command, emulator, sample)),
    seedParameters<[Sample]>(RUNS_PER_COMMAND),
  )
}

type Spot = {make(file: string): Promise<void>; name: string; says: RegExp}

type SpotOutcome = {after: FolderSnapshot; before: FolderSnapshot; file: string; result: CliResult}

/** One command with something that is not a file at the config path. */
async function runAtSpot({command, spot}: {command: Command; spot: Spot}, emulator: Emulator): Promise<SpotOutcome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-fuzz-'))
  const file = path.join(dir, 'pipecatcloud.toml')
  try {
    await spot.make(file)
    const before = await snapshotFolder(dir)
    const result = await runCommand(command, emulator, file)
    return {
      after: await snapshotFolder(dir), before, file, result,
    }
  } finally {
    await rm(dir, {force: true, recursive: true})
  }
}

/** Not a file where the config file should be. */
const SPOTS: Spot[] = [
  {
    async make(file) {
      await mkdir(file)
      await writeFile(path.join(file, 'inside.txt'), 'kept')
    },
    name: 'a folder',
    says: /it is a directory/v,
  },
  {
    async make(file) {
      await symlink(`${file}.other`, file)
      await symlink(file, `${file}.other`)
    },
    name: 'a symlink loop',
    says: /too many levels of symbolic links/v,
  },
]

const SPOT_JOBS = SPOTS.flatMap(spot => COMMANDS.map(command => ({command, spot})))

/** Every command at every spot, four at a time; outcomes by "spot: command". */
async function runAtSpots(emulator: Emulator): Promise<Map<string, SpotOutcome>> {
  const results = await inPool(SPOT_JOBS, 4, async job => runAtSpot(job, emulator))
  return new Map(SPOT_JOBS.map(({command, spot}, index) => [`${spot.name}: ${command.name}`, results[index]!]))
}

describe('hostile config files', () => {
  describe('the parser', () => {
    const FILE = '/home/someone/.config/pipecatcloud/pipecatcloud.toml'

    it('any text: a document of the right shape, or a ConfigFileError naming the file in one line (never anything else)', () => {
      fc.assert(
        fc.property(textArb, text => {
          try {
            expectValidShape(parseConfig(text, FILE))
          } catch (error) {
            expectConfigFileError(error, FILE)
          }
        }),
        seedParameters(3000),
      )
    })

    it('whatever it accepts, it can write back: the document round-trips through the writer', () => {
      fc.assert(
        fc.property(fileArb, ({bytes}) => {
          let data: Record<string, unknown>
          try {
            data = parseConfig(bytes.toString('utf8'), FILE)
          } catch {
            return
          }

          expect(parseConfig(stringify(data), FILE)).to.deep.equal(data)
        }),
        seedParameters(1500),
      )
    })

    it('any bytes on disk: ConfigStore.read gives a snapshot or a ConfigFileError, and never changes the file', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-fuzz-'))
      const file = path.join(dir, 'pipecatcloud.toml')
      try {
        await fc.assert(
          fc.asyncProperty(fileArb, async ({bytes}) => {
            await writeFile(file, bytes, {mode: 0o600})
            try {
              expectValidShape((await new ConfigStore(file).read()).data)
            } catch (error) {
              expectConfigFileError(error, file)
            }

            expect((await readFile(file)).equals(bytes)).to.equal(true)
          }),
          seedParameters(1000),
        )
      } finally {
        await rm(dir, {force: true, recursive: true})
      }
    })
  })

  describe('every command', function () {
    this.timeout(180_000)
    let emulator: Emulator
    const details = new Map<string, fc.RunDetails<[Sample]>>()

    before(async function () {
      this.timeout(600_000)
      emulator = await startEmulator()
      // One property per command, all at once: each runs its files one after another.
      const runs = await Promise.all(COMMANDS.map(async command => fuzzCommand(command, emulator)))
      for (const [index, command] of COMMANDS.entries()) details.set(command.name, runs[index]!)
    })

    after(async () => {
      await emulator?.close()
    })

    for (const command of COMMANDS) {
      it(`${command.name}: never crashes, exits 0/1/2/4, never writes over a file it cannot parse`, () => {
        const run = details.get(command.name)!
        expect(run.failed, fc.defaultReportMessage(run)).to.equal(false)
        expect(run.numRuns).to.equal(RUNS_PER_COMMAND)
      })
    }

    describe('not a file at the config path', () => {
      let outcomes: Map<string, SpotOutcome>

      before(async function () {
        this.timeout(120_000)
        outcomes = await runAtSpots(emulator)
      })

      for (const spot of SPOTS) {
        for (const command of COMMANDS) {
          it(`${spot.name}: ${command.name} exits 1 naming the path and what to do, and leaves it alone`, () => {
            const {after, before, file, result} = outcomes.get(`${spot.name}: ${command.name}`)!
            expect(result.code, result.stderr).to.equal(1)
            expectCalm(result)
            const output = result.stdout + result.stderr
            expect(output).to.contain(file).and.to.match(spot.says)
            expect(output).to.match(/PIPECAT_CONFIG_PATH|Move it out of the way/v)
            expectSameFolder(after, before)
          })
        }
      }
    })
  })
})

// ------------------------------------------------------------------ writes keep what users wrote

/** A value as TOML writes it, in one of the forms a person might choose instead. */
const valueText = (value: unknown, form: number): string => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && form % 3 === 1 && value >= 0) return `0x${value.toString(16)}`
  if (typeof value === 'number' && Number.isSafeInteger(value) && form % 3 === 2) return `${value}.0`
  return stringify({v: value}).replace(/^v = /v, '').trimEnd()
}

const FORMATTED_EXTRAS = ['ratio = 1.0', 'big = 9007199254740993', 'huge = -9223372036854775808', 'small = 1e-3', 'mask = 0o755', 'spaced   =   1_000', String.raw`path = 'C:\raw'`]
const TRAILING = '   # kept as written'

/** A document in the official layout, written as a person would: comments, blank lines, inline tables, varied number forms. */
const decoratedArb = fc
.tuple(docArb, fc.array(fc.nat(), {maxLength: 40, minLength: 40}))
.map(([doc, choices]) => {
  let next = 0
  const choose = (count: number) => choices[next++ % choices.length]! % count
  const root: string[] = ['# Pipecat Cloud credentials', '']
  const sections: string[] = []
  const {data} = doc
  for (const [key, value] of Object.entries(data)) {
    if (!isTableValue(value)) {
      root.push(`${key} = ${valueText(value, choose(3))}${choose(2) ? TRAILING : ''}`)
      if (choose(3) === 0) root.push('', '# a note between keys', '')
      continue
    }

    const name = stringify({[key]: {}}).trim()
    const entries = Object.entries(value).map(([entry, item]) => `${stringify({[entry]: 0}).split(' = ', 1)[0]} = ${valueText(item, choose(3))}`)
    const extras = FORMATTED_EXTRAS.filter(() => choose(2) === 1)
    if (choose(3) === 0) root.push(`${name.slice(1, -1)} = { ${[...entries, ...extras].join(', ')} }${choose(2) ? ' # inline' : ''}`)
    else sections.push('', `${name}${choose(2) ? '  # organization' : ''}`, ...extras, ...entries)
  }

  return [...root, ...sections, ''].join('\n')
})
.filter(text => {
  try {
    parseConfig(text, 'x')
    return true
  } catch {
    return false
  }
})

type Edit = {newOrg?: string; remove: string[]; set: Record<string, unknown>}

const CREDENTIAL_KEYS = ['refresh_token', 'token', 'token_expires_at']
const signInArb = fc.record({
  // Names the official CLI's toml 0.10 can read back (it refuses `[""]`, for one).
  newOrg: fc.option(fc.constantFrom('user-namespace', 'acme', 'a.b', 'with space', 'ünïcødé', 'new-org'), {nil: undefined}),
  refresh_token: fc.oneof(fc.constant(''), secretBody),
  token: secretBody,
  token_expires_at: fc.oneof(fc.constant(0), fc.integer({max: 2 ** 31, min: 1}), fc.double({max: 2 ** 31, min: 1, noNaN: true})),
})

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  // Sign-in and refresh: new credentials, maybe another organization and its table.
  signInArb.map(({newOrg, ...set}) => ({newOrg, remove: [], set: newOrg === undefined ? set : {...set, org: newOrg}})),
  // Logout: some or all of the credential keys go.
  fc.subarray(CREDENTIAL_KEYS, {minLength: 1}).map(remove => ({remove, set: {}})),
)

function isTableValue(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
}

/** The top-level key a line assigns (before the first table header), else undefined. */
function rootKeys(text: string): Array<string | undefined> {
  const lines = text.split('\n')
  const firstHeader = lines.findIndex(line => line.startsWith('['))
  return lines.map((line, index) => (firstHeader !== -1 && index >= firstHeader ? undefined : /^(\w+) = /v.exec(line)?.[1]))
}

/** The lines that are not a top-level assignment to one of the given keys. */
function linesOutside(text: string, keys: Set<string>): string[] {
  const owners = rootKeys(text)
  return text.split('\n').filter((_, index) => owners[index] === undefined || !keys.has(owners[index]))
}

/** Each top-level key's trailing comment (or ''). */
function trailingComments(text: string): Map<string, string> {
  const owners = rootKeys(text)
  return new Map(text.split('\n').flatMap((line, index) => (owners[index] === undefined ? [] : [[owners[index], line.endsWith(TRAILING) ? TRAILING : '']])))
}

const INTEROP = `
import json, math, sys, tomllib, toml
KNOWN = ("org", "token", "refresh_token", "token_expires_at")
def plain(v): return str(v) if isinstance(v, float) and not math.isfinite(v) else v
def view(d):
    tables = sorted(k for k, v in d.items() if isinstance(v, dict))
    return {"known": {k: plain(d[k]) for k in KNOWN if k in d}, "expiry_type": type(d.get("token_expires_at")).__name__, "tables": tables}
def load(reader):
    try:
        with open(sys.argv[1], "rb") as f: before = view(reader(f.read()))
    except Exception: return None
    with open(sys.argv[2], "rb") as f: return {**view(reader(f.read())), "tables_before": before["tables"]}
print(json.dumps([load(lambda b: tomllib.loads(b.decode())), load(lambda b: toml.loads(b.decode()))]))
`

/** A value as the Python side reports it: JSON has no inf or nan, so those as Python spells them. */
function asPython(value: unknown): unknown {
  if (typeof value !== 'number' || Number.isFinite(value)) return value
  return Number.isNaN(value) ? 'nan' : (value > 0 ? 'inf' : '-inf')
}

type PythonView = {expiry_type: string; known: Record<string, unknown>; tables: string[]; tables_before: string[]}

/** The document a command's edit makes, as saveCredentials and removeCredentials make it. */
function applyEdit(data: Record<string, unknown>, edit: Edit): Record<string, unknown> {
  const next = Object.fromEntries(Object.entries({...data, ...edit.set}).filter(([key]) => !edit.remove.includes(key)))
  if (edit.newOrg !== undefined && !isTableValue(next[edit.newOrg])) next[edit.newOrg] = {}
  return next
}

/**
 * The guarantee, for documents written by hand (comments, blank lines, inline
 * tables, hex and float forms, big integers) and the edits commands make:
 * - the file reads back to exactly the expected document;
 * - every line that is not an edited key's own line is kept byte for byte and
 *   in order, and the only lines added are the new keys' and, at the end, a
 *   new organization's header after a blank line;
 * - a key that is set where it was keeps its trailing comment, new keys go
 *   before the first table header;
 * - Python's tomllib and toml read the expected values (the expiry as a float).
 */
// eslint-disable-next-line mocha/max-top-level-suites -- the config properties share one file's document generators
describe('writes keep what users wrote', function () {
  this.timeout(300_000)

  it('random documents and random edits: only the edited keys change, byte for byte; Python reads the expected data', async () => {
    const {spawnSync} = await import('node:child_process')
    const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-preserve-'))
    const file = path.join(dir, 'pipecatcloud.toml')
    const original = path.join(dir, 'original.toml')
    try {
      await fc.assert(
        fc.asyncProperty(decoratedArb, editArb, async (text, edit) => {
          await writeFile(file, text, {mode: 0o600})
          const store = new ConfigStore(file)
          const before = (await store.read()).data
          // From the snapshot the write is made from, as commands do: untouched tables keep their identity.
          const expected = await store.update(({data}) => {
            const next = applyEdit(data, edit)
            return {data: next, result: next}
          })
          const after = await readFile(file, 'utf8')
          expect(parseConfig(after, file)).to.deep.equal(expected)

          const edited = new Set([...edit.remove, ...Object.keys(edit.set)])
          const header = edit.newOrg !== undefined && !isTableValue(before[edit.newOrg]) ? stringify({[edit.newOrg]: {}}).trim() : undefined
          const appended = header === undefined ? '' : `\n${header}\n`
          expect(after.endsWith(appended), after).to.equal(true)
          const kept = after.slice(0, after.length - appended.length)
          expect(linesOutside(kept, edited), after).to.deep.equal(linesOutside(text, edited))
          const comments = trailingComments(after)
          for (const [key, comment] of trailingComments(text)) if (Object.hasOwn(edit.set, key)) expect(comments.get(key), after).to.equal(comment)
          for (const key of Object.keys(edit.set)) expect(rootKeys(after), after).to.include(key)
          if (Object.hasOwn(edit.set, 'token_expires_at') && edit.set.token_expires_at !== 0) expect(after).to.match(/^token_expires_at = [\d.e+]*[.e]/mv)

          // Each library must read the new file to the expected data wherever it read the original.
          await writeFile(original, text)
          const {stdout} = spawnSync('/usr/bin/python3', ['-c', INTEROP, original, file], {encoding: 'utf8'})
          const views = (JSON.parse(stdout) as Array<null | PythonView>).filter(view => view !== null)
          expect(views.length, 'tomllib reads every document').to.be.greaterThan(0)
          const known = Object.fromEntries(Object.entries(expected).filter(([key]) => KNOWN.has(key)).map(([key, value]) => [key, asPython(value)]))
          for (const view of views) {
            expect(view.known).to.deep.equal(known)
            // Table names as each library spells them (toml 0.10 leaves escapes in quoted names), plus the one added.
            const added = header === undefined ? [] : [edit.newOrg!]
            expect(view.tables.toSorted()).to.deep.equal([...new Set([...view.tables_before, ...added])].toSorted())
            if (Object.hasOwn(edit.set, 'token_expires_at') && edit.set.token_expires_at !== 0) expect(view.expiry_type).to.equal('float')
          }
        }),
        seedParameters(Number(process.env.PRESERVE_RUNS) || 300),
      )
    } finally {
      await rm(dir, {force: true, recursive: true})
    }
  })
})
