import type {LogoutResult} from '../../../auth/account.js'

import {BaseCommand} from '../../../base-command.js'
import {defaultConfigPath} from '../../../config/file.js'

export default class Logout extends BaseCommand<typeof Logout> {
  static description = [
    'Asks Pipecat Cloud to revoke the session (when it came from a browser sign-in), then removes the token, refresh '
    + 'token and expiry from the config file. The active organization and the organization tables are kept.',
    'A malformed config file is moved aside to a backup beside it, leaving a clean state: run this command to '
    + 'reset a malformed file. PIPECAT_TOKEN, when set, still authenticates: unset it too.',
  ].join('\n\n')

  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static summary = 'Sign out of Pipecat Cloud and remove the stored credentials.'

  async run(): Promise<LogoutResult> {
    const {logout, renderLogout} = await import('../../../auth/account.js')
    const result = await logout({
      api: async () => this.api(),
      configPath: defaultConfigPath(),
      loadConfig: async () => this.loadConfig(),
      warn: message => {
        this.warnUser(message);
      },
    })
    const {stderr, stdout} = renderLogout(result)
    for (const line of stdout) this.log(line)
    for (const line of stderr) this.warnUser(line)
    return result
  }
}
