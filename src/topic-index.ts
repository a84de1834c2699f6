/**
 * A topic's own command (`cloud auth`, `cloud organizations`), hidden: run
 * alone it lists the topic's commands. It is there so that oclif hands a
 * mistyped subcommand (`cloud auth whomai`) to a command of ours, which
 * reports it as typed, instead of oclif's `command cloud:auth:whomai not
 * found` or a host's own handler (different words and exit codes).
 */
import {loadHelpClass} from '@oclif/core'

import {BaseCommand} from './base-command.js'

export abstract class TopicIndex extends BaseCommand<typeof TopicIndex> {
  static override hidden = true
  static override usage = '<%= command.id %> COMMAND'

  async run(): Promise<void> {
    const Help = await loadHelpClass(this.config)
    await new Help(this.config).showHelp([this.id ?? 'cloud'])
  }
}
