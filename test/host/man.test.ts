/**
 * The man pages: generated from the command definitions (scripts/man.ts),
 * committed under man/, listed in package.json, and clean under man-db's lint.
 */
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {
  loadCommands,
  MAN_DIR,
  manField,
  type ManPage,
  pageFile,
  renderManPages,
  stalePages,
} from '../../scripts/man.js'
import {envName, SETTING_NAMES} from '../../src/config/settings.js'
import {ROOT} from '../support/cli.js'

/** A page as `man` shows it, at a width wide enough that no name is broken across lines. */
function show(page: string, warnings = false): {stderr: string; stdout: string} {
  const args = warnings ? ['--warnings', '-l', page] : ['-l', page]
  const result = spawnSync('man', args, {
    encoding: 'utf8', env: {
      ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', MANPAGER: 'cat', MANWIDTH: '200', PAGER: 'cat',
    },
  })
  if (result.error) throw result.error
  return {stderr: result.stderr, stdout: result.stdout}
}

describe('man pages', () => {
  let pages: ManPage[]

  before(async () => {
    pages = await renderManPages()
  })

  it('are up to date with the commands (else run `npm run man`)', async () => {
    expect(await stalePages(pages), 'stale pages in man/: run `npm run man`').to.deep.equal([])
  })

  it('are all listed in package.json "man"', async () => {
    const pjson = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {man: string[]}
    expect(pjson.man).to.deep.equal(manField(pages))
  })

  it('are one per command, the pipecat-cloud overview and pipecat(1) for the program', async () => {
    const {commands} = await loadCommands()
    const names = pages.map(page => page.name)
    expect(names.toSorted()).to.deep.equal(['pipecat.1', ...commands.map(command => pageFile(command.id))].toSorted())
    expect(names).to.include.members(['pipecat.1', 'pipecat-cloud.1', 'pipecat-cloud-config.1', 'pipecat-cloud-auth-login.1', 'pipecat-cloud-auth-logout.1', 'pipecat-cloud-auth-whoami.1'])
  })

  it('render without warnings under `man --warnings`', () => {
    for (const {name} of pages) {
      const {stderr, stdout} = show(path.join(MAN_DIR, name), true)
      expect(stderr, name).to.equal('')
      expect(stdout, name).to.match(/^NAME$/mv)
    }
  })

  it('show each command as it is typed, with plain ASCII hyphens in flags', async () => {
    // What each page documents, as typed: from the commands (a name may have a hyphen of its own: `use-pat`).
    const typed = new Map((await loadCommands()).commands.map(command => [pageFile(command.id), `pipecat ${command.id.replaceAll(':', ' ')}`]))
    typed.set('pipecat.1', 'pipecat')
    for (const {name, roff} of pages) {
      const {stdout} = show(path.join(MAN_DIR, name))
      expect(typed.get(name), name).to.be.a('string')
      expect(stdout, name).to.include(typed.get(name))
      if (roff.includes(String.raw`\-\-json`)) expect(stdout, name).to.include('--json')
      expect(stdout, name).not.to.include('\u{2212}')
    }
  })

  it('never tell the reader to run a pipecat command the standalone pipecat does not have (such as `plugins install`)', async () => {
    const {commands} = await loadCommands()
    const known = new Set(['autocomplete', 'help', ...commands.flatMap(command => command.id.split(':').map((_, index, parts) => parts.slice(0, index + 1).join(' ')))])
    for (const {name} of pages) {
      const {stdout} = show(path.join(MAN_DIR, name))
      // "pipecat" then its words as typed, up to a flag, an argument placeholder or the end of the command.
      for (const [, typed] of stdout.replaceAll(/\s+/gv, ' ').matchAll(/(?<![\w@\/\-])pipecat ((?:[a-z][\w\-]* ?)+)/gv)) {
        const words = typed!.trim().split(' ')
        const longest = words.map((_, index) => words.slice(0, index + 1).join(' ')).findLast(prefix => known.has(prefix))
        // Else it is the synopsis placeholder or prose ("pipecat signs you in", "the standalone pipecat program").
        if (longest === undefined) expect(['command', 'program', 'signs'], `${name}: pipecat ${typed}`).to.include(words[0])
      }
    }
  })

  it('show pipecat(1) naming the program, its commands and its flags', () => {
    const {stdout} = show(path.join(MAN_DIR, 'pipecat.1'))
    expect(stdout).to.match(/^NAME\n\s+pipecat - The Pipecat Cloud command line/mv)
    for (const line of ['pipecat cloud auth login', 'pipecat cloud config', 'pipecat help', '--version', 'pipecat-cloud(1)']) expect(stdout).to.include(line)
  })

  it('document the config file and every environment variable in the overview', () => {
    const {stdout} = show(path.join(MAN_DIR, 'pipecat-cloud.1'))
    const section = (title: string): string => stdout.split(new RegExp(`^${title}$`, 'mv'))[1]?.split(/^[A-Z][A-Z ]+$/mv, 1)[0] ?? ''
    expect(section('FILES')).to.include('~/.config/pipecatcloud/pipecatcloud.toml').and.to.include('PIPECAT_CONFIG_PATH')
    const environment = section('ENVIRONMENT')
    const variables = [
      'PIPECAT_CONFIG_PATH',
      ...SETTING_NAMES.map(name => envName(name)),
      'PIPECAT_HTTP_TIMEOUT',
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'NO_PROXY',
      'BROWSER',
      'NO_COLOR',
      'DEBUG',
    ]
    for (const variable of variables) expect(environment, variable).to.match(new RegExp(String.raw`^\s+${variable}\b`, 'mv'))
    expect(environment).to.include('https://api.pipecat.daily.co')
  })
})
