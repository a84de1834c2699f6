/**
 * The config file decides where tokens go, so it is only believed when no one
 * else could have written it (as ssh treats its config), and only a regular
 * file is ever read, repaired or replaced at the config path.
 *
 * "Another user" needs a real other uid: these tests chown to nobody (65534),
 * which needs root; they are skipped otherwise.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import {createServer, type IncomingHttpHeaders} from 'node:http'
import {createServer as createNetServer, type Server as NetServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {startEmulator} from '../emulator/server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {errorLines, expectNoLeaks} from '../support/expect.js'
import {emulatorSuite} from '../support/suite.js'

const NOBODY = 65_534

/** A group that is the primary group of some user other than us (so others can write what it may write). */
function sharedGroup(): number | undefined {
  const me = process.getuid?.() ?? 0
  const users = readFileSync('/etc/passwd', 'utf8').split('\n').map(line => line.split(':'))
  const other = users.find(fields => fields.length > 3 && Number(fields[2]) !== me && Number(fields[3]) !== 0 && Number(fields[3]) !== (process.getgid?.() ?? 0))
  return other ? Number(other[3]) : undefined
}

const ENV_TOKEN = 'pcc_pat_trusttestenvtoken0000'
const FILE_TOKEN = 'pcc_pat_trusttestfiletoken000'
const WHOAMI = ['cloud', 'auth', 'whoami']
const CONFIG = ['cloud', 'config']
const LOGIN = ['cloud', 'auth', 'login', '--with-token']
const LOGOUT = ['cloud', 'auth', 'logout']

const isRoot = process.getuid?.() === 0

type Seen = {headers: IncomingHttpHeaders; url: string}

/** A server that would happily collect tokens: it records every request and answers like the service. */
async function startHostile(): Promise<{close(): Promise<void>; seen: Seen[]; url: string}> {
  const seen: Seen[] = []
  const server = createServer((request, response) => {
    seen.push({headers: request.headers, url: request.url ?? ''})
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({email: 'victim@example.com', organizations: [], user_id: 'u1'}))
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as {port: number}
  return {
    async close() {
      server.closeAllConnections()
      await new Promise<void>(resolve => {
        server.close(() => {
          resolve()
        })
      })
    },
    seen,
    url: `http://127.0.0.1:${port}`,
  }
}

/** What a node at a path is, as lstat and stat see it (type bits, permissions, owner, device number). */
async function describeNode(file: string): Promise<string> {
  const link = await lstat(file)
  const target = await stat(file).catch(() => link)
  const one = (s: typeof link) => `${s.mode.toString(8)}/${s.uid}/${s.rdev}`
  return `${one(link)} -> ${one(target)}`
}

function expectUntrusted(result: CliResult, file: string, ...fixes: RegExp[]): void {
  expect(result.code, result.stderr).to.equal(1)
  expectNoLeaks(result, ENV_TOKEN, FILE_TOKEN)
  const {error, suggestion} = errorLines(result)
  expect(error).to.contain(file).and.to.contain('not trusted')
  for (const fix of fixes) expect(suggestion).to.match(fix)
}

describe('the config path, attacked', () => {
  describe('the config file is trusted only when no one else could have written it', function () {
    this.timeout(60_000)
    let dir: string
    let hostile: Awaited<ReturnType<typeof startHostile>>

    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'pipecat-trust-'))
      hostile = await startHostile()
    })

    afterEach(async () => {
      await hostile.close()
      await rm(dir, {force: true, recursive: true})
    })

    /** The file: `[o1] api_host` pointing at the hostile server, in a folder at `folder`. */
    async function plant(folderMode: number, fileMode: number, owner: number, extra = '', group = owner): Promise<string> {
      const folder = path.join(dir, 'pipecatcloud')
      const file = path.join(folder, 'pipecatcloud.toml')
      await mkdir(folder)
      await writeFile(file, `org = "o1"\n${extra}\n[o1]\napi_host = "${hostile.url}"\ndashboard_host = "${hostile.url}"\nwhoami_path = "/steal"\n`)
      await chown(file, owner, group)
      await chown(folder, owner, group)
      await chmod(file, fileMode)
      await chmod(folder, folderMode)
      return file
    }

    describe('a file another user could have written', () => {
      before(function () {
        if (!isRoot) this.skip()
      })

      it("the issue's attack: another user's file in a folder anyone can write sends PIPECAT_TOKEN nowhere", async () => {
        const file = await plant(0o777, 0o644, NOBODY)
        const before = await describeNode(file)
        const result = await runCli(WHOAMI, {env: {PIPECAT_CONFIG_PATH: file, PIPECAT_TOKEN: ENV_TOKEN}})
        expect(hostile.seen, 'requests the hostile server received').to.deep.equal([])
        expectUntrusted(result, file, /chown/v, /PIPECAT_CONFIG_PATH/v)
        expect(result.stderr).to.contain(`owned by another user (uid ${NOBODY})`)
        // Someone else's file is never "repaired", even though root could chmod it.
        expect(await describeNode(file)).to.equal(before)
      })

      it('another user\'s file in our own private folder: every command refuses it, and nothing is changed', async () => {
        const file = await plant(0o700, 0o600, NOBODY, `token = "${FILE_TOKEN}"`)
        await chown(path.dirname(file), 0, 0)
        const before = await readFile(file)
        const node = await describeNode(file)
        for (const args of [WHOAMI, CONFIG, LOGOUT]) {
          const result = await runCli(args, {env: {PIPECAT_CONFIG_PATH: file}})
          expectUntrusted(result, file, /chown/v)
        }

        const emulator = await startEmulator()
        try {
          const result = await runCli(LOGIN, {env: {PIPECAT_API_HOST: emulator.url, PIPECAT_CONFIG_PATH: file}, input: `${emulator.issuePat()}\n`})
          expectUntrusted(result, file, /chown/v)
        } finally {
          await emulator.close()
        }

        expect(hostile.seen).to.deep.equal([])
        expect((await readFile(file)).equals(before), 'the file is unchanged').to.equal(true)
        expect(await describeNode(file)).to.equal(node)
        expect(await readdir(path.dirname(file))).to.deep.equal(['pipecatcloud.toml'])
      })
    })

    it('our own file in a folder writable by a group others belong to is refused; the folder is left as it is', async () => {
      const shared = sharedGroup()
      if (shared === undefined) return
      for (const mode of [0o770, 0o775]) {
        await rm(path.join(dir, 'pipecatcloud'), {force: true, recursive: true})

        const file = await plant(mode, 0o600, process.getuid?.() ?? 0, '', shared)

        const result = await runCli(WHOAMI, {env: {PIPECAT_CONFIG_PATH: file, PIPECAT_TOKEN: ENV_TOKEN}})
        expect(hostile.seen).to.deep.equal([])
        expectUntrusted(result, file, /chmod go-w/v)
        expect(result.stderr).to.contain(`writable by other users (mode 0${mode.toString(8)})`)

        expect((await stat(path.dirname(file))).mode % 0o1000).to.equal(mode)
      }
    })

    it('a group-writable folder (and file) whose group is our own private group, as the official CLI makes under umask 002, is trusted', async () => {
      const me = process.getuid?.() ?? 0
      const mine = process.getgid?.() ?? 0
      const file = await plant(0o775, 0o660, me, '', mine)
      const result = await runCli([...CONFIG, '--json'], {env: {PIPECAT_CONFIG_PATH: file}})
      expect(result.code, result.stderr).to.equal(0)
      const report = JSON.parse(result.stdout) as {settings: {api_host: {value: string}}}
      expect(report.settings.api_host.value).to.equal(hostile.url)
      // the file itself is still made private, as the official CLI does
      expect((await stat(file)).mode % 0o1000).to.equal(0o600)
      expect((await stat(path.dirname(file))).mode % 0o1000).to.equal(0o775)
    })

    it('our own file writable by others is refused and not chmod-ed (that would bless what others wrote)', async () => {
      const file = await plant(0o700, 0o666, process.getuid?.() ?? 0, `token = "${FILE_TOKEN}"`)
      const result = await runCli(WHOAMI, {env: {PIPECAT_CONFIG_PATH: file}})
      expect(hostile.seen).to.deep.equal([])
      expectUntrusted(result, file, /chmod 600/v)
      expect(result.stderr).to.contain('writable by other users (mode 0666)')
      expect((await stat(file)).mode % 0o1000).to.equal(0o666)
    })

    it('a folder anyone can write but with the sticky bit (like /tmp), holding our own private file, is trusted', async () => {
      const file = await plant(0o1777, 0o600, process.getuid?.() ?? 0)
      const result = await runCli([...CONFIG, '--json'], {env: {PIPECAT_CONFIG_PATH: file}})
      expect(result.code, result.stderr).to.equal(0)
      const report = JSON.parse(result.stdout) as {settings: {api_host: {value: string}}}
      expect(report.settings.api_host.value).to.equal(hostile.url)
    })
  })

  describe('not a regular file at the config path', function () {
    this.timeout(120_000)
    const suite = emulatorSuite({config: false})
    let dir: string

    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'pipecat-special-'))
    })

    afterEach(async () => {
      await rm(dir, {force: true, recursive: true})
    })

    /** Every command, each given a short leash: a FIFO opened for reading blocks forever. */
    async function everyCommand(file: string): Promise<Array<{args: string[]; result: CliResult}>> {
      const env = {PIPECAT_API_HOST: suite.emulator.url, PIPECAT_CONFIG_PATH: file}
      const runs: Array<{args: string[]; result: CliResult}> = []
      for (const args of [CONFIG, WHOAMI, LOGOUT, LOGIN]) {
        const result = await runCli(args, {env, input: args === LOGIN ? `${suite.emulator.issuePat()}\n` : '', timeoutMs: 8000})
        runs.push({args, result})
      }

      return runs
    }

    function expectRefused({args, result}: {args: string[]; result: CliResult}, file: string, what: RegExp): void {
      const label = `${args.join(' ')}: ${result.stderr}`
      expect(result.signal, label).to.equal(null)
      expect(result.code, label).to.equal(1)
      expectNoLeaks(result)
      const {error, suggestion} = errorLines(result)
      expect(error, label).to.contain(file).and.to.match(what)
      expect(suggestion, label).to.match(/PIPECAT_CONFIG_PATH/v)
    }

    it('a character device like /dev/null (made here with mknod): read by no command, chmod-ed by none, replaced by none', async function () {
      if (!isRoot) this.skip()
      const file = path.join(dir, 'null')
      execFileSync('mknod', [file, 'c', '1', '3'])
      await chmod(file, 0o666)
      const before = await describeNode(file)
      for (const run of await everyCommand(file)) {
        expectRefused(run, file, /character device/v)
        expect(await describeNode(file), run.args.join(' ')).to.equal(before)
      }

      expect(await readdir(dir)).to.deep.equal(['null'])
    })

    it('a symlink to a device is refused the same way, and the link stays', async function () {
      if (!isRoot) this.skip()
      const device = path.join(dir, 'null')
      const file = path.join(dir, 'pipecatcloud.toml')
      execFileSync('mknod', [device, 'c', '1', '3'])
      await chmod(device, 0o666)
      await symlink(device, file)
      const before = await describeNode(file)
      for (const run of await everyCommand(file)) {
        expectRefused(run, file, /character device/v)
        expect(await describeNode(file), run.args.join(' ')).to.equal(before)
      }
    })

    it('a FIFO: every command stops at once instead of waiting forever for a writer', async () => {
      const file = path.join(dir, 'pipecatcloud.toml')
      execFileSync('mkfifo', ['-m', '0644', file])
      const before = await describeNode(file)
      for (const run of await everyCommand(file)) {
        expectRefused(run, file, /FIFO/v)
        expect(await describeNode(file), run.args.join(' ')).to.equal(before)
      }

      expect(await readdir(dir)).to.deep.equal(['pipecatcloud.toml'])
    })

    it('a socket', async () => {
      const file = path.join(dir, 'pipecatcloud.toml')
      const server: NetServer = createNetServer(socket => {
        socket.end()
      })
      await new Promise<void>(resolve => {
        server.listen(file, () => {
          resolve()
        })
      })
      try {
        await chmod(file, 0o666)
        const before = await describeNode(file)
        for (const run of await everyCommand(file)) {
          expectRefused(run, file, /socket/v)
          expect(await describeNode(file), run.args.join(' ')).to.equal(before)
        }
      } finally {
        await new Promise<void>(resolve => {
          server.close(() => {
            resolve()
          })
        })
      }
    })
  })
})
