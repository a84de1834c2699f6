/**
 * On Node older than 22 (the machine's own node, where it is one): bin/run.js
 * as packed and a host CLI that loads the plugin say in one line what is needed, exit 1,
 * and show no stack trace; the host's own commands still work.
 */
import {expect} from 'chai'
import {
  copyFile,
  mkdir,
  mkdtemp,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BIN, ROOT} from '../support/cli.js'
import {oldSystemNode, runProgram, SYSTEM_PATH} from './artifacts.js'

describe('on Node older than 22', function () {
  this.timeout(60_000)

  let node: string
  let work: string
  const env = {HOME: tmpdir(), NO_COLOR: '1', PATH: SYSTEM_PATH}

  before(async function () {
    const old = oldSystemNode()
    if (!old) {
      console.log(`      skipped: the node on ${SYSTEM_PATH} is not older than 22`)
      this.skip()
    }

    node = old
    work = await mkdtemp(path.join(tmpdir(), 'pipecat-old-node-'))
  })

  after(async () => {
    if (work) await rm(work, {force: true, recursive: true})
  })

  it('bin/run.js, as packed (no clone around it), prints what it needs, what it found and how to get it, and exits 1', async () => {
    // A clone runs under ~/.node22 instead (test/host/clone.test.ts).
    const packed = path.join(work, 'packed', 'bin', 'run.js')
    await mkdir(path.dirname(packed), {recursive: true})
    await copyFile(BIN, packed)
    const result = await runProgram(node, [packed, 'cloud', 'config'], {env})
    expect(result.code).to.equal(1)
    expect(result.stdout).to.equal('')
    const lines = result.stderr.trimEnd().split('\n')
    expect(lines).to.have.length(1)
    expect(lines[0]).to.match(/^pipecat needs Node\.js 22 or newer, but this is Node\.js v(?:1\d|2[01])\.\S+ \(.+\)\. Install Node\.js 22 /v)
  })

  describe('in a host CLI (bin `acme`) that runs on it', () => {
    let host: string

    before(async () => {
      host = path.join(work, 'acme')
      await mkdir(path.join(host, 'node_modules', '@oclif'), {recursive: true})
      await mkdir(path.join(host, 'node_modules', '@pipecat-ai'))
      await mkdir(path.join(host, 'bin'))
      for (const name of ['@oclif/core', '@oclif/plugin-help']) {
        await symlink(path.join(ROOT, 'node_modules', name), path.join(host, 'node_modules', name), 'dir')
      }

      await symlink(ROOT, path.join(host, 'node_modules', '@pipecat-ai', 'plugin-cloud'), 'dir')
      const dependencies = {'@oclif/core': '*', '@oclif/plugin-help': '*', '@pipecat-ai/plugin-cloud': '*'}
      await writeFile(path.join(host, 'package.json'), JSON.stringify({
        dependencies,
        name: 'acme',
        oclif: {
          bin: 'acme', dirname: 'acme', plugins: ['@oclif/plugin-help', '@pipecat-ai/plugin-cloud'], topicSeparator: ' ',
        },
        type: 'module',
        version: '1.0.0',
      }))
      await writeFile(path.join(host, 'bin', 'run.js'), "import {execute} from '@oclif/core'\n\nawait execute({dir: import.meta.url})\n")
    })

    const acme = async (...args: string[]) => runProgram(node, [path.join(host, 'bin', 'run.js'), ...args], {env: {...env, ACME_DATA_DIR: path.join(work, 'data')}})

    for (const command of [['cloud', 'auth', 'whoami'], ['cloud', 'config'], ['cloud']]) {
      it(`acme ${command.join(' ')} says the cloud commands need Node 22, exit 1`, async () => {
        const result = await acme(...command)
        expect(result.code, result.stderr).to.equal(1)
        const error = result.stderr.replaceAll(/\s*›\s+/gv, ' ')
        expect(error).to.match(/Error: The Pipecat Cloud commands need Node\.js 22 or newer, but acme runs on Node\.js v\d+\.\S+ \(.+\)\. Install Node\.js 22/v)
        expect(result.stderr).not.to.match(/^\s+at /mv)
      })
    }

    it("leaves the host's own commands alone", async () => {
      const result = await acme('--help')
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include('$ acme [COMMAND]')
    })
  })
})
