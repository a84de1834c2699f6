/**
 * `auth token`: the access token for scripts (`curl -H "Authorization: Bearer
 * $(pipecat cloud auth token)"`), renewed first when it expires within a
 * minute, as every other command would before sending it.
 */
import type {Context, FlowResult} from '../context.js'

import {NotLoggedInError} from '../errors.js'
import {credentialFields, type WhoamiReport} from './whoami.js'

export type TokenResult = FlowResult & Pick<WhoamiReport, 'authMethod' | 'tokenExpiry' | 'tokenIssuer' | 'tokenSource'> & {
  token: string;
}

export async function accessToken(context: Context): Promise<TokenResult> {
  const session = await context.session()
  const token = await session.token()
  const fields = credentialFields(session.credentials, context.configPath)
  // An expired token no refresh could renew would only fail wherever it is sent: say so here instead.
  if (fields.tokenExpiry?.expired) {
    const expired = fields.tokenExpiry.relative.replace(/^expired /v, '')
    throw new NotLoggedInError(`The stored access token expired ${expired} and cannot be renewed.`)
  }

  return {...fields, token, warnings: []}
}

/** For people and pipes: the token alone, nothing else on stdout. */
export function renderToken(result: TokenResult): string[] {
  return [result.token]
}
