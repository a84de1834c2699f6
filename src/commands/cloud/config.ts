import {BaseCommand} from '../../base-command.js'
import {type ConfigReport, configReport, renderConfigReport} from '../../config/report.js'

export default class CloudConfig extends BaseCommand<typeof CloudConfig> {
  static override description = [
    "Shows the config file's path and whether it exists, every setting with its value and where it came from "
    + '(environment, config file, organization table or default), when the token expires, and the organization tables. '
    + 'Tokens are redacted.',
    'The file is ~/.config/pipecatcloud/pipecatcloud.toml unless PIPECAT_CONFIG_PATH says otherwise; any setting can be '
    + 'overridden with a PIPECAT_<NAME> environment variable. `<%= config.bin %> cloud --config` prints the same.',
  ].join('\n\n')

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override summary = 'Show the current Pipecat Cloud configuration.'

  async run(): Promise<ConfigReport> {
    const report = configReport(await this.context.loadConfig())
    for (const line of renderConfigReport(report)) this.context.output.log(line)
    return report
  }
}
