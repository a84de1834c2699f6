import {Args, Flags} from '@oclif/core'

import type {SelectResult} from '../../../auth/organizations.js'

import {BaseCommand} from '../../../base-command.js'
import {UsageError} from '../../../errors.js'

export default class OrganizationsSelect extends BaseCommand<typeof OrganizationsSelect> {
  static override args = {
    name: Args.string({description: 'The organization to use (its name, as `organizations list` shows it).'}),
  }

  static override description = [
    'Makes an organization the active one: its name is saved as `org` in the config file (with a table of its own, '
    + 'created when missing), which the other commands and the official CLI use. The name must be one of your '
    + "account's organizations; another is refused and nothing is changed.",
    'Without a name it lists your organizations and asks on the terminal; without a terminal, name one.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    {command: '<%= config.bin %> <%= command.id %> acme', description: 'Use the organization named acme.'},
    '<%= config.bin %> <%= command.id %> --organization acme --json',
  ]

  static override flags = {
    organization: Flags.string({char: 'o', description: 'The organization to use (the official CLI\'s flag; the same as NAME).'}),
  }

  // NAME is an argument: oclif already routes the words after this command to it.
  static override strict = true
  static override summary = 'Choose the organization the commands use.'

  async run(): Promise<SelectResult> {
    const {args, flags} = await this.parse(OrganizationsSelect)
    if (args.name && flags.organization && args.name !== flags.organization) {
      throw new UsageError(`Two different organizations given: "${args.name}" and --organization "${flags.organization}".`, {
        suggestion: 'Give one name, as the argument or with --organization.',
      })
    }

    const {renderSelect, selectOrganization} = await import('../../../auth/organizations.js')
    return this.present(await selectOrganization(this.context, args.name ?? flags.organization), renderSelect)
  }
}
