/**
 * A config path in a shared sticky folder (as /tmp), the file not there yet:
 * another user plants `pipecatcloud.toml -> ~victim/precious`, before the
 * command, while it waits for the lock another command holds, or between its
 * read and its write. The victim's file is never replaced: a link another user
 * owns is refused, and a write goes to the path resolved when the file was
 * read. The CLI runs as the victim (uid 1234, through setpriv: root only).
 */
import {expect} from 'chai'
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  rmdir,
  symlink,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'

import {BIN, type CliResult, startProcess} from '../support/cli.js'
import {emulatorSuite} from '../support/suite.js'

const VICTIM = 1234
const ATTACKER = 1235
const PRECIOUS = '[tool]\nsetting = "the victim\'s own file"\n'

describe('a symlink planted in a shared sticky folder', function () {
  this.timeout(60_000)
  const suite = emulatorSuite({config: false})
  let root: string
  let shared: string
  let precious: string
  let file: string

  before(function () {
    if (process.getuid?.() !== 0) this.skip()
  })

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'pipecat-shared-'))
    await chmod(root, 0o755)
    shared = path.join(root, 'shared')
    await mkdir(shared)
    await chmod(shared, 0o1777)
    const home = path.join(root, 'victim')
    await mkdir(home, {mode: 0o700})
    await chown(home, VICTIM, VICTIM)
    precious = path.join(home, 'precious.toml')
    await writeFile(precious, PRECIOUS, {mode: 0o600})
    await chown(precious, VICTIM, VICTIM)
    file = path.join(shared, 'pipecatcloud.toml')
  })

  afterEach(async () => {
    await rm(root, {force: true, recursive: true})
  })

  /** The attacker's link, owned by the attacker. */
  const plant = async () => {
    await symlink(precious, file)
    await lchown(file, ATTACKER, ATTACKER)
  }

  const login = (input: string) => {
    const env = {
      HOME: path.join(root, 'victim'), NO_COLOR: '1', PATH: '/usr/bin:/bin', PIPECAT_API_HOST: suite.emulator.url, PIPECAT_CONFIG_PATH: file, SHELL: '/bin/sh',
    }
    const child = startProcess('/usr/bin/setpriv', ['--reuid', String(VICTIM), '--regid', String(VICTIM), '--clear-groups', process.execPath, BIN, 'cloud', 'auth', 'login', '--with-token'], {env})
    child.stdin.end(input)
    return child
  }

  const expectPreciousKept = async (result: CliResult) => {
    expect(await readFile(precious, 'utf8'), `the victim's file; the CLI said:\n${result.stdout}${result.stderr}`).to.equal(PRECIOUS)
  }

  it('planted before the command: refused by name, nothing written', async () => {
    await plant()
    const result = await login(`${suite.emulator.issuePat()}\n`).result
    expect(result.code).to.equal(1)
    expect(result.stderr).to.contain(`The config file ${file} is not trusted: it is a symbolic link owned by another user (uid ${ATTACKER})`)
    await expectPreciousKept(result)
  })

  it('planted while the command waits for the lock another command holds: refused, nothing written', async () => {
    const lock = `${file}.lock`
    await mkdir(lock)
    await chown(lock, VICTIM, VICTIM)
    const child = login(`${suite.emulator.issuePat()}\n`)
    // The command has looked at the path (nothing there) and waits for the lock.
    await delay(1500)
    await plant()
    await rmdir(lock)
    const result = await child.result
    expect(result.code).to.equal(1)
    expect(result.stderr).to.contain('it is a symbolic link owned by another user')
    await expectPreciousKept(result)
  })

  it('planted between the read and the write: the write replaces the link, never follows it', async () => {
    const {ConfigStore} = await import('../../src/config/file.js')
    const store = new ConfigStore(file)
    const written = await store.update(async snapshot => {
      expect(snapshot.exists).to.equal(false)
      await plant()
      return {data: {org: 'acme', token: 'pcc_pat_written'}, result: true}
    }).catch((error: unknown) => error)
    // Either the write notices the file changed since it was read and reads again (then refuses the link), or it
    // replaces the link itself (as root; as the victim the sticky folder forbids that): never writes through it.
    if (written === true) expect((await lstat(file)).isFile(), 'a regular file now stands where the link was').to.equal(true)
    else expect((written as Error).message).to.contain('it is a symbolic link owned by another user')
    expect(await readFile(precious, 'utf8')).to.equal(PRECIOUS)
  })
})
