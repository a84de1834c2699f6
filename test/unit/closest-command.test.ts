import {expect} from 'chai'

import {closestCommand} from '../../src/unknown-command.js'

/** The ids a user can type below the top (as oclif lists them), and the topics. */
const IDS = [
  'cloud',
  'cloud:auth',
  'cloud:auth:login',
  'cloud:auth:logout',
  'cloud:auth:token',
  'cloud:auth:use-pat',
  'cloud:auth:whoami',
  'cloud:config',
  'cloud:organizations',
  'cloud:organizations:list',
  'cloud:organizations:select',
  'help',
]

/** Every word one edit away: each letter dropped, doubled, replaced by a letter not next to it, swapped with the next. */
function oneEditAway(word: string): string[] {
  const typos = new Set<string>()
  for (let i = 0; i < word.length; i++) {
    typos.add(word.slice(0, i) + word.slice(i + 1))
    typos.add(word.slice(0, i + 1) + word.slice(i))
    typos.add(`${word.slice(0, i)}q${word.slice(i + 1)}`)
    if (i + 1 < word.length) typos.add(word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2))
  }

  typos.delete(word)
  return [...typos]
}

describe('the closest command to a mistyped word', () => {
  for (const id of IDS) {
    const parts = id.split(':')
    const word = parts.at(-1)!
    it(`${word}: every one-edit typo below ${parts.slice(0, -1).join(' ') || 'the top'} finds ${id}`, () => {
      const parent = parts.slice(0, -1)
      const below = IDS.filter(candidate => candidate.startsWith(parent.length > 0 ? `${parent.join(':')}:` : ''))
      for (const typo of oneEditAway(word)) {
        const found = closestCommand([...parent, typo], below)
        // A typo that is one edit from another command too may find that one, never an unrelated one.
        const fair = below.filter(candidate => oneEditAway(candidate.split(':').at(-1)!).includes(typo) || candidate === id)
        expect(fair, typo).to.include(found)
      }
    })
  }

  it('a word nothing is close to: none', () => {
    for (const word of ['xyzzy', 'deploy', 'secrets', 'q']) expect(closestCommand([word], IDS), word).to.equal(undefined)
  })

  it('a word at the top that names a command further down: that command', () => {
    expect(closestCommand(['whoami'], IDS)).to.equal('cloud:auth:whoami')
    expect(closestCommand(['list'], IDS)).to.equal('cloud:organizations:list')
  })
})
