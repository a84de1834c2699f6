import type {Organization} from '../account.js'
/**
 * Signing in: one of the sign-in methods obtains credentials (within the
 * timeout; Ctrl-C stops it), the account is looked up, the credentials are
 * saved, and the session they replace is ended on the service (best effort).
 * Ctrl-C, the timeout, a denial or any failure before the save leaves the
 * config file as it was.
 */
import type {PipecatApi} from '../api/pipecat.js'
import type {Context, FlowResult} from '../context.js'

import {HttpStatusError} from '../api/http.js'
import {saveCredentials} from '../config/credentials.js'
import {type StoredCredentials} from '../config/document.js'
import {type Settings, settingText} from '../config/settings.js'
import {
  ConfigFileError,
  InterruptedError,
  LoginError,
  PipecatError,
} from '../errors.js'
import {type Revocation, revokeSession} from '../session/revoke.js'
import {type AuthMethod, isExpiringSoon, isIssuedBy} from '../session/session.js'
import {organizationLabel} from '../text.js'
import {type Expiry, expiryOf} from '../time.js'
import {
  type LoginOptions,
  type Obtained,
  SIGN_IN_METHODS,
} from './methods/index.js'

export type {LoginOptions} from './methods/index.js'

export type LoginResult = FlowResult & {
  authMethod: AuthMethod;
  configPath: string;
  email: null | string;
  /** PIPECAT_TOKEN is set and still overrides the saved credentials. */
  environmentTokenOverrides: boolean;
  organization: {name: string; verboseName: null | string};
  /** The service that issued the session the new credentials replaced, when that was another one. */
  previousSessionIssuer: null | string;
  /** What happened to the session the new credentials replaced; null when there was none to end. */
  previousSessionRevocation: null | Revocation;
  /** When the token expires; null when it does not. */
  tokenExpiry: Expiry | null;
  userId: null | string;
}

export async function login(context: Context, options: LoginOptions): Promise<LoginResult> {
  const [{settings, store}, api] = await Promise.all([context.loadConfig(), context.api()])
  const {account, obtained} = await beforeTheSave(async () => {
    const signedIn = await signIn(context, api, options)
    return {account: await lookUpAccount(api, signedIn, settings), obtained: signedIn}
  })
  const saved = await saveCredentials(
    store,
    {...obtained.tokens, issuer: settingText(settings, 'api_host'), method: obtained.method},
    account.organizations,
  )
  .catch((error: unknown) => {
    throw error instanceof ConfigFileError ? unsaved(error, store.path) : error
  })
  const previousSessionRevocation = await endPreviousSession(api, saved.previous, obtained, settings)
  const {tokens} = obtained
  const previousSessionIssuer = previousSessionRevocation === 'not-sent' ? (saved.previous?.issuer ?? null) : null
  const isEnvironmentTokenOverrides = settings.token.source === 'environment'
  return {
    authMethod: obtained.method,
    configPath: store.path,
    email: account.user?.email ?? null,
    environmentTokenOverrides: isEnvironmentTokenOverrides,
    organization: {name: saved.organization.name, verboseName: saved.organization.verboseName ?? null},
    previousSessionIssuer,
    previousSessionRevocation,
    tokenExpiry: tokens.expiresAt > 0 ? (expiryOf(tokens.expiresAt) ?? null) : null,
    userId: account.user?.userId ?? null,
    warnings: [
      ...(previousSessionIssuer
        ? [`The previous session, with ${previousSessionIssuer}, was left signed in: `
          + 'its credentials are not sent to another service to be ended. '
          + 'It stays valid until it expires; sign out there to end it now.']
        : []),
      ...(isEnvironmentTokenOverrides
        ? ['PIPECAT_TOKEN is set, so commands keep using it instead of the credentials just saved. Unset it to use them.']
        : []),
    ],
  }
}

/** The result's lines for stdout. */
export function renderLogin(result: LoginResult): string[] {
  return [
    `Logged in as ${result.email ?? result.userId ?? 'an account whose email could not be looked up'}`,
    `Organization: ${organizationLabel(result.organization)}`,
    `Credentials saved to ${result.configPath}`,
  ]
}

/**
 * Until credentials are in hand: the first method that applies, within the timeout. Ctrl-C is the command's
 * (one handler, so a second Ctrl-C exits at once); here it means nothing was saved, and says so.
 */
async function signIn(context: Context, api: PipecatApi, options: LoginOptions): Promise<Obtained> {
  const stop = new AbortController()
  const restart = (command: (id: string) => string) => `Run \`${command('cloud auth login')}\``
  const timer = setTimeout(() => {
    stop.abort(new LoginError(`Timed out after ${options.timeoutSeconds} s waiting for the sign-in to complete.`, {
      suggestion: command => `${restart(command)} again, with --timeout SECONDS to wait longer.`,
    }))
  }, options.timeoutSeconds * 1000)
  try {
    const signal = AbortSignal.any([context.signal, stop.signal])
    const methodInput = {
      api: api.withSignal(signal), env: context.env, options, output: context.output, signal, stdin: context.stdin,
    }
    for (const method of SIGN_IN_METHODS) {
      // eslint-disable-next-line no-await-in-loop -- methods are tried in order of preference
      const obtained = await method.obtain(methodInput)
      if (obtained) return obtained
    }

    throw new LoginError('No sign-in method applies.')
  } catch (error) {
    if (error instanceof InterruptedError && context.signal.aborted) {
      throw new InterruptedError('Sign-in interrupted.', {suggestion: command => `${restart(command)} to start again.`})
    }

    throw error
  } finally {
    clearTimeout(timer)
  }
}

/** Whatever stops a sign-in before the save ends its advice by saying so, in one place: the file was not touched. */
async function beforeTheSave<T>(steps: () => Promise<T>): Promise<T> {
  try {
    return await steps()
  } catch (error) {
    if (error instanceof PipecatError) error.note('Nothing was saved.')
    throw error
  }
}

/** Signed in, but the new credentials could not be saved (after the store's retries): the new session is lost, and why. */
function unsaved(error: ConfigFileError, file: string): ConfigFileError {
  const reason = error.message.replace(/^Could not save the config file [^:]*: /v, '').replace(/\.$/v, '')
  const what = `You signed in, but the new session could not be saved to ${file} (${reason}), so it is lost; the file was not changed.`
  return new ConfigFileError(what, {
    cause: error,
    suggestion: command => `Free some disk space or fix the file's folder, then run \`${command('cloud auth login')}\` again.`,
  })
}

type Account = {
  organizations: [Organization, ...Organization[]];
  user?: {email?: string; userId: string};
}

/** The organizations and the user, at once. The token is checked by the organization lookup. */
async function lookUpAccount(api: PipecatApi, {method, tokens}: Obtained, settings: Settings): Promise<Account> {
  const [organizations, user] = await Promise.allSettled([api.organizations(tokens.accessToken), api.user(tokens.accessToken)])
  if (organizations.status === 'rejected') {
    const error: unknown = organizations.reason
    // A 403 web page (not the API's JSON) is a proxy or firewall blocking the request, not a verdict on the token.
    if (error instanceof HttpStatusError && (error.status === 401 || (error.status === 403 && typeof error.body === 'object'))) {
      throw method === 'personal-access-token'
        ? new LoginError('Pipecat Cloud rejected the personal access token.', {
          suggestion: 'Check that it was copied whole and has not been revoked, or create a new one in the dashboard.',
        })
        : new LoginError('Pipecat Cloud did not accept the token the sign-in returned.', {suggestion: 'Start the sign-in again.'})
    }

    throw error
  }

  const [first, ...rest] = organizations.value
  if (!first) {
    const dashboard = settingText(settings, 'dashboard_host')
    throw new LoginError('This Pipecat Cloud account has no organization yet: its onboarding is not finished.', {
      suggestion: command => `Finish setting up your account at ${dashboard}, then run \`${command('cloud auth login')}\` again.`,
    })
  }

  // The email is for the greeting: a failed user lookup does not undo a good sign-in.
  return {organizations: [first, ...rest], user: user.status === 'fulfilled' ? user.value : undefined}
}

/** After the new credentials are safe: the replaced session's refresh token should not outlive it. */
async function endPreviousSession(
  api: PipecatApi,
  previous: StoredCredentials | undefined,
  {tokens}: Obtained,
  settings: Settings,
): Promise<null | Revocation> {
  if (!previous?.refreshToken || previous.refreshToken === tokens.refreshToken) return null
  // Another service issued it: its tokens go to no one else, so it is left to expire.
  if (!isIssuedBy(previous, settings)) return 'not-sent'
  const {refreshToken} = previous
  // The old access token speaks for the old session while it is valid; otherwise the new one asks.
  const bearer =
    previous.token !== '' && previous.expiresAt !== undefined && !isExpiringSoon(previous.expiresAt) ? previous.token : tokens.accessToken
  const {revocation} = await revokeSession(async signal => api.withSignal(signal).revokeSession(bearer, refreshToken))
  return revocation
}
