/**
 * Faults a process meets that the service does not cause: a file size limit
 * (`ulimit -f`), a full disk (a small tmpfs), and waiting for the moment to
 * inject them (a request has reached the emulator).
 */
import {execFileSync} from 'node:child_process'
import {mkdtemp, open, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Emulator} from '../emulator/server.js'

import {BIN, cleanEnv, startProcess} from './cli.js'
import {waitFor} from './poll.js'

/** Resolves once the emulator has received `METHOD /path` (the request may still be waiting for its answer). */
export async function requestSeen(emulator: Emulator, method: string, pathname: string, count = 1): Promise<void> {
  await waitFor(() => emulator.requests.filter(request => request.method === method && request.path === pathname).length >= count, {
    timeoutMs: 15_000,
    what: `${method} ${pathname} to reach the emulator`,
  })
}

/** The CLI with a file size limit of `blocks` KiB (`ulimit -f`, which sh counts in 512-byte or KiB blocks: both fine for 0). */
export function startLimited(blocks: number, args: string[], env: Record<string, string | undefined>, input = '') {
  const child = startProcess('/bin/sh', ['-c', `ulimit -f ${blocks}; exec "$0" "$@"`, process.execPath, BIN, ...args], {env: cleanEnv(env)})
  child.stdin.end(input)
  return child
}

export type SmallDisk = {
  dir: string;
  /** Fills what is left of it, with a file that free() removes. */
  fill(): Promise<void>;
  free(): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * A tmpfs of `kib` KiB at a fresh folder, when this process may mount one (root); undefined otherwise.
 * Mounted in this machine's namespace, under a private folder, and unmounted by unmount() (or at exit).
 */
export async function smallDisk(kib = 256): Promise<SmallDisk | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const dir = await mkdtemp(path.join(tmpdir(), 'pipecat-disk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0700`, 'tmpfs', dir], {stdio: 'ignore'})
  } catch {
    await rm(dir, {force: true, recursive: true})
    return undefined
  }

  const filler = path.join(dir, 'filler')
  let isMounted = true
  const unmountNow = () => {
    if (!isMounted) return
    isMounted = false
    execFileSync('umount', ['-l', dir], {stdio: 'ignore'})
  }

  process.once('exit', unmountNow)
  return {
    dir,
    async fill() {
      const handle = await open(filler, 'a')
      const chunk = Buffer.alloc(4096)
      try {
        for (;;) await handle.write(chunk)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
      } finally {
        await handle.close()
      }
    },
    async free() {
      await rm(filler, {force: true})
    },
    async unmount() {
      unmountNow()
      await rm(dir, {force: true, recursive: true})
    },
  }
}
