/**
 * A mistyped top-level command where the plugin is the CLI (here a clone's
 * bin/run.js): oclif hands it to no command, so only a process shows it.
 * Below a topic, test/in-process/unknown-command.test.ts.
 */
import {expect} from 'chai'

import {runCli} from '../support/cli.js'

type ErrorJson = {error: {code: string; exit: number; message: string; suggestions: string[]}}

const help = 'Run `pipecat --help` to see its commands.'

/** Every kind of top-level mistake, with the command it should suggest (none when nothing is close). */
const MISTAKES: Array<[string[], string | undefined]> = [
  [['clod'], 'cloud'],
  [['clodu'], 'cloud'],
  [['colud'], 'cloud'],
  [['cloudd'], 'cloud'],
  [['hepl'], 'help'],
  [['whoami'], 'cloud auth whoami'],
  [['whomai'], 'cloud auth whoami'],
  [['login'], 'cloud auth login'],
  [['logout'], 'cloud auth logout'],
  [['token'], 'cloud auth token'],
  [['config'], 'cloud config'],
  [['auth'], 'cloud auth'],
  [['organizations'], 'cloud organizations'],
  [['list'], 'cloud organizations list'],
  [['select'], 'cloud organizations select'],
  [['xyzzy'], undefined],
  // More words after it, and flags around it: still the first word is the unknown one.
  [['clod', 'auth', 'whoami'], 'cloud'],
  [['clod', 'extra', '--flag'], 'cloud'],
  [['--verbose', 'clod'], 'cloud'],
]

describe('a mistyped top-level command, where the plugin is the CLI', () => {
  for (const [words, closest] of MISTAKES) {
    const typed = words.find(word => !word.startsWith('-'))!
    const suggestion = (closest ? `Did you mean \`pipecat ${closest}\`? ` : '') + help

    it(`${words.join(' ')}: said as typed, ${closest ? `\`${closest}\` suggested` : 'no suggestion'}, exit 2 (JSON too)`, async () => {
      const human = await runCli(words)
      expect(human.code).to.equal(2)
      expect(human.stdout).to.equal('')
      expect(human.stderr).to.equal(`Error: Unknown command: ${typed}\nTry this: ${suggestion}\n`)

      const expected = {
        error: {
          code: 'usage', exit: 2, message: `Unknown command: ${typed}`, suggestions: [suggestion],
        },
      }
      for (const [how, args, env] of [
        ['--json', [...words, '--json'], {}],
        ['PIPECAT_OUTPUT=json', words, {PIPECAT_OUTPUT: 'json'}],
      ] as const) {
        const json = await runCli([...args], {env})
        expect(json.code, how).to.equal(2)
        expect(json.stderr, how).to.equal('')
        expect(JSON.parse(json.stdout) as ErrorJson, how).to.deep.equal(expected)
      }
    })
  }

  it('a flag alone where a command was expected: a nonexistent flag, exit 2', async () => {
    const result = await runCli(['--frobnicate'])
    expect(result.code).to.equal(2)
    expect(result.stderr).to.equal('Error: Nonexistent flag: --frobnicate\nTry this: Run `pipecat --help` to see what it accepts.\n')
  })

  it('what does exist still runs: help, --version, the cloud topic', async () => {
    for (const words of [['help'], ['--help'], ['--version'], ['cloud']]) {
      const result = await runCli(words)
      expect(result.code, words.join(' ')).to.equal(0)
      expect(result.stderr, words.join(' ')).to.equal('')
    }
  })
})
