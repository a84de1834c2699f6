/**
 * The current sign-in generation: OAuth 2.0 with PKCE in the browser. The
 * browser comes back to a loopback callback on this machine; when it runs on
 * another machine (SSH, containers), the user pastes the address it ended on
 * instead. Whichever answer comes first wins; both are checked the same way.
 */
import type {SignIn, SignInMethod} from './types.js'

import {InterruptedError, PipecatError} from '../../errors.js'
import {
  authorizationCode,
  authorizationRequest,
  type AuthorizationResponse,
  authorizationResponse,
  discover,
  exchangeCode,
  type Provider,
  type TokenSet,
} from '../../session/oauth.js'
import {abortable} from '../../wait.js'
import {showSignInAddress} from '../browser.js'
import {type CallbackRequest, loopbackCallback} from '../loopback.js'
import {readLines} from '../stdin.js'

/** Unparseable pasted lines answered with a hint before going quiet. */
const MAX_PASTE_HINTS = 3

export const browserOAuth: SignInMethod = {
  async obtain(signIn) {
    const config = await signIn.api.authConfig()
    if (!config) return undefined
    const provider = await discover(signIn.api.http, config)
    return {method: 'oauth', tokens: await authorize(signIn, provider)}
  },
}

/** Shows the address, waits for the browser's redirect or a pasted one, and exchanges the first answer's code. */
async function authorize(signIn: SignIn, provider: Provider): Promise<TokenSet> {
  const {api, options, output, signal, stdin} = signIn
  const callback = await loopbackCallback(options.ports)
  const pasted = pasteBack(signIn)
  const session = new AbortController()
  try {
    const request = authorizationRequest(provider, callback.redirectUri)
    showSignInAddress(signIn, {headless: options.headless, session: session.signal, url: request.url})
    if (stdin.isTTY) {
      output.notice(
        'If the browser is on another machine, it cannot reach this one: '
        + `after approving, paste the address it ends on (${callback.redirectUri}?code=...) here and press Enter.`,
      )
    }

    output.progress(`Waiting for the sign-in to finish in the browser (up to ${options.timeoutSeconds} s; Ctrl-C to cancel)...`)
    const fromBrowser = callback.next(signal, request.state).then(answer => ({answer, source: 'browser'}) as const)
    const fromPaste = pasted.answer.then(answer => ({answer, source: 'paste'}) as const)
    const first = await abortable(Promise.race([fromBrowser, fromPaste]), signal)
    pasted.stop()
    // State and issuer are checked the same way whichever way the answer came.
    const exchange = async (answer: AuthorizationResponse) => {
      const code = authorizationCode(answer, {issuer: provider.issuer, sendsIss: provider.sendsIss, state: request.state})
      return exchangeCode(api.http, provider, {code, redirectUri: callback.redirectUri, verifier: request.verifier})
    }

    if (first.source === 'paste') return await exchange(first.answer)
    return await finishInBrowser(first.answer, exchange)
  } finally {
    session.abort()
    pasted.stop()
    await callback.close()
  }
}

/** Exchanges the code while the browser waits, so its page tells the truth. */
async function finishInBrowser(
  request: CallbackRequest,
  exchange: (answer: AuthorizationResponse) => Promise<TokenSet>,
): Promise<TokenSet> {
  try {
    const tokens = await exchange(authorizationResponse(request.params))
    request.respond({detail: 'You are signed in to Pipecat Cloud.', ok: true})
    return tokens
  } catch (error) {
    const detail =
      error instanceof PipecatError && !(error instanceof InterruptedError) ? error.message : 'The sign-in could not be completed.'
    request.respond({detail, ok: false})
    throw error
  }
}

/**
 * Pasted redirects from stdin while login waits. On a terminal the user was
 * told they can; from a pipe (an agent relaying what the user's browser
 * showed) lines are read the same way, without a prompt. Stdin at its end
 * (closed, /dev/null, CI) leaves the loopback callback as the only way.
 */
function pasteBack({output, signal, stdin}: SignIn): {answer: Promise<AuthorizationResponse>; stop(): void} {
  // The first answer pasted; never settles when none comes (the race ends on the callback, the timeout or Ctrl-C).
  const {promise: answer, resolve} = Promise.withResolvers<AuthorizationResponse>()
  let hints = 0
  const lines = readLines(stdin, line => {
    if (line.trim() === '' || signal.aborted) return
    const response = parsePasted(line)
    if (response) resolve(response)
    else if (hints++ < MAX_PASTE_HINTS) {
      output.notice('That is not a sign-in answer: paste the whole address the browser ended on (it contains code= and state=).')
    }
  })
  return {answer, stop: lines.stop}
}

/** A pasted redirect: the full address, its query string, or the code and the state separated by a space. */
export function parsePasted(line: string): AuthorizationResponse | undefined {
  const text = line.trim()
  let params: URLSearchParams
  if (/^https?:\/\//iv.test(text)) {
    try {
      params = new URL(text).searchParams
    } catch {
      return undefined
    }
  } else if (text.includes('=')) {
    params = new URLSearchParams(text.replace(/^[^?]*\?/v, ''))
  } else {
    const words = text.split(/\s+/v)
    return words.length === 2 ? {code: words[0], state: words[1]} : undefined
  }

  return params.has('code') || params.has('error') ? authorizationResponse(params) : undefined
}
