/**
 * Finishes the .deb that `oclif pack deb` builds so that it installs like a
 * Debian package: oclif leaves the man pages in /usr/lib/pipecat/man (where
 * `man` never looks), writes `Maintainer: undefined` and `Aliases: undefined`
 * when package.json has no author or aliases, and files it under the archive
 * area "main" instead of a section. Here the package is unpacked with
 * `dpkg-deb --raw-extract`, fixed, and built again with `dpkg-deb --build`.
 */
import {execFileSync} from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

export type DebInfo = {
  /** package.json `author`: "Name <address>", the Maintainer. */
  author: string;
  /** The long description's text (one paragraph). */
  details: string;
  /** LICENSE's text, for /usr/share/doc/PACKAGE/copyright. */
  license: string;
  /** The license's SPDX name (package.json `license`). */
  licenseName: string;
  /** The one-line description (the synopsis). */
  summary: string;
  /** The npm package the program is built from, for the copyright file. */
  upstream: string;
}

const MAINTAINER = /^[^<>]+ <[^<>\s@]+@[^<>\s@]+>$/v

export function finishDeb(deb: string, info: DebInfo, work: string): void {
  if (!MAINTAINER.test(info.author)) throw new Error(`package.json "author" must be "Name <address>" (the .deb's Maintainer), not "${info.author}".`)
  const tree = mkdtempSync(path.join(work, 'deb-'))
  execFileSync('dpkg-deb', ['--raw-extract', deb, tree], {stdio: ['ignore', 'inherit', 'inherit']})
  const control = readFileSync(path.join(tree, 'DEBIAN', 'control'), 'utf8')
  const field = (name: string): string => {
    const value = new RegExp(`^${name}: (.+)$`, 'mv').exec(control)?.[1]?.trim()
    if (!value) throw new Error(`oclif's control file has no ${name}:\n${control}`)
    return value
  }

  const name = field('Package')
  installManPages(tree, name)
  const doc = path.join(tree, 'usr', 'share', 'doc', name)
  mkdirSync(doc, {recursive: true})
  writeFileSync(path.join(doc, 'copyright'), copyright(info), {mode: 0o644})

  const fields = [
    ['Package', name],
    ['Version', field('Version')],
    ['Architecture', field('Architecture')],
    ['Maintainer', info.author],
    ['Installed-Size', String(installedSize(tree))],
    ['Section', 'utils'],
    ['Priority', 'optional'],
    ['Description', `${info.summary}\n${wrap(info.details)}`],
  ]
  writeFileSync(path.join(tree, 'DEBIAN', 'control'), fields.map(([key, value]) => `${key}: ${value}\n`).join(''))
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', tree, deb], {stdio: ['ignore', 'ignore', 'inherit']})
  rmSync(tree, {force: true, recursive: true})
}

/** usr/lib/NAME/man/*.1 to usr/share/man/man1/*.1.gz, compressed at the highest level as Debian does (gzip -9n). */
function installManPages(tree: string, name: string): void {
  const from = path.join(tree, 'usr', 'lib', name, 'man')
  const to = path.join(tree, 'usr', 'share', 'man', 'man1')
  const pages = readdirSync(from).filter(file => file.endsWith('.1'))
  if (pages.length === 0) throw new Error(`No man pages in ${from}: run \`npm run man\`.`)
  mkdirSync(to, {recursive: true})
  for (const page of pages) {
    const roff = readFileSync(path.join(from, page))
    writeFileSync(path.join(to, `${page}.gz`), gzipSync(roff, {level: 9}), {mode: 0o644})
  }

  rmSync(from, {recursive: true})
}

function copyright(info: DebInfo): string {
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    `Upstream-Name: ${info.upstream}`,
    `Upstream-Contact: ${info.author}`,
    '',
    'Files: *',
    `License: ${info.licenseName}`,
    wrap(info.license.trim()),
    '',
  ].join('\n')
}

/** Kibibytes the files take once installed, as dpkg-gencontrol counts them (the control field Installed-Size). */
function installedSize(tree: string): number {
  let kib = 0
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      if (dir === tree && entry.name === 'DEBIAN') continue
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else kib += entry.isFile() ? Math.ceil(readFileSync(full).length / 1024) : 1
    }
  }

  walk(tree)
  return kib
}

/** A control-file continuation: each line indented by one space, an empty line as " .". */
function wrap(text: string): string {
  return text
  .split('\n')
  .map(line => (line.trim() === '' ? ' .' : ` ${line}`))
  .join('\n')
}
