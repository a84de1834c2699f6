import type {LogoutResult} from '../../../auth/logout.js'

import {BaseCommand} from '../../../base-command.js'

export default class Logout extends BaseCommand<typeof Logout> {
  static override description = [
    'Asks Pipecat Cloud to revoke the session (when it came from a browser sign-in), then removes the token, refresh '
    + 'token and expiry from the config file. The active organization and the organization tables are kept.',
    'A malformed config file is moved aside to a backup beside it, leaving a clean state: run this command to '
    + 'reset a malformed file. PIPECAT_TOKEN, when set, still authenticates: unset it too.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override summary = 'Sign out of Pipecat Cloud and remove the stored credentials.'

  async run(): Promise<LogoutResult> {
    const {logout, renderLogout} = await import('../../../auth/logout.js')
    return this.present(await logout(this.context), renderLogout)
  }
}
