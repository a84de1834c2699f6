/**
 * `npm run demo`, the README's "run it" command: against the emulator, with a
 * temporary config, login (the demo plays the browser), whoami, config and
 * logout all succeed, each printed with its command line.
 */
import {expect} from 'chai'
import path from 'node:path'

import {
  cleanEnv,
  type CliResult,
  ROOT,
  startProcess,
} from '../support/cli.js'

async function runDemo(): Promise<CliResult> {
  const child = startProcess(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'demo.ts')], {cwd: ROOT, env: cleanEnv(), timeoutMs: 120_000})
  child.stdin.end()
  return child.result
}

describe('npm run demo', () => {
  it('signs in, shows the account and the config, signs out, and exits 0', async () => {
    const result = await runDemo()
    expect(result.code, result.stderr + result.stdout).to.equal(0)
    const commands = ['auth login --headless', 'auth whoami', 'config', 'auth logout'].map(command => `$ pipecat cloud ${command}`)
    let at = -1
    for (const command of commands) {
      const next = result.stdout.indexOf(command, at + 1)
      expect(next, `${command} after the previous step`).to.be.greaterThan(at)
      at = next
    }

    expect(result.stderr).to.match(/\/oauth\/authorize\?/v)
    expect(result.stdout).to.include('dev@example.com')
    expect(result.stdout).to.include('Demo complete')
  })
})
