import type {TokenResult} from '../../../auth/token.js'

import {BaseCommand} from '../../../base-command.js'

export default class Token extends BaseCommand<typeof Token> {
  static override description = [
    'Prints the access token the other commands would send, and nothing else on stdout, for scripts and for calling the '
    + 'API by hand. A token that expires within a minute is renewed first (and the renewed one saved), as any command '
    + 'would. The token comes from PIPECAT_TOKEN when it is set, else from the config file.',
    'With --json: the token, when it expires, how you signed in and where the token came from. Exits with 4 when you '
    + 'are not logged in, or the token has expired and cannot be renewed. Treat the output as a password.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    {
      command: 'curl -H "Authorization: Bearer $(<%= config.bin %> <%= command.id %>)" https://api.pipecat.daily.co/v1/organizations',
      description: 'Call the API with it.',
    },
    {command: '<%= config.bin %> <%= command.id %> --json', description: 'The token with its expiry and source.'},
  ]

  static override summary = 'Print the access token, renewed first when it is about to expire.'

  async run(): Promise<TokenResult> {
    const {accessToken, renderToken} = await import('../../../auth/token.js')
    return this.present(await accessToken(this.context), renderToken)
  }
}
