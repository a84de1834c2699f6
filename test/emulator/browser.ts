// Plays the user's browser against the emulator's sign-in pages: loads the
// page, presses Approve or Deny (the same form POST the buttons make) and, for
// OAuth, follows the redirect to the CLI's loopback callback.

export type Decision = 'approve' | 'deny'

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

export async function playBrowser(url: string, opts: {decision?: Decision} = {}): Promise<BrowserResult> {
  const step = await decide(url, opts.decision ?? 'approve')
  if (step.location === undefined) return {body: step.body, status: step.status}
  const callback = await fetch(step.location, {redirect: 'manual'})
  return {body: await callback.text(), callbackUrl: step.location, status: callback.status}
}

/** The redirect the sign-in ends with (code or error for the callback), without following it: for paste-back tests. */
export async function authorizeRedirect(url: string, decision: Decision = 'approve'): Promise<string> {
  const step = await decide(url, decision)
  if (step.location === undefined) throw new Error(`expected a redirect, got HTTP ${step.status}: ${step.body.slice(0, 300)}`)
  return step.location
}

async function decide(url: string, decision: Decision): Promise<Step> {
  const pageStep = await load(url, {redirect: 'manual'})
  // a redirect straight away is auto-approve; an error status or a page without a form is the answer itself
  if (pageStep.location !== undefined || pageStep.status !== 200) return pageStep
  const form = parseForm(pageStep.body, url)
  if (!form) return pageStep
  const fields = new URLSearchParams(form.fields)
  fields.set('decision', decision)
  return load(form.action, {body: fields, method: 'POST', redirect: 'manual'})
}

async function load(url: string, init: RequestInit): Promise<Step> {
  const response = await fetch(url, init)
  const body = await response.text()
  const location = response.headers.get('location')
  const isRedirected = response.status >= 300 && response.status < 400 && location !== null
  return {body, location: isRedirected ? new URL(location, url).href : undefined, status: response.status}
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
