import {Flags} from '@oclif/core'

import type {LoginResult} from '../../../auth/login.js'

import {BaseCommand} from '../../../base-command.js'

/** --timeout of the sign-in commands (login, use-pat): how long to wait for `what`. */
export function timeoutFlag(what: string) {
  return Flags.integer({
    default: 300, description: `How long to wait for ${what}, in seconds.`, max: 86_400, min: 1,
  })
}

export default class Login extends BaseCommand<typeof Login> {
  static override description = [
    [
      'Opens the Pipecat Cloud sign-in page in your browser (OAuth with PKCE) and stores the credentials in the config file.',
      'The address is always printed first, so it can be opened by hand; where no browser can be opened (no display,',
      'an SSH session, BROWSER=none), or with --headless, it is only printed. A program named by BROWSER is used wherever',
      'it is set (an entry with %s is a command line, %s standing for the address; several are separated by colons).',
    ],
    [
      'When the browser runs on another machine (SSH, containers, codespaces), its redirect to 127.0.0.1 cannot reach',
      "this one: paste the address the browser ends on into this command's input instead (on a terminal it asks for it).",
      'Services without OAuth use the earlier sign-in with a code: check that the page shows the code printed here.',
    ],
    [
      'For CI and scripts, --with-token reads a personal access token (pcc_pat_...) from stdin; tokens are never accepted',
      'as arguments. Signing in again replaces the stored credentials and ends the previous session.',
    ],
    [
      '`<%= config.bin %> cloud<%= config.topicSeparator %>auth<%= config.topicSeparator %>use-pat`, the official CLI\'s name,',
      'is this command with --with-token.',
    ],
  ]
  .map(paragraph => paragraph.join(' '))
  .join('\n\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    {command: '<%= config.bin %> <%= command.id %> --headless', description: 'Print the sign-in address instead of opening a browser.'},
    {command: '<%= config.bin %> <%= command.id %> --with-token < token.txt', description: 'Sign in with a personal access token.'},
    {
      command: '<%= config.bin %> <%= command.id %> --headless --json',
      description: 'For agents: the address on stderr, the result as JSON.',
    },
  ]

  static override flags = {
    headless: Flags.boolean({
      aliases: ['no-browser'],
      char: 'h',
      default: false,
      description: 'Do not open a browser: print the sign-in address (and code) as plain lines and wait. Also --no-browser.',
    }),
    timeout: timeoutFlag('the sign-in'),
    'with-token': Flags.boolean({
      default: false,
      description: 'Read a personal access token (pcc_pat_...) from stdin and store it, without a browser.',
    }),
  }

  static override summary = 'Sign in to Pipecat Cloud and store the credentials.'

  async run(): Promise<LoginResult> {
    const {login, renderLogin} = await import('../../../auth/login.js')
    return this.present(await login(this.context, {
      headless: this.flags.headless,
      timeoutSeconds: this.flags.timeout,
      withToken: this.flags['with-token'],
    }), renderLogin)
  }
}
