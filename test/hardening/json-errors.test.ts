/**
 * Under --json every failure, usage errors included, is one document on
 * stdout: {"error": {"message", "code", "exit", "suggestions"}}, with a
 * stable code and none of the framework's internals.
 */
import {expect} from 'chai'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {runCli} from '../support/cli.js'
import {tempConfig, type TempConfig} from '../support/config.js'

type ErrorDocument = {error: {code: string; exit: number; message: string; suggestions: string[]}}

function errorDocument(stdout: string): ErrorDocument['error'] {
  const document = JSON.parse(stdout) as ErrorDocument
  expect(Object.keys(document)).to.deep.equal(['error'])
  expect(Object.keys(document.error).toSorted()).to.deep.equal(['code', 'exit', 'message', 'suggestions'])
  return document.error
}

describe('errors under --json: one document, a stable code', function () {
  this.timeout(30_000)
  let config: TempConfig

  beforeEach(async () => {
    config = await tempConfig()
  })

  afterEach(async () => {
    await config.cleanup()
  })

  it('a flag that does not parse: code usage, exit 2, the message on one line without "See more help"', async () => {
    const result = await runCli(['cloud', 'auth', 'login', '--json', '--timeout', 'abc'], {env: config.env})
    expect(result.code).to.equal(2)
    const error = errorDocument(result.stdout)
    expect(error).to.deep.include({code: 'usage', exit: 2, message: 'Parsing --timeout: Expected an integer but received: abc'})
    expect(error.suggestions).to.deep.equal(['Run `pipecat cloud auth login --help` to see what it accepts.'])
  })

  it('the same usage error for people: our two lines', async () => {
    const result = await runCli(['cloud', 'auth', 'login', '--timeout', 'abc'], {env: config.env})
    expect(result.code).to.equal(2)
    expect(result.stderr.trimEnd().split('\n')).to.deep.equal([
      'Error: Parsing --timeout: Expected an integer but received: abc',
      'Try this: Run `pipecat cloud auth login --help` to see what it accepts.',
    ])
  })

  it('a flag that does not exist: code usage', async () => {
    const result = await runCli(['cloud', 'config', '--json', '--bogus'], {env: config.env})
    expect(result.code).to.equal(2)
    expect(errorDocument(result.stdout)).to.deep.include({code: 'usage', exit: 2})
  })

  it('not logged in: code not_logged_in, exit 4', async () => {
    const result = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: config.env})
    expect(result.code).to.equal(4)
    const error = errorDocument(result.stdout)
    expect(error).to.deep.include({code: 'not_logged_in', exit: 4, message: 'You are not logged in.'})
    expect(error.suggestions).to.deep.equal(['Run `pipecat cloud auth login` to sign in.'])
  })

  it('a malformed config file: code config, exit 1', async () => {
    await mkdir(path.dirname(config.file), {mode: 0o700, recursive: true})
    await writeFile(config.file, 'token = \n', {mode: 0o600})
    const result = await runCli(['cloud', 'config', '--json'], {env: config.env})
    expect(result.code).to.equal(1)
    expect(errorDocument(result.stdout)).to.deep.include({code: 'config', exit: 1})
  })

  it('a service that cannot be reached: code network, exit 1', async () => {
    const result = await runCli(['cloud', 'auth', 'whoami', '--json'], {env: {...config.env, PIPECAT_API_HOST: 'http://127.0.0.1:9', PIPECAT_TOKEN: 'pcc_pat_example'}})
    expect(result.code).to.equal(1)
    expect(errorDocument(result.stdout)).to.deep.include({code: 'network', exit: 1})
  })
})
