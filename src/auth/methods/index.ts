/**
 * The ways to sign in, behind one interface. Login tries them in order and
 * the first that applies signs in. A new method is one file here and one line
 * in SIGN_IN_METHODS.
 */
import type {PipecatApi} from '../../api/pipecat.js'
import type {Context} from '../../context.js'
import type {TokenSet} from '../oauth.js'
import type {AuthMethod} from '../session.js'

import {browserOAuth} from './browser-oauth.js'
import {personalAccessToken} from './personal-access-token.js'
import {tokenFlow} from './token-flow.js'

export type LoginOptions = {
  /** Never open a browser. */
  headless: boolean;
  /** The loopback ports to try, in order (tests). */
  ports?: readonly number[];
  /** How long to wait for the sign-in, in seconds. */
  timeoutSeconds: number;
  /** Read a personal access token from stdin instead of signing in through a browser. */
  withToken: boolean;
}

/** What a method works with while the user signs in. */
export type SignIn = {
  /** Every request also aborted by `signal`. */
  api: PipecatApi;
  context: Context;
  options: LoginOptions;
  /** Ctrl-C or the timeout; its reason says which. */
  signal: AbortSignal;
}

export type Obtained = {method: AuthMethod; tokens: TokenSet}

export type SignInMethod = {
  /** Credentials, or undefined when this method does not apply here (the next one is tried). */
  obtain(signIn: SignIn): Promise<Obtained | undefined>;
}

/** In order: --with-token; OAuth when the service has it; the earlier token flow otherwise. */
export const SIGN_IN_METHODS: readonly SignInMethod[] = [personalAccessToken, browserOAuth, tokenFlow]
