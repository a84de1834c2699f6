/**
 * What a sign-in method is: its input while the user signs in, and what it
 * returns. Apart from the list of methods (index.ts), so that a method and the
 * list never import each other.
 */
import type {PipecatApi} from '../../api/pipecat.js'
import type {Output, Stdin} from '../../context.js'
import type {TokenSet} from '../../session/oauth.js'
import type {AuthMethod} from '../../session/session.js'

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
  /** Bound to `signal`: every request is aborted with it. */
  api: PipecatApi;
  /** Where the settings came from (BROWSER, DISPLAY...). */
  env: NodeJS.ProcessEnv;
  options: LoginOptions;
  output: Output;
  /** Ctrl-C or the timeout; its reason says which. For the waits that are not requests (the browser's callback, stdin, polling pauses). */
  signal: AbortSignal;
  /** Where a pasted redirect or a token is read from. */
  stdin: Stdin;
}

export type Obtained = {method: AuthMethod; tokens: TokenSet}

export type SignInMethod = {
  /** Credentials, or undefined when this method does not apply here (the next one is tried). */
  obtain(signIn: SignIn): Promise<Obtained | undefined>;
}
