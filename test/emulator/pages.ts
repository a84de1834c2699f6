import {randomBytes} from 'node:crypto'

// The emulator's HTML: the sign-in pages of both login flows, and the
// Cloudflare-style block page the 'html' failure serves.
import type {AuthorizeRequest} from './oauth.js'
import type {TokenFlow} from './token-flow.js'

/** The authorize parameters the sign-in form posts back. */
const AUTHORIZE_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge', 'code_challenge_method', 'state']

export function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#111}
button{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem;cursor:pointer}
code,.code{font-family:ui-monospace,monospace}.code{font-size:2rem;letter-spacing:.2rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${content}
</body></html>
`
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

function decisionButtons(): string {
  return `<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>`
}

/** OAuth: the authorize page. */
export function signInPage(request: AuthorizeRequest, query: URLSearchParams, account: string): string {
  const hidden = AUTHORIZE_FIELDS.filter(name => query.has(name))
  .map(name => `<input type="hidden" name="${name}" value="${escapeHtml(query.get(name) ?? '')}">`)
  .join('\n')
  return page(
    'Sign in to Pipecat Cloud (emulator)',
    `<p>The application <code>${escapeHtml(request.clientId)}</code> asks to sign in as <b>${escapeHtml(account)}</b>.</p>
<p>Scopes: <code>${escapeHtml(request.scope)}</code></p>
<form method="post" action="/oauth/authorize">
${hidden}
${decisionButtons()}
</form>`,
  )
}

/** OAuth: an authorize request that cannot be redirected back. */
export function authorizeErrorPage(reason: string): string {
  return page('Invalid sign-in request', `<p>The sign-in request was rejected: ${escapeHtml(reason)}.</p>`)
}

/** The earlier token flow: the page the CLI opens, with the code to compare. */
export function tokenFlowPage(id: string, flow: TokenFlow): string {
  const code = flow.code ? `<p>Check that your terminal shows this code:</p><p class="code">${escapeHtml(flow.code)}</p>` : ''
  const form =
    flow.state === 'pending'
      ? `<form method="post" action="/login/${encodeURIComponent(id)}">\n${decisionButtons()}\n</form>`
      : '<p>This sign-in request was already answered.</p>'
  return page('Sign in to Pipecat Cloud (emulator)', `<p>Approve the sign-in from the Pipecat CLI.</p>\n${code}\n${form}`)
}

/** What a CDN's bot protection answers instead of JSON. */
export function cloudflarePage(status: number): string {
  return `<!DOCTYPE html>
<html><head><title>Attention Required! | Cloudflare</title></head>
<body><div id="cf-wrapper"><h1>Sorry, you have been blocked</h1>
<p>Error ${status}. This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: <strong>${randomBytes(8).toString('hex')}</strong> &bull; Performance &amp; security by Cloudflare</p>
</div></body></html>
`
}
