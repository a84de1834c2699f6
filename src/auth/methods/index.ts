/**
 * The ways to sign in, behind one interface (types.ts). Login tries them in
 * order and the first that applies signs in. A new method is one file here
 * and one line in SIGN_IN_METHODS.
 */
import type {SignInMethod} from './types.js'

import {browserOAuth} from './browser-oauth.js'
import {personalAccessToken} from './personal-access-token.js'
import {tokenFlow} from './token-flow.js'

export type {
  LoginOptions, Obtained, SignIn, SignInMethod,
} from './types.js'

/** In order: --with-token; OAuth when the service has it; the earlier token flow otherwise. */
export const SIGN_IN_METHODS: readonly SignInMethod[] = [personalAccessToken, browserOAuth, tokenFlow]
