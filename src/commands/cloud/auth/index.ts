import {TopicIndex} from '../../../topic-index.js'

export default class Auth extends TopicIndex {
  static override summary = 'Sign in to Pipecat Cloud, sign out, show the current account and print its token.'
}
