import type {LoginResult} from '../../../auth/login.js'

import {BaseCommand} from '../../../base-command.js'
import {timeoutFlag} from './login.js'

/** The official CLI's name for signing in with a personal access token: `cloud auth login --with-token`. */
export default class UsePat extends BaseCommand<typeof UsePat> {
  static override description = [
    'Asks for a personal access token (pcc_pat_...) on a terminal, without echoing it, or reads it from stdin,',
    'and stores it in the config file, as',
    '`<%= config.bin %> cloud<%= config.topicSeparator %>auth<%= config.topicSeparator %>login --with-token` does.',
    'The official CLI calls it this. Tokens are never accepted as arguments.',
  ].join(' ')

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Paste the token when asked.'},
    {command: '<%= config.bin %> <%= command.id %> < token.txt', description: 'For CI and scripts: the token on stdin.'},
    {command: '<%= config.bin %> <%= command.id %> --json < token.txt', description: 'The result as JSON.'},
  ]

  static override flags = {timeout: timeoutFlag('the token')}

  static override summary = 'Sign in with a personal access token (the same as auth login --with-token).'

  async run(): Promise<LoginResult> {
    const {login, renderLogin} = await import('../../../auth/login.js')
    return this.present(await login(this.context, {headless: false, timeoutSeconds: this.flags.timeout, withToken: true}), renderLogin)
  }
}
