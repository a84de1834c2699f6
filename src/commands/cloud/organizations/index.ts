import {TopicIndex} from '../../../topic-index.js'

export default class Organizations extends TopicIndex {
  static override summary = 'List your Pipecat Cloud organizations and choose the one the commands use.'
}
