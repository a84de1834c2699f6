import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {type ConfigReport, configReport, renderConfigReport} from '../../config/report.js'

/** `cloud config` and `cloud --config` take the same flag. */
export function allFlag(dependsOn?: string[]) {
  return Flags.boolean({
    default: false,
    dependsOn,
    description: 'Also list the API paths left at their defaults. --json always has every setting.',
  })
}

export default class CloudConfig extends BaseCommand<typeof CloudConfig> {
  static override description = [
    "Shows the config file's path and whether it exists, the settings you set or override with their values and where "
    + 'they came from (environment, config file, organization table or default), when the token expires, which service '
    + 'issued it, and the organization tables. Secrets are redacted. --all adds the API paths left at their defaults.',
    'The file is ~/.config/pipecatcloud/pipecatcloud.toml unless PIPECAT_CONFIG_PATH says otherwise; any setting can be '
    + 'overridden with a PIPECAT_<NAME> environment variable. `<%= config.bin %> cloud --config` prints the same.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --all',
    '<%= config.bin %> <%= command.id %> --json',
  ]

  static override flags = {all: allFlag()}
  static override summary = 'Show the current Pipecat Cloud configuration.'

  async run(): Promise<ConfigReport> {
    return this.present(configReport(await this.context.loadConfig()), report => renderConfigReport(report, {all: this.flags.all}))
  }
}
