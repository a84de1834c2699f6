// The failure knobs: `latencyMs` delays every answer, `pathLatencyMs` the answers
// to chosen routes (after `latencyMs`), and `failures` replaces
// the answer to chosen routes with an error status, a broken body, an HTML
// block page, a hang or a cut connection.
import type {OutgoingHttpHeaders, ServerResponse} from 'node:http'

import {Buffer} from 'node:buffer'
import {setTimeout as delay} from 'node:timers/promises'

import type {Failure, State} from './server.js'

import {send, sendHtml, sendJson} from './http.js'
import {cloudflarePage} from './pages.js'

/**
 * Waits `latencyMs`, then the route's own `pathLatencyMs`, before the request is handled (a refresh grant is
 * spent once the wait is over, whether the client is still there or not); the emulator closing ends the wait.
 */
export async function addLatency(state: State, method: string, path: string, template?: string): Promise<void> {
  const extra = state.knobs.pathLatencyMs[routeKeys(method, path, template).find(key => state.knobs.pathLatencyMs[key] !== undefined) ?? '']
  const total = state.knobs.latencyMs + (extra ?? 0)
  if (total > 0) await delay(total, undefined, {signal: state.closing})
}

/** The keys a knob may name a request by, the most specific first: 'METHOD /path', 'METHOD /template', '/path', '/template'. */
function routeKeys(method: string, path: string, template?: string): string[] {
  return [`${method} ${path}`, ...(template ? [`${method} ${template}`] : []), path, ...(template ? [template] : [])]
}

/**
 * The failure configured for this request, if any; counts down `times`.
 * The most specific key wins: 'METHOD /path', 'METHOD /template', '/path', '/template'.
 */
export function takeFailure(state: State, method: string, path: string, template?: string): Failure | undefined {
  for (const key of routeKeys(method, path, template)) {
    const failure = state.knobs.failures[key]
    if (!failure || (failure.times !== undefined && failure.times <= 0)) continue
    if (failure.times !== undefined) failure.times--
    return failure
  }

  return undefined
}

export function injectFailure(res: ServerResponse, failure: Failure): void {
  const kind = failure.kind ?? 'status'
  const headers: OutgoingHttpHeaders = failure.retryAfter === undefined ? {} : {'retry-after': String(failure.retryAfter)}
  const status = failure.status ?? (kind === 'status' ? 500 : 200)
  switch (kind) {
  case 'status': {
    sendJson(res, status, {code: String(status), error: `Injected failure (${status})`}, headers)
    break
  }

  case 'bad-json': {
    send(res, status, '{not json', {...headers, 'content-type': 'application/json'})
    break
  }

  case 'wrong-shape': {
    sendJson(res, status, {unexpected: true}, headers)
    break
  }

  case 'html': {
    sendHtml(res, status, cloudflarePage(status))
    break
  }

  case 'hang': {
    break // never answer; close() destroys the socket
  }

  case 'reset':
  case 'truncated': {
    cutShort(res, status, headers, kind)
    break
  }
  }
}

/** truncated: half the promised bytes then a clean end; reset: fewer bytes then a TCP reset. */
function cutShort(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, kind: 'reset' | 'truncated'): void {
  const body = Buffer.from(JSON.stringify({detail: 'x'.repeat(200), error: 'this body is cut short'}))
  res.writeHead(status, {...headers, 'content-length': body.length, 'content-type': 'application/json'})
  const cut = kind === 'truncated' ? body.length / 2 : body.length / 4
  res.write(body.subarray(0, Math.floor(cut)), () => {
    if (kind === 'truncated') {
      res.socket?.end()
      return
    }

    // resetting right here still ends with a FIN; a moment later the kernel sends a real RST (ECONNRESET)
    setTimeout(() => {
      res.socket?.resetAndDestroy()
    }, 10)
  })
}
