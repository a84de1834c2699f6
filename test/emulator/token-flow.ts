// The earlier token flow (servers without OAuth): the CLI starts a flow, the
// user approves it on a web page (optionally checking a short code), and the
// CLI polls /auth/status, long-polled when `longPollMs` is set, until it
// gets a token once.
import type {ServerResponse} from 'node:http'

import {Buffer} from 'node:buffer'
import {randomBytes, randomUUID, timingSafeEqual} from 'node:crypto'

import type {State} from './server.js'

import {
  type Context,
  sendError,
  sendHtml,
  sendJson,
} from './http.js'
import {page, tokenFlowPage} from './pages.js'

export type TokenFlow = {
  code?: string;
  state: 'approved' | 'consumed' | 'denied' | 'pending';
  /** long polls waiting for a decision */
  waiters: Set<() => void>;
  waitSecret: string;
}

/** POST /auth/login: a new pending flow, with a user code when `?use_code=true`. */
export function startTokenFlow(state: State, {res, url}: Context): void {
  const id = randomUUID()
  const flow: TokenFlow = {state: 'pending', waiters: new Set(), waitSecret: randomBytes(24).toString('base64url')}
  if (url.searchParams.get('use_code') === 'true') flow.code = state.knobs.tokenFlowCode || userCode()
  state.flows.set(id, flow)
  sendJson(res, 200, {
    token_flow_id: id,
    wait_secret: flow.waitSecret,
    web_url: `${state.url}/login/${id}`,
    ...(flow.code && {code: flow.code}),
  })
}

/** Like ABCD-1234; no I or O, so it reads unambiguously. */
function userCode(): string {
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ'
  const pick = (alphabet: string) => alphabet[randomBytes(1)[0]! % alphabet.length]!
  const part = (alphabet: string) => Array.from({length: 4}, () => pick(alphabet)).join('')
  return `${part(letters)}-${part('0123456789')}`
}

// ---------------------------------------------------------------- the browser

/** GET /login/{id}: the page the CLI opened. */
export function tokenFlowWebPage(state: State, {params, res}: Context): void {
  const [id = ''] = params
  const flow = state.flows.get(id)
  if (flow) {
    sendHtml(res, 200, tokenFlowPage(id, flow))
  } else {
    sendHtml(res, 404, page('Sign-in request not found', '<p>This sign-in link is unknown or has expired.</p>'))
  }
}

/** POST /login/{id}: the Approve or Deny button. */
export function tokenFlowDecision(state: State, {body, params, res}: Context): void {
  const flow = state.flows.get(params[0] ?? '')
  const decision = new URLSearchParams(body).get('decision')
  if (!flow) sendHtml(res, 404, page('Sign-in request not found', '<p>This sign-in link is unknown or has expired.</p>'))
  else if (flow.state !== 'pending') sendHtml(res, 409, page('Already answered', '<p>This sign-in request was already answered.</p>'))
  else if (decision !== 'approve' && decision !== 'deny') sendHtml(res, 400, page('Bad request', '<p>decision must be approve or deny.</p>'))
  else {
    decideFlow(flow, decision === 'approve' ? 'approved' : 'denied')
    const text = decision === 'approve' ? 'You are signed in. Return to your terminal.' : 'Sign-in denied. You can close this window.'
    sendHtml(res, 200, page(decision === 'approve' ? 'Signed in' : 'Sign-in denied', `<p>${text}</p>`))
  }
}

/** Settles the flow and wakes the long polls waiting on it. */
function decideFlow(flow: TokenFlow, decision: 'approved' | 'denied'): void {
  flow.state = decision
  for (const wake of flow.waiters) wake()
}

// ---------------------------------------------------------------- the CLI: polling

/** GET /auth/status?token_flow_id=&wait_secret=: pending, complete (with the token, once) or failure. */
export async function tokenFlowStatus(state: State, {res, url}: Context): Promise<void> {
  const id = url.searchParams.get('token_flow_id')
  const secret = url.searchParams.get('wait_secret')
  if (!id || !secret) {
    sendError(res, 400, 'token_flow_id and wait_secret are required')
    return
  }

  const flow = state.flows.get(id)
  if (!flow || flow.state === 'consumed') {
    sendError(res, 404, 'Unknown token flow')
    return
  }

  if (!isSameSecret(secret, flow.waitSecret)) {
    sendError(res, 403, 'Forbidden')
    return
  }

  if (flow.state === 'pending' && state.knobs.autoApprove) decideFlow(flow, 'approved')
  if (flow.state === 'pending' && state.knobs.longPollMs > 0) await waitForDecision(state, flow, state.knobs.longPollMs)
  if (state.closing.aborted) return
  answerFlowStatus(state, res, flow)
}

function isSameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Resolves after `ms`, or earlier when the flow is decided or the emulator closes. */
async function waitForDecision(state: State, flow: TokenFlow, ms: number): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      clearTimeout(timer)
      flow.waiters.delete(done)
      state.closing.removeEventListener('abort', done)
      resolve()
    }

    const timer = setTimeout(done, ms)
    flow.waiters.add(done)
    state.closing.addEventListener('abort', done, {once: true})
  })
}

function answerFlowStatus(state: State, res: ServerResponse, flow: TokenFlow): void {
  switch (flow.state) {
  case 'pending': {
    sendJson(res, 200, {status: 'pending'})
    break
  }

  case 'approved': {
    flow.state = 'consumed' // the token is handed out once
    sendJson(res, 200, {status: 'complete', token: state.tokens.addStandalone('legacy')})
    break
  }

  case 'denied': {
    sendJson(res, 200, {status: 'failure'})
    break
  }

  case 'consumed': {
    sendError(res, 404, 'Unknown token flow') // a concurrent poll took it
    break
  }
  }
}
