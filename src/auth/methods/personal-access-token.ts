/**
 * `--with-token`: a personal access token from stdin (hidden on a terminal),
 * for CI and scripts. The service checks it with the account lookups.
 */
import type {SignInMethod} from './types.js'

import {LoginError} from '../../errors.js'
import {PAT_PREFIX} from '../../session/session.js'
import {readFirstLine, readHiddenLine} from '../stdin.js'

export const personalAccessToken: SignInMethod = {
  async obtain({options, output, signal, stdin}) {
    if (!options.withToken) return undefined
    const token = stdin.isTTY
      ? await readHiddenLine(stdin, signal, () => {
        output.notice('Paste your personal access token (pcc_pat_...) and press Enter:')
      })
      : await readFirstLine(stdin, signal)

    if (!token) {
      throw new LoginError('No token was given on stdin.', {
        suggestion: command => `Pipe a personal access token in, e.g. \`${command('cloud auth login')} --with-token < token.txt\`.`,
      })
    }

    if (!token.startsWith(PAT_PREFIX)) {
      throw new LoginError(`That is not a personal access token: they start with ${PAT_PREFIX}.`, {
        suggestion: 'Create one in the Pipecat Cloud dashboard and pass it on stdin.',
      })
    }

    return {method: 'personal-access-token', tokens: {accessToken: token, expiresAt: 0}}
  },
}
