import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {readdir, readFile} from 'node:fs/promises'
import path from 'node:path'
import {parse} from 'smol-toml'

import {ConfigStore} from '../../src/config/file.js'
import {
  BIN,
  cleanEnv,
  ROOT,
  runCli,
} from '../support/cli.js'
import {fileMode, tempConfig} from '../support/config.js'
import {pythonDump, pythonLoad} from '../support/python.js'

const WORKER = path.join(ROOT, 'test', 'fixtures', 'config-worker.ts')

function worker(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit']})
}

async function exited(child: ReturnType<typeof worker>): Promise<null | number> {
  return new Promise(resolve => {
    child.on('exit', code => {
      resolve(code);
    })
  })
}

describe('the config file', () => {
  let config: Awaited<ReturnType<typeof tempConfig>>

  afterEach(async () => {
    await config.cleanup()
  })

  it('is written 0600 in a 0700 folder, keeps keys it does not know, and loads in tomllib and toml 0.10 to the same data', async () => {
    config = await tempConfig()
    const store = new ConfigStore(config.file)
    const data = {
      'acme.inc': {default_public_key: 'pk_a', default_public_key_name: String.raw`Key "quoted" \ backslash`},
      extra_top_table: {nested: {deep: 'kept'}},
      org: 'acme.inc',
      refresh_token: '',
      token: 'tok_with_unicode_ünï',
      token_expires_at: 1_764_000_000.25,
    }
    await store.write(data)
    await store.update(({data: current}) => ({data: {...current, org: 'acme.inc'}, result: undefined}))
    expect(await fileMode(config.file)).to.equal(0o600)
    expect(await fileMode(path.dirname(config.file))).to.equal(0o700)
    expect(await pythonLoad(config.file, 'tomllib')).to.deep.equal(data)
    expect(await pythonLoad(config.file, 'toml')).to.deep.equal(data)
    expect((await store.read()).data).to.deep.equal(data)
  })

  it('loads files in the official CLI layout, written by toml 0.10 (empty refresh token, 0 and float expiry)', async () => {
    config = await tempConfig('')
    await pythonDump(config.file, {
      'another-user-org': {default_public_key: 'pk_x', default_public_key_name: 'Test Key'},
      org: 'user-namespace',
      refresh_token: '',
      token: 'legacy-token',
      token_expires_at: 0,
      'user-namespace': {},
    })
    const zero = await runCli(['cloud', 'config', '--json'], {env: config.env})
    expect(zero.code, zero.stderr).to.equal(0)
    const report = JSON.parse(zero.stdout) as {organizations: Record<string, unknown>; settings: Record<string, {value: unknown}>; tokenExpiry: unknown}
    expect(report.settings.token_expires_at!.value).to.equal(0)
    expect(report.tokenExpiry).to.equal(null)
    expect(report.organizations).to.have.keys('another-user-org', 'user-namespace')

    const expiry = (Date.now() / 1000) + 3600.123456
    await pythonDump(config.file, {
      org: 'user-namespace', refresh_token: 'rt', token: 'tok', token_expires_at: expiry,
    })
    expect(await readFile(config.file, 'utf8')).to.match(/token_expires_at = \d+\.\d+/v)
    const float = await runCli(['cloud', 'config', '--json'], {env: config.env})
    expect((JSON.parse(float.stdout) as {tokenExpiry: {relative: string}}).tokenExpiry.relative).to.match(/^in (?:59 min|1 h)$/v)
  })

  it('a killed writer leaves the old or the new file, never a partial one', async function () {
    this.timeout(60_000)
    config = await tempConfig()
    await new ConfigStore(config.file).write({org: 'initial'})
    for (let round = 0; round < 6; round++) {
      const child = worker(['write', config.file, `w${round}`])
      await new Promise(resolve => {
        child.stdout.once('data', resolve)
      })
      await new Promise(resolve => {
        setTimeout(resolve, 20 + (round * 37))
      })
      child.kill('SIGKILL')
      await exited(child)
      const data = parse(await readFile(config.file, 'utf8'))
      expect(data.org).to.equal(`w${round}`)
      expect(Object.keys(data[`w${round}`] as object)).to.have.length(2000)
    }
  })

  it('two processes updating different keys at once lose neither update', async function () {
    this.timeout(60_000)
    config = await tempConfig('org = "shared"\n')
    const count = 25
    const codes = await Promise.all(['alpha', 'beta', 'gamma'].map(async org => exited(worker(['update', config.file, org, String(count)]))))
    expect(codes).to.deep.equal([0, 0, 0])
    const data = parse(await readFile(config.file, 'utf8'))
    for (const org of ['alpha', 'beta', 'gamma']) expect(Object.keys(data[org] as object)).to.have.length(count)
    expect(data.org).to.equal('shared')
    expect((await readdir(path.dirname(config.file))).toSorted()).to.deep.equal(['pipecatcloud.toml'])
  })

  it('breaks a stale lock left by a crashed process', async function () {
    this.timeout(30_000)
    config = await tempConfig('org = "x"\n')
    const {mkdir, utimes} = await import('node:fs/promises')
    const lockDir = `${config.file}.lock`
    await mkdir(lockDir)
    const old = new Date(Date.now() - 60_000)
    await utimes(lockDir, old, old)
    await new ConfigStore(config.file).update(({data}) => ({data: {...data, org: 'y'}, result: undefined}))
    expect(parse(await readFile(config.file, 'utf8')).org).to.equal('y')
  })

  it('a failed write leaves the old file and no temporary file', async () => {
    config = await tempConfig('org = "before"\n')
    const {chmod} = await import('node:fs/promises')
    // Writing through a path whose folder is a file fails like a full disk would: before anything is renamed.
    const store = new ConfigStore(path.join(config.file, 'nested.toml'))
    let failure: Error | undefined
    await store.write({org: 'after'}).catch((error: Error) => {
      failure = error
    })
    expect(failure?.message).to.match(/Could not (?:create the folder|save the config file)/v)
    expect(await readFile(config.file, 'utf8')).to.equal('org = "before"\n')
    await chmod(path.dirname(config.file), 0o700)
    expect(await readdir(path.dirname(config.file))).to.deep.equal(['pipecatcloud.toml'])
  })

  it('a full disk: clear error, the old file intact, no temporary file left', async function () {
    config = await tempConfig()
    const {mkdir, rm, writeFile: write} = await import('node:fs/promises')
    const {execFile} = await import('node:child_process')
    const mount = async (args: string[]) =>
      new Promise<boolean>(resolve => {
        execFile(args[0]!, args.slice(1), error => {
          resolve(!error);
        })
      })
    const disk = path.join(config.dir, 'disk')
    await mkdir(disk)
    if (!(await mount(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]))) this.skip()
    try {
      const file = path.join(disk, 'pipecatcloud.toml')
      const store = new ConfigStore(file)
      await store.write({org: 'before'})
      await write(path.join(disk, 'filler'), Buffer.alloc(40 * 1024)).catch(() => {})
      let failure: Error | undefined
      await store
      .update(({data}) => ({data: {...data, big: {value: 'x'.repeat(64 * 1024)}}, result: undefined}))
      .catch((error: Error) => {
        failure = error
      })
      expect(failure?.message).to.equal(`Could not save the config file ${file}: no space left on the device`)
      expect(await readFile(file, 'utf8')).to.equal('org = "before"\n')
      expect((await readdir(disk)).toSorted()).to.deep.equal(['filler', 'pipecatcloud.toml'])
      await rm(path.join(disk, 'filler'))
    } finally {
      await mount(['umount', disk])
    }
  })

  it('a token in a file whose permissions cannot be repaired is not used, and the user is told', async function () {
    config = await tempConfig('token = "pcc_pat_insecure"\n')
    const {chmod} = await import('node:fs/promises')
    const {execFile} = await import('node:child_process')
    const chattr = async (flag: string) =>
      new Promise<boolean>(resolve => {
        execFile('chattr', [flag, config.file], error => {
          resolve(!error);
        })
      })
    await chmod(config.file, 0o644)
    if (!(await chattr('+i'))) this.skip()
    try {
      const {code, stderr} = await runCli(['cloud', 'config'], {env: config.env})
      expect(code).to.equal(0)
      expect(stderr).to.contain('is accessible to other users (mode 0644) and its permissions could not be fixed')
      expect(stderr).to.contain(`chmod 600 ${config.file}`)
    } finally {
      await chattr('-i')
    }
  })

  it('a symlinked config file is written through the link', async () => {
    config = await tempConfig('org = "a"\n')
    const {symlink} = await import('node:fs/promises')
    const link = path.join(config.dir, 'link.toml')
    await symlink(config.file, link)
    await new ConfigStore(link).update(({data}) => ({data: {...data, org: 'b'}, result: undefined}))
    expect(await readFile(config.file, 'utf8')).to.contain('org = "b"')
    const {lstat} = await import('node:fs/promises')
    expect((await lstat(link)).isSymbolicLink()).to.equal(true)
  })

  it('`cloud config` and `--help` never load the HTTP client, the browser opener or node:crypto', async () => {
    config = await tempConfig('token = "pcc_pat_abc"\n')
    const hook = path.join(ROOT, 'test', 'fixtures', 'forbid-modules.mjs')
    for (const args of [['cloud', 'config'], ['cloud', '--config', '--json'], ['cloud', 'config', '--help'], ['--help']]) {
      const code = await new Promise<null | number>(resolve => {
        const child = spawn(process.execPath, ['--import', hook, BIN, ...args], {env: cleanEnv(config.env), stdio: 'ignore'})
        child.on('exit', resolve)
      })
      expect(code, args.join(' ')).to.equal(0)
    }

    // The hook itself works: importing each of them under it fails, and without it succeeds.
    for (const specifier of ['got', '#vendor/got', '#vendor/toml-patch', 'node:crypto']) {
      const importIt = async (withHook: boolean) =>
        new Promise<null | number>(resolve => {
          const hookArgs = withHook ? ['--import', hook] : []
          const child = spawn(process.execPath, [...hookArgs, '--input-type=module', '-e', `await import('${specifier}')`], {cwd: ROOT, stdio: 'ignore'})
          child.on('exit', resolve)
        })
      expect(await importIt(false), specifier).to.equal(0)
      expect(await importIt(true), specifier).to.not.equal(0)
    }
  })
})
