import type {OrganizationsReport} from '../../../auth/organizations.js'

import {BaseCommand} from '../../../base-command.js'

export default class OrganizationsList extends BaseCommand<typeof OrganizationsList> {
  static override description = [
    'Lists the organizations your account is a member of: the name commands and the config file use, and the display '
    + 'name. The active one (PIPECAT_ORG, or `org` in the config file) is marked.',
    'Exits with 4 when you are not logged in.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override summary = 'List the organizations you are a member of.'

  async run(): Promise<OrganizationsReport> {
    const {listOrganizations, renderOrganizations} = await import('../../../auth/organizations.js')
    return this.present(await listOrganizations(this.context), renderOrganizations)
  }
}
