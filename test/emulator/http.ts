// The emulator's HTTP plumbing: what a handler receives, reading a request
// body, and the few shapes of answer (JSON, OAuth error, HTML, redirect).
import type {IncomingMessage, OutgoingHttpHeaders, ServerResponse} from 'node:http'

import {Buffer} from 'node:buffer'

const MAX_BODY_BYTES = 1_000_000

/** One request as a handler sees it; `params` are the `{...}` parts of the route template. */
export type Context = {
  body: string;
  params: string[];
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError()
    chunks.push(chunk)
  }

  return Buffer.concat(chunks).toString('utf8')
}

export function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export function send(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders): void {
  res.writeHead(status, {'content-length': Buffer.byteLength(body), ...headers})
  res.end(body)
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, JSON.stringify(body), {'content-type': 'application/json', ...headers})
}

/** The Pipecat Cloud API's error shape. */
export function sendError(res: ServerResponse, status: number, error: string): void {
  sendJson(res, status, {code: String(status), error})
}

/** The OAuth endpoints' error shape (RFC 6749 5.2). */
export function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, {error, error_description: description}, {'cache-control': 'no-store'})
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  send(res, status, html, {'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8'})
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, {'cache-control': 'no-store', 'content-length': 0, location})
  res.end()
}
