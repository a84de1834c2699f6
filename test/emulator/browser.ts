// Plays the user's browser against the emulator's sign-in pages: loads the
// page, presses Approve or Deny (the same form POST the buttons make) and, for
// OAuth, follows the redirect to the CLI's loopback callback. An emulator
// started with `tls` is trusted through `ca`, as a browser would be told to.
import {Buffer} from 'node:buffer'
import {request as httpRequest, type IncomingMessage} from 'node:http'
import {request as httpsRequest} from 'node:https'

export type Decision = 'approve' | 'deny'

export type BrowserOptions = {
  /** PEM of the authority to trust for https pages (the emulator's `ca`) */
  ca?: string;
  decision?: Decision;
}

export type BrowserResult = {
  body: string;
  /** where the sign-in redirected to, when it did */
  callbackUrl?: string;
  /** status and body of the last page loaded (the callback page after a redirect) */
  status: number;
}

type Step = {
  body: string;
  location?: string;
  status: number;
}

export async function playBrowser(url: string, opts: BrowserOptions = {}): Promise<BrowserResult> {
  const step = await decide(url, opts.decision ?? 'approve', opts.ca)
  if (step.location === undefined) return {body: step.body, status: step.status}
  const callback = await load(step.location, {ca: opts.ca})
  return {body: callback.body, callbackUrl: step.location, status: callback.status}
}

/** The redirect the sign-in ends with (code or error for the callback), without following it: for paste-back tests. */
export async function authorizeRedirect(url: string, decision: Decision = 'approve', ca?: string): Promise<string> {
  const step = await decide(url, decision, ca)
  if (step.location === undefined) throw new Error(`expected a redirect, got HTTP ${step.status}: ${step.body.slice(0, 300)}`)
  return step.location
}

async function decide(url: string, decision: Decision, ca?: string): Promise<Step> {
  const pageStep = await load(url, {ca})
  // a redirect straight away is auto-approve; an error status or a page without a form is the answer itself
  if (pageStep.location !== undefined || pageStep.status !== 200) return pageStep
  const form = parseForm(pageStep.body, url)
  if (!form) return pageStep
  const fields = new URLSearchParams(form.fields)
  fields.set('decision', decision)
  return load(form.action, {ca, form: fields})
}

/** One request, redirects not followed; node:http(s) rather than fetch, which cannot be given an authority to trust. */
async function load(url: string, {ca, form}: {ca?: string; form?: URLSearchParams}): Promise<Step> {
  const body = form?.toString()
  const headers = body === undefined ? {} : {'content-length': Buffer.byteLength(body), 'content-type': 'application/x-www-form-urlencoded'}
  const options = {headers, method: body === undefined ? 'GET' : 'POST'}
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = new URL(url).protocol === 'https:' ? httpsRequest(url, {...options, ca}, resolve) : httpRequest(url, options, resolve)
    request.on('error', reject)
    request.end(body)
  })
  let text = ''
  for await (const chunk of response.setEncoding('utf8')) text += chunk as string
  const status = response.statusCode ?? 0
  const {location} = response.headers
  const isRedirected = status >= 300 && status < 400 && location !== undefined
  return {body: text, location: isRedirected ? new URL(location, url).href : undefined, status}
}

/** The first form's absolute action and its hidden fields; enough for the emulator's own pages. */
function parseForm(html: string, pageUrl: string): undefined | {action: string; fields: Array<[string, string]>} {
  const formTag = /<form\b[^>]*>/iv.exec(html)?.[0]
  if (!formTag) return undefined
  const action = new URL(attributes(formTag).action ?? '', pageUrl).href
  const fields: Array<[string, string]> = []
  for (const [input] of html.matchAll(/<input\b[^>]*>/giv)) {
    const {name, type, value} = attributes(input)
    if (name && type?.toLowerCase() === 'hidden') fields.push([name, value ?? ''])
  }

  return {action, fields}
}

function attributes(tag: string): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [, name, value] of tag.matchAll(/([\w\-]+)="([^"]*)"/gv)) result[name!.toLowerCase()] = decodeEntities(value!)
  return result
}

function decodeEntities(text: string): string {
  return text
  .replaceAll('&quot;', '"')
  .replaceAll('&#39;', "'")
  .replaceAll('&lt;', '<')
  .replaceAll('&gt;', '>')
  .replaceAll('&amp;', '&')
}
