// oidc-provider ships no type declarations; this is the little of it the tests use.
declare module 'oidc-provider' {
  import type {IncomingMessage, ServerResponse} from 'node:http'

  type Token = {accountId: string; clientId: string; scope?: string}

  export default class Provider {
    AccessToken: {find(value: string): Promise<Token | undefined>}
    RefreshToken: {find(value: string): Promise<(Token & {consumed?: unknown}) | undefined>}
    constructor(issuer: string, configuration: Record<string, unknown>)
    callback(): (req: IncomingMessage, res: ServerResponse) => void
  }
}
