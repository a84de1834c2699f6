/**
 * From a clone, as the README runs it: after `npm install` (which builds
 * nothing and runs no lifecycle script), `./bin/run.js` works on the machine's
 * Node 20 through the Node 22 the npm scripts keep in ~/.node22, builds dist/
 * first when there is none, and bin/dev.js does the same without a stack trace.
 * The busy-port error of `npm run emulator` is here too: it is what a clone runs.
 */
import {expect} from 'chai'
import {
  cp,
  mkdir,
  mkdtemp,
  rm,
  symlink,
} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {oldSystemNode, runProgram, SYSTEM_PATH} from '../standalone/artifacts.js'
import {BIN, ROOT} from '../support/cli.js'

const STACK_LINE = /^\s+at /mv
/** The line with which the npm scripts and the bins say they switched Node. */
const SWITCHED = /^Node v(?:1\d|2[01])\.\S+ is older than 22: using Node v2\d\.\S+ from \S+\/\.node22 \(npm registry\)\.$/mv

describe('from a clone', function () {
  this.timeout(180_000)

  let work: string
  let home: string

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'pipecat-clone-'))
    // A home whose ~/.node22 holds the Node running these tests, as scripts/with-node.sh leaves it.
    home = path.join(work, 'home')
    await mkdir(path.join(home, '.node22', 'node_modules', '.bin'), {recursive: true})
    await symlink(process.execPath, path.join(home, '.node22', 'node_modules', '.bin', 'node'))
  })

  after(async () => {
    if (work) await rm(work, {force: true, recursive: true})
  })

  const env = (extra: Record<string, string> = {}) => ({
    HOME: home, NO_COLOR: '1', PATH: SYSTEM_PATH, PIPECAT_CONFIG_PATH: path.join(work, 'none.toml'), ...extra,
  })

  describe("on the machine's Node older than 22", () => {
    let node: string

    before(function () {
      const old = oldSystemNode()
      if (!old) {
        console.log(`      skipped: the node on ${SYSTEM_PATH} is not older than 22`)
        this.skip()
      }

      node = old
    })

    it('./bin/run.js runs under ~/.node22, saying so in one line on stderr', async () => {
      const result = await runProgram(BIN, ['cloud', 'config', '--json'], {cwd: ROOT, env: env()})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr).to.match(SWITCHED)
      expect(result.stderr.trimEnd().split('\n')).to.have.length(1)
      expect(JSON.parse(result.stdout)).to.include({exists: false})
    })

    it('passes the exit code through (whoami signed out: 4)', async () => {
      const result = await runProgram(node, [BIN, 'cloud', 'auth', 'whoami'], {cwd: ROOT, env: env()})
      expect(result.code).to.equal(4)
      expect(result.stderr).to.match(SWITCHED)
      expect(result.stderr).to.include('pipecat cloud auth login')
    })

    it('./bin/dev.js runs the sources under ~/.node22, no stack trace', async () => {
      const result = await runProgram(path.join(ROOT, 'bin', 'dev.js'), ['cloud', 'config', '--json'], {cwd: ROOT, env: env()})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr).to.match(SWITCHED)
      expect(result.stderr).not.to.match(STACK_LINE)
      expect(result.stderr).not.to.include('Warning')
      expect(JSON.parse(result.stdout)).to.include({exists: false})
    })

    it('bin/dev.js, by its #! line or as `node bin/dev.js`, says a mistyped command as bin/run.js does, no stack trace', async () => {
      const dev = path.join(ROOT, 'bin', 'dev.js')
      for (const [how, program, args] of [['./bin/dev.js', dev, ['clod']], ['node bin/dev.js', node, [dev, 'clod']]] as const) {
        const result = await runProgram(program, [...args], {cwd: ROOT, env: env()})
        expect(result.code, `${how}: ${result.stderr}`).to.equal(2)
        expect(result.stderr, how).to.match(SWITCHED)
        expect(result.stderr, how).to.include('Error: Unknown command: clod\nTry this: Did you mean `pipecat cloud`?')
        expect(result.stderr, how).not.to.match(STACK_LINE)
      }
    })
  })

  it('./bin/run.js in a clone with no build yet builds first, the build output on stderr only', async () => {
    const clone = path.join(work, 'clone')
    await cp(ROOT, clone, {
      filter: source => !/^(?:\.git|node_modules|dist|tmp.*|.*\.tgz|oclif\.manifest\.json|tsconfig\.tsbuildinfo)$/v.test(path.relative(ROOT, source).split(path.sep)[0] ?? ''),
      recursive: true,
    })
    await symlink(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir')
    const result = await runProgram(process.execPath, [path.join(clone, 'bin', 'run.js'), 'cloud', 'config', '--json'], {
      cwd: clone,
      env: env({PATH: `${path.dirname(process.execPath)}:${SYSTEM_PATH}`}),
      timeoutMs: 170_000,
    })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.include('No build in this clone yet: running `npm run build` first.')
    expect(JSON.parse(result.stdout)).to.include({exists: false})
  })

  describe('npm run emulator', () => {
    let server: Server

    before(async () => {
      server = createServer()
      await new Promise<void>(resolve => {
        server.listen(0, '127.0.0.1', resolve)
      })
    })

    after(() => {
      server?.close()
    })

    it('on a busy port says so in one line, exit 1', async () => {
      const {port} = server.address() as {port: number}
      const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs')
      const result = await runProgram(process.execPath, [tsx, path.join(ROOT, 'test', 'emulator', 'cli.ts'), '--port', String(port)], {
        cwd: ROOT,
        env: env(),
      })
      expect(result.code).to.equal(1)
      expect(result.stdout).to.equal('')
      expect(result.stderr.trimEnd().split('\n')).to.deep.equal([
        `Port ${port} on 127.0.0.1 is already in use. Stop what listens there, or choose another --port (0 picks a free one).`,
      ])
    })
  })
})
