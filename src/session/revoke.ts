/**
 * Ending a session on the service: the logout call with the session's refresh
 * token, within 10 s, and what came of it. Logout and a new sign-in (ending the
 * session it replaces) both use it; neither fails because of the answer.
 */
import {HttpStatusError} from '../api/http.js'
import {LOGOUT_TIMEOUT_MS} from '../api/pipecat.js'
import {InterruptedError, NotLoggedInError} from '../errors.js'
import {reasonText} from '../text.js'

/**
 * - `revoked`: the service confirmed (2xx);
 * - `service-unavailable`: 503, the revocation service is down; the session expires on its own;
 * - `not-confirmed`: any other answer, no answer within 10 s, the service could not be reached, or Ctrl-C;
 * - `session-ended`: the service no longer accepts the session (it had already ended);
 * - `not-attempted`: no refresh token stored, so nothing to revoke on the service;
 * - `not-sent`: another service issued the session, so its tokens were not sent to the configured one.
 */
export type Revocation = 'not-attempted' | 'not-confirmed' | 'not-sent' | 'revoked' | 'service-unavailable' | 'session-ended'

export type RevocationResult = {
  /** Why it was not confirmed, in a few words. */
  detail: null | string;
  revocation: Revocation;
}

/** Runs `send` (the logout call, aborted by the signal it is given after 10 s) and says what came of it. */
export async function revokeSession(send: (signal: AbortSignal) => Promise<void>): Promise<RevocationResult> {
  const signal = AbortSignal.timeout(LOGOUT_TIMEOUT_MS)
  try {
    await send(signal)
    return {detail: null, revocation: 'revoked'}
  } catch (error) {
    if (signal.aborted) return {detail: `no answer within ${LOGOUT_TIMEOUT_MS / 1000} s`, revocation: 'not-confirmed'}
    if (error instanceof InterruptedError) return {detail: 'interrupted', revocation: 'not-confirmed'}
    if (error instanceof HttpStatusError && error.status === 503) return {detail: null, revocation: 'service-unavailable'}
    if (error instanceof NotLoggedInError) return {detail: null, revocation: 'session-ended'}
    return {detail: reasonText(error), revocation: 'not-confirmed'}
  }
}
