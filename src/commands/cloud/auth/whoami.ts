import type {WhoamiReport} from '../../../auth/whoami.js'

import {BaseCommand} from '../../../base-command.js'

export default class Whoami extends BaseCommand<typeof Whoami> {
  static override description = [
    'Shows your email (or user ID when there is none), user ID, active organization, how you are signed in (OAuth, '
    + 'personal access token or token), where the token comes from (the config file or PIPECAT_TOKEN), when it expires, '
    + 'and the Daily API key of the active organization. Without a stored organization, the first one of your account is '
    + 'shown. A token about to expire is renewed first.',
    'Exits with 4 when you are not logged in or the token was rejected and could not be renewed.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override summary = 'Show the signed-in user, organization and Daily API key.'

  async run(): Promise<WhoamiReport> {
    // The session first: signed out, nothing else needs loading.
    await this.context.session()
    const {renderWhoami, whoami} = await import('../../../auth/whoami.js')
    return this.present(await whoami(this.context), renderWhoami)
  }
}
