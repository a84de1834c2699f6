import {Flags, loadHelpClass} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {type ConfigReport, configReport, renderConfigReport} from '../../config/report.js'
import {allFlag} from './config.js'

export default class Cloud extends BaseCommand<typeof Cloud> {
  static override description = [
    'Without flags, lists the cloud commands. With --config, shows the current configuration, as',
    '`<%= config.bin %> cloud<%= config.topicSeparator %>config` does; --show-cli-config, the official CLI\'s name, is the same.',
    'With --version, shows the version of these commands.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> <%= command.id %> --config',
    '<%= config.bin %> <%= command.id %> --config --json',
    '<%= config.bin %> <%= command.id %> --version',
  ]

  static override flags = {
    all: allFlag(['config']),
    config: Flags.boolean({
      aliases: ['show-cli-config'],
      default: false,
      description: 'Show the current configuration (the same as `cloud<%= config.topicSeparator %>config`). Also --show-cli-config.',
    }),
    version: Flags.boolean({default: false, description: 'Show the version of the Pipecat Cloud commands.', exclusive: ['config']}),
  }

  static override summary = 'Pipecat Cloud: sign in, sign out and inspect your configuration.'

  async run(): Promise<ConfigReport | undefined | VersionReport> {
    if (this.flags.version) return this.version()
    if (!this.flags.config) {
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp([this.id ?? 'cloud'])
      return undefined
    }

    return this.present(configReport(await this.context.loadConfig()), report => renderConfigReport(report, {all: this.flags.all}))
  }

  /** The plugin's own version; in a host, the host's too (what `<bin> --version` shows). */
  private version(): VersionReport {
    const plugin = this.config.plugins.get(PLUGIN_NAME)
    const version = plugin?.version ?? this.config.version
    const isHost = this.config.name !== PLUGIN_NAME
    const line = `${PLUGIN_NAME}/${version} ${this.config.platform}-${this.config.arch} node-${process.version}`
    this.context.output.log(isHost ? `${line} (in ${this.config.userAgent})` : line)
    return {host: isHost ? {name: this.config.name, version: this.config.version} : null, name: PLUGIN_NAME, version}
  }
}

const PLUGIN_NAME = '@pipecat-ai/plugin-cloud'

type VersionReport = {
  /** The CLI the plugin is installed into; null when it runs on its own. */
  host: null | {name: string; version: string};
  name: string;
  version: string;
}
