import type {WhoamiReport} from '../../../auth/account.js'

import {BaseCommand} from '../../../base-command.js'

export default class Whoami extends BaseCommand<typeof Whoami> {
  static description = [
    'Shows your email (or user ID when there is none), user ID, active organization, how you are signed in (OAuth, '
    + 'personal access token or token), where the token comes from (the config file or PIPECAT_TOKEN), when it expires, '
    + 'and the Daily API key of the active organization. Without a stored organization, the first one of your account is '
    + 'shown. A token about to expire is renewed first.',
    'Exits with 4 when you are not logged in or the token was rejected and could not be renewed.',
  ].join('\n\n')

  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static summary = 'Show the signed-in user, organization and Daily API key.'

  async run(): Promise<WhoamiReport> {
    // The session first: signed out, nothing else needs loading.
    const session = await this.session()
    const [{renderWhoami, whoami}, {settings, store}] = await Promise.all([import('../../../auth/account.js'), this.loadConfig()])
    const report = await whoami(session, settings, store.path, message => {
      this.warnUser(message);
    })
    for (const line of renderWhoami(report)) this.log(line)
    return report
  }
}
