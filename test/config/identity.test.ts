/** How the CLI names itself: the top-level help lists `cloud` once, and the User-Agent names the plugin once. */
import {expect} from 'chai'

import {startEmulator} from '../emulator/server.js'
import {runCli} from '../support/cli.js'
import {tempConfig} from '../support/config.js'

describe('identity: help and User-Agent', function () {
  this.timeout(30_000)

  it('the top-level help lists cloud once, with one text', async () => {
    const result = await runCli(['--help'])
    expect(result.code).to.equal(0)
    const cloudLines = result.stdout.split('\n').filter(line => /^\s+cloud\s/v.test(line))
    expect(cloudLines).to.deep.equal(['  cloud  Pipecat Cloud: sign in, sign out and inspect your configuration.'])
  })

  it('cloud --help still lists the auth topic and the config command', async () => {
    const result = await runCli(['cloud', '--help'])
    expect(result.stdout).to.match(/^\s+cloud auth\s+Sign in to Pipecat Cloud/mv)
    expect(result.stdout).to.match(/^\s+cloud config\s+Show the current Pipecat Cloud configuration\./mv)
  })

  it('the standalone CLI names the plugin once in its User-Agent', async () => {
    const emulator = await startEmulator()
    const config = await tempConfig()
    try {
      const result = await runCli(['cloud', 'auth', 'whoami'], {
        env: {...config.env, PIPECAT_API_HOST: emulator.url, PIPECAT_TOKEN: emulator.issuePat()},
      })
      expect(result.code, result.stderr).to.equal(0)
      const agents = new Set(emulator.requests.map(request => String(request.headers['user-agent'])))
      expect(agents.size).to.equal(1)
      const [agent = ''] = agents
      expect(agent).to.match(/^@pipecat-ai\/plugin-cloud\/\d+\.\d+\.\d+ \S+-\S+ node-v\d+\.\d+\.\d+$/v)
    } finally {
      await config.cleanup()
      await emulator.close()
    }
  })
})
