/**
 * The earlier login generation: a token flow with a code. The service gives a
 * page to approve on and a code to compare; the CLI polls until the flow is
 * complete (the service may hold each poll open: a long poll).
 */
import type {PipecatApi, TokenFlow} from '../api/pipecat.js'

import {LoginError, NetworkError, ServiceError} from '../errors.js'

/** At most one status request every this many milliseconds (a long poll counts as its own wait). */
export const POLL_INTERVAL_MS = 2000
/** Polls that fail in a row (network, 5xx) before the login gives up. */
const MAX_FAILED_POLLS = 3

export async function startTokenFlow(api: PipecatApi, signal?: AbortSignal): Promise<TokenFlow> {
  return api.startTokenFlow(signal)
}

/** Polls until the flow completes (the token) or fails (LoginError); aborts with the signal's reason. */
export async function waitForToken(api: PipecatApi, flow: TokenFlow, signal: AbortSignal, intervalMs = POLL_INTERVAL_MS): Promise<string> {
  let failedPolls = 0
  for (;;) {
    const started = Date.now()
    try {
      // eslint-disable-next-line no-await-in-loop -- one poll at a time, in order
      const answer = await api.tokenFlowStatus(flow, signal)
      failedPolls = 0
      if (answer.status === 'complete') return answer.token
      if (answer.status === 'failure') {
        throw new LoginError('The sign-in was denied or did not complete on the Pipecat Cloud page.', {
          suggestion: 'Nothing was saved. Start the sign-in again and approve it in the browser.',
        })
      }
    } catch (error) {
      signal.throwIfAborted()
      if (!isTransient(error) || ++failedPolls >= MAX_FAILED_POLLS) throw error
    }

    // A quick answer waits out the rest of the interval; a held (long) poll has already waited.
    // eslint-disable-next-line no-await-in-loop
    await delay(intervalMs - (Date.now() - started), signal)
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true
  return error instanceof ServiceError && error.status !== undefined && error.status >= 500
}

/** Waits `ms` (nothing when not positive); rejects with the signal's own reason on abort. */
export async function delay(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  if (ms <= 0) return
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }

    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, {once: true})
  })
}
