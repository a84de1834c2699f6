/** What the emulator was asked: the requests in order, and the bearer token each carried. */
import type {Emulator, RecordedRequest} from '../emulator/server.js'

/** The API requests the emulator received, in order ('GET /v1/users'). */
export function requested(emulator: Emulator): string[] {
  return emulator.requests.map(request => `${request.method} ${request.path}`)
}

export function bearer(request: RecordedRequest | undefined): string | undefined {
  const header = request?.headers.authorization
  return typeof header === 'string' ? header.replace(/^Bearer /v, '') : undefined
}
