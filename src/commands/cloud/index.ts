import {Flags, loadHelpClass} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {type ConfigReport, showConfiguration} from '../../config/report.js'
import {allFlag} from './config.js'

export default class Cloud extends BaseCommand<typeof Cloud> {
  static override description = 'Without flags, lists the cloud commands. With --config, shows the current configuration, as `<%= config.bin %> cloud<%= config.topicSeparator %>config` does.'
  static override examples = ['<%= config.bin %> <%= command.id %> --config', '<%= config.bin %> <%= command.id %> --config --json']
  static override flags = {
    all: allFlag(['config']),
    config: Flags.boolean({default: false, description: 'Show the current configuration (the same as `cloud<%= config.topicSeparator %>config`).'}),
  }

  static override summary = 'Pipecat Cloud: sign in, sign out and inspect your configuration.'

  async run(): Promise<ConfigReport | undefined> {
    if (!this.flags.config) {
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp([this.id ?? 'cloud'])
      return undefined
    }

    return showConfiguration(this.context, {all: this.flags.all})
  }
}
