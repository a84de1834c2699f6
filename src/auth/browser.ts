/**
 * Opening the user's browser: whether one can be opened here at all, and
 * opening it with `open` (imported only when it is used). A browser that
 * cannot be opened is never an error: login says so and carries on headless.
 */
import {release} from 'node:os'

import type {Output} from '../context.js'

/** An opener that has not failed within this time is taken to have worked (browsers may keep it running). */
const OPENER_GRACE_MS = 2000

/** Why no browser can be opened on this machine, or undefined when one can as far as we can tell. */
export function browserUnavailable(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  kernelRelease: string = release(),
): string | undefined {
  if (env.BROWSER?.trim().toLowerCase() === 'none') return 'BROWSER is set to "none"'
  if ([env.SSH_CONNECTION, env.SSH_TTY, env.SSH_CLIENT].some(Boolean)) return 'this is an SSH session, so the browser would open on the remote machine'
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    const isWsl = [env.WSL_DISTRO_NAME, /microsoft/iv.test(kernelRelease)].some(Boolean)
    return isWsl ? 'this is WSL without a display (DISPLAY and WAYLAND_DISPLAY are not set)' : 'there is no display (DISPLAY and WAYLAND_DISPLAY are not set)'
  }

  return undefined
}

/**
 * Opens `url` in the default browser. Resolves with why it failed, or
 * undefined when the opener started and did not fail at once.
 */
export async function openBrowser(url: string): Promise<string | undefined> {
  try {
    const {default: open} = await import('open')
    const opener = await open(url)
    const exitCode = await new Promise<null | number | undefined>(resolve => {
      const timer = setTimeout(() => {
        resolve(undefined)
      }, OPENER_GRACE_MS)
      timer.unref()
      opener.once('exit', code => {
        clearTimeout(timer)
        resolve(code)
      })
    })
    return exitCode ? `the browser opener exited with status ${exitCode}` : undefined
  } catch (error) {
    return `the browser opener failed (${(error as Error).message.split('\n', 1)[0]})`
  }
}

/**
 * The sign-in address (and code) first, always, as plain lines; then the
 * browser, unless headless or there is none to open. `session` aborts once
 * the sign-in is over, so a late opener failure says nothing.
 */
export function showSignInAddress(
  {env, output}: {env: NodeJS.ProcessEnv; output: Output},
  {code, headless, session, url}: {code?: string; headless: boolean; session: AbortSignal; url: string},
): void {
  output.notice('To sign in to Pipecat Cloud, open this address in a browser:')
  output.notice(url)
  if (code) output.notice(`and check that the page shows this code: ${code}`)
  if (headless) return
  const unavailable = browserUnavailable(env)
  if (unavailable) {
    output.progress(`Not opening a browser: ${unavailable}. Open the address above yourself.`)
    return
  }

  output.progress('Opening the address in your browser...')
  openBrowser(url)
  .then(failure => {
    if (failure && !session.aborted) output.progress(`Could not open a browser: ${failure}. Open the address above yourself.`)
  })
  .catch(() => {})
}
