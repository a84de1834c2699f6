/**
 * The earlier sign-in generation, for services without OAuth (their auth
 * config answers 404): the service gives a page to approve on and a code to
 * compare; the CLI polls until the flow completes (the service may hold each
 * poll open: a long poll).
 */
import type {PipecatApi, TokenFlow} from '../../api/pipecat.js'
import type {SignInMethod} from './types.js'

import {LoginError, NetworkError, ServiceError} from '../../errors.js'
import {sleep} from '../../wait.js'
import {showSignInAddress} from '../browser.js'

/** At most one status request every this many milliseconds (a long poll counts as its own wait). */
export const POLL_INTERVAL_MS = 2000
/** Polls that fail in a row (network, 5xx) before the login gives up. */
const MAX_FAILED_POLLS = 3

export const tokenFlow: SignInMethod = {
  async obtain(signIn) {
    const {api, options, output, signal} = signIn
    const flow = await api.startTokenFlow()
    const session = new AbortController()
    try {
      showSignInAddress(signIn, {
        code: flow.code, headless: options.headless, session: session.signal, url: flow.webUrl,
      })
      output.progress(`Waiting for the sign-in to be approved in the browser (up to ${options.timeoutSeconds} s; Ctrl-C to cancel)...`)
      const token = await waitForToken(api, flow, signal)
      return {method: 'token', tokens: {accessToken: token, expiresAt: 0}}
    } finally {
      session.abort()
    }
  },
}

/** Polls until the flow completes (the token) or fails (LoginError); aborts with the signal's reason. */
export async function waitForToken(api: PipecatApi, flow: TokenFlow, signal: AbortSignal, intervalMs = POLL_INTERVAL_MS): Promise<string> {
  let failedPolls = 0
  for (;;) {
    const started = Date.now()
    try {
      // eslint-disable-next-line no-await-in-loop -- one poll at a time, in order
      const answer = await api.tokenFlowStatus(flow)
      failedPolls = 0
      if (answer.status === 'complete') return answer.token
      if (answer.status === 'failure') {
        throw new LoginError('The sign-in was denied or did not complete on the Pipecat Cloud page.', {
          suggestion: 'Start the sign-in again and approve it in the browser.',
        })
      }
    } catch (error) {
      signal.throwIfAborted()
      if (!isTransient(error) || ++failedPolls >= MAX_FAILED_POLLS) throw error
    }

    // A quick answer waits out the rest of the interval; a held (long) poll has already waited.
    // eslint-disable-next-line no-await-in-loop -- polls are sequential
    await sleep(intervalMs - (Date.now() - started), signal)
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true
  return error instanceof ServiceError && error.status !== undefined && error.status >= 500
}
