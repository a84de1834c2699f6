/**
 * Opening the user's browser: whether one can be opened here at all, and
 * opening it with `open` (imported only when it is used). A browser that
 * cannot be opened is never an error: login says so and carries on headless.
 */
import {spawn} from 'node:child_process'
import {release} from 'node:os'
import path from 'node:path'

import type {Output} from '../context.js'

/** An opener that has not failed within this time is taken to have worked (browsers may keep it running). */
const OPENER_GRACE_MS = 2000

/** Why no browser can be opened on this machine, or undefined when one can as far as we can tell. */
export function browserUnavailable(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  kernelRelease: string = release(),
): string | undefined {
  const browser = env.BROWSER?.trim()
  if (browser?.toLowerCase() === 'none') return 'BROWSER is set to "none"'
  // The user's own choice: used even over SSH or without a display (a helper that forwards the address, a remote desktop).
  if (browser) return undefined
  if ([env.SSH_CONNECTION, env.SSH_TTY, env.SSH_CLIENT].some(Boolean)) {
    return 'this is an SSH session, so the browser would open on the remote machine'
  }

  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    const isWsl = [env.WSL_DISTRO_NAME, /microsoft/iv.test(kernelRelease)].some(Boolean)
    return isWsl
      ? 'this is WSL without a display (DISPLAY and WAYLAND_DISPLAY are not set)'
      : 'there is no display (DISPLAY and WAYLAND_DISPLAY are not set)'
  }

  return undefined
}

/**
 * Opens `url` with the program BROWSER names, else in the default browser.
 * Resolves with why it failed, or undefined when the opener started and did
 * not fail at once.
 */
export async function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const commands = browserCommands(env.BROWSER, url)
  if (commands.length > 0) return openWithBrowserVariable(commands)
  try {
    const {default: open} = await import('open')
    const exitCode = await outcome(await open(url))
    if (exitCode === 'missing') return 'the browser opener could not be started'
    return exitCode ? `the browser opener exited with status ${exitCode}` : undefined
  } catch (error) {
    return `the browser opener failed (${(error as Error).message.split('\n', 1)[0]})`
  }
}

/**
 * The commands BROWSER names for `url`, as Python's webbrowser reads it:
 * programs separated by the path delimiter, tried in order. An entry with
 * `%s` is a command line, split into words, `%s` standing for the address;
 * any other entry is a program (a path may hold spaces), given the address.
 * No shell: the address is always one argument.
 */
export function browserCommands(browser: string | undefined, url: string): string[][] {
  if (!browser?.trim() || browser.trim().toLowerCase() === 'none') return []
  return browser.split(path.delimiter).map(entry => entry.trim()).filter(Boolean).map(entry => (
    entry.includes('%s') ? splitWords(entry).map(word => word.split('%s').join(url)) : [entry, url]
  ))
}

/** Words as a shell splits them: spaces separate, quotes and backslashes keep spaces in a word. */
function splitWords(text: string): string[] {
  const words: string[] = []
  for (const [, ...parts] of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|((?:[^\s"'\\]|\\.)+)|(\s+)/gv)) {
    const [double, single, bare, space] = parts
    if (space !== undefined) {
      words.push('')
      continue
    }

    const piece = single ?? (double ?? bare ?? '').replaceAll(/\\(.)/gv, '$1')
    if (words.length === 0) words.push('')
    words[words.length - 1] += piece
  }

  return words.filter(Boolean)
}

/** Each BROWSER command in turn until one starts and does not fail at once. */
async function openWithBrowserVariable(commands: string[][]): Promise<string | undefined> {
  let failure: string | undefined
  for (const [program = '', ...args] of commands) {
    const child = spawn(program, args, {detached: true, stdio: 'ignore'})
    child.unref()
    // eslint-disable-next-line no-await-in-loop -- the next program is tried only when this one failed
    const exitCode = await outcome(child)
    if (exitCode === undefined || exitCode === 0) return undefined
    failure = exitCode === 'missing'
      ? `BROWSER names ${program}, which could not be started`
      : `${program} (from BROWSER) exited with status ${exitCode}`
  }

  return failure
}

/** How an opener ended within the grace time: its exit code, 'missing' when it could not start, undefined when still running. */
async function outcome(opener: ReturnType<typeof spawn>): Promise<'missing' | null | number | undefined> {
  return new Promise(resolve => {
    const timer = setTimeout(() => {
      resolve(undefined)
    }, OPENER_GRACE_MS)
    timer.unref()
    opener.once('error', () => {
      clearTimeout(timer)
      resolve('missing')
    })
    opener.once('exit', code => {
      clearTimeout(timer)
      resolve(code)
    })
  })
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

  const [chosen] = browserCommands(env.BROWSER, url)
  output.progress(chosen ? `Opening the address with ${chosen[0]} (from BROWSER)...` : 'Opening the address in your browser...')
  openBrowser(url, env)
  .then(failure => {
    if (failure && !session.aborted) output.progress(`Could not open a browser: ${failure}. Open the address above yourself.`)
  })
  .catch(() => {})
}
