import {expect} from 'chai'

import {tempConfig} from '../support/config.js'
import {runCommand} from '../support/in-process.js'

type ErrorJson = {error: {code: string; exit: number; message: string; suggestions: string[]}}

/** Every command a user can type, by its words. */
const COMMANDS = [
  'cloud auth login',
  'cloud auth logout',
  'cloud auth token',
  'cloud auth use-pat',
  'cloud auth whoami',
  'cloud config',
  'cloud organizations list',
  'cloud organizations select acme',
]

describe('unknown commands and extra words (in-process, as in a clone)', () => {
  let config: Awaited<ReturnType<typeof tempConfig>>
  const run = async (words: string) => runCommand(words.split(' '), {env: config.env})

  beforeEach(async () => {
    config = await tempConfig()
  })

  afterEach(async () => {
    await config.cleanup()
  })

  // Each level of the cloud topics: a mistyped word is an unknown command, said as typed, with the closest command.
  const typos: Array<[string, string]> = [
    ['cloud auth whomai', 'Did you mean `pipecat cloud auth whoami`? Run `pipecat cloud auth --help` to see its commands.'],
    ['cloud auth logon', 'Did you mean `pipecat cloud auth login`? Run `pipecat cloud auth --help` to see its commands.'],
    ['cloud organizations lst', 'Did you mean `pipecat cloud organizations list`? Run `pipecat cloud organizations --help` to see its commands.'],
    ['cloud organization', 'Did you mean `pipecat cloud organizations`? Run `pipecat cloud --help` to see its commands.'],
    ['cloud whoami', 'Did you mean `pipecat cloud auth whoami`? Run `pipecat cloud --help` to see its commands.'],
    ['cloud confg', 'Did you mean `pipecat cloud config`? Run `pipecat cloud --help` to see its commands.'],
    ['cloud auth xyzzy', 'Run `pipecat cloud auth --help` to see its commands.'],
  ]
  for (const [typed, suggestion] of typos) {
    it(`${typed}: an unknown command, exit 2`, async () => {
      const human = await run(typed)
      expect(human.code).to.equal(2)
      expect(human.stdout).to.equal('')
      expect(human.stderr).to.equal(`Error: Unknown command: ${typed}\nTry this: ${suggestion}\n`)

      const json = await run(`${typed} --json`)
      expect(json.code).to.equal(2)
      expect(JSON.parse(json.stdout)).to.deep.equal({
        error: {
          code: 'usage', exit: 2, message: `Unknown command: ${typed}`, suggestions: [suggestion],
        },
      })
    })
  }

  it('more words after a mistyped one: the first is the unknown command', async () => {
    const result = await run('cloud auth whomai extra')
    expect(result.code).to.equal(2)
    expect(result.stderr).to.match(/^Error: Unknown command: cloud auth whomai\n/v)
  })

  // Every command: a word after it is an unexpected argument, not an unknown command; nothing runs.
  for (const command of COMMANDS) {
    it(`${command} extra: an unexpected argument, exit 2`, async () => {
      const result = await run(`${command} extra`)
      const id = command.replace(/ acme$/v, '')
      expect(result.code).to.equal(2)
      expect(result.stderr).to.equal(`Error: Unexpected argument: extra\nTry this: Run \`pipecat ${id} --help\` to see what it accepts.\n`)
      const json = await run(`${command} extra --json`)
      expect((JSON.parse(json.stdout) as ErrorJson).error).to.deep.include({code: 'usage', exit: 2, message: 'Unexpected argument: extra'})
    })
  }

  it('a topic alone lists its commands (exit 0)', async () => {
    for (const topic of ['cloud auth', 'cloud organizations']) {
      const result = await run(topic)
      expect(result.code, topic).to.equal(0)
      expect(result.stdout, topic).to.contain(`$ pipecat ${topic} COMMAND`).and.match(new RegExp(String.raw`^  ${topic} \w+ `, 'mv'))
    }
  })
})
