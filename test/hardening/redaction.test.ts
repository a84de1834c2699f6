/**
 * `cloud config` shows no secret, found by key name (any spelling of a secret
 * word, at any depth), by value shape (known token prefixes anywhere in a
 * value, a password in a URL, a secret query parameter), and shows at most a
 * known prefix of it. A property test over generated files, through the
 * command, human and --json; then the examples from the report.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {writeFile} from 'node:fs/promises'
import {stringify} from 'smol-toml'

import {tempConfig, type TempConfig} from '../support/config.js'
import {runCommand} from '../support/in-process.js'

const alphanumeric = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
/** The secret part: what must never be shown, not even in part. */
const body = fc.string({maxLength: 40, minLength: 16, unit: alphanumeric})
const prefix = fc.constantFrom('pcc_pat_', 'sk_live_', 'ghp_', 'eyJ', 'whsec_')
const secretWord = fc.constantFrom('token', 'secret', 'password', 'passwd', 'passphrase', 'pwd', 'bearer', 'jwt', 'sig', 'signature', 'credentials', 'auth', 'cookie', 'session', 'api_key', 'private')
const plainWord = fc.constantFrom('my', 'client', 'webhook', 'db', 'the', 'x')
const separator = fc.constantFrom('_', '-', '.', '')
/** A key naming a secret, spelt as people do: client_secret, client-secret, clientSecret, DB_PASSWORD. */
const secretKey = fc.tuple(plainWord, separator, secretWord, fc.boolean()).map(([word, sep, secret, isUpper]) => {
  const key = sep === '' ? `${word}${secret[0]!.toUpperCase()}${secret.slice(1)}` : `${word}${sep}${secret}`
  return isUpper && sep !== '' ? key.toUpperCase() : key
})
const innocentKey = fc.constantFrom('note', 'description', 'url', 'endpoint', 'comment', 'webhook')
const secretParameter = fc.constantFrom('token', 'access_token', 'key', 'api_key', 'sig', 'signature', 'code', 'password', 'X-Amz-Signature')
const words = fc.string({maxLength: 12, unit: fc.constantFrom(...'abc xyz-:/')})

type Sample = {key: string; secret: string; value: unknown}

const samples: fc.Arbitrary<Sample> = fc.oneof(
  // By key name: any value under a secret key, with underscores or a known prefix or neither.
  fc.tuple(secretKey, fc.constantFrom('', 'correct_horse_', 'pcc_pat_', 'x_y_'), body).map(([key, lead, secret]) => ({key, secret, value: lead + secret})),
  // By shape: a known token inside any text, under an innocent key.
  fc.tuple(innocentKey, prefix, body, words, words).map(([key, lead, secret, before, after]) => ({key, secret, value: `${before} ${lead}${secret} ${after}`})),
  // A password in a URL.
  fc.tuple(innocentKey, body, fc.constantFrom('https', 'http', 'postgres', 'redis')).map(([key, secret, scheme]) => ({key, secret, value: `${scheme}://user:${secret}@db.example.com:5432/x`})),
  // A secret query parameter.
  fc.tuple(innocentKey, secretParameter, body).map(([key, name, secret]) => ({key, secret, value: `https://hooks.example.com/in?x=1&${name}=${secret}&y=2`})),
  // Nested in a list or a table.
  fc.tuple(secretKey, body).map(([key, secret]) => ({key: 'nested', secret, value: {inner: [{[key]: secret}]}})),
)

/** The output shows none of the secret: not whole, not any 8 characters of it. */
function expectHidden(output: string, secret: string): void {
  for (let at = 0; at + 8 <= secret.length; at++) expect(output).not.to.contain(secret.slice(at, at + 8))
}

describe('cloud config hides secrets by name and by shape', function () {
  this.timeout(120_000)
  let config: TempConfig

  before(async () => {
    config = await tempConfig('')
  })

  after(async () => {
    await config.cleanup()
  })

  const show = async (data: Record<string, unknown>) => {
    await writeFile(config.file, stringify(data), {mode: 0o600})
    const human = await runCommand(['cloud', 'config', '--all'], {env: config.env})
    const json = await runCommand(['cloud', 'config', '--json'], {env: config.env})
    expect(human.code, human.stderr).to.equal(0)
    expect(json.code, json.stderr).to.equal(0)
    return {human: human.stdout + human.stderr, json: json.stdout + json.stderr}
  }

  it('property: no generated secret is shown, whatever its key, its shape or its depth', async () => {
    await fc.assert(fc.asyncProperty(samples, async ({key, secret, value}) => {
      const {human, json} = await show({acme: {[key]: value}, org: 'acme'})
      expectHidden(human, secret)
      expectHidden(json, secret)
    }), {numRuns: 150, seed: 17})
  })

  it('the examples of the report', async () => {
    const secret = 'S05battery'
    const {human, json} = await show({
      acme: {
        api_host: `http://user:pw${secret}@127.0.0.1:9`,
        bearer: `b${secret}`,
        jwt: `j${secret}`,
        note: `pcc_pat_${secret}`,
        passphrase: `p${secret}`,
        pwd: `w${secret}`,
        secret_value: `correct_horse_${secret}`,
        sig: `s${secret}`,
        webhook: `https://hooks.example.com/x?token=t${secret}`,
      },
      org: 'acme',
    })
    for (const output of [human, json]) expect(output).not.to.contain(secret)
    const report = JSON.parse(json) as {organizations: {acme: Record<string, string>}; settings: {api_host: {value: string}}}
    expect(report.settings.api_host.value).to.equal('http://****@127.0.0.1:9')
    expect(report.organizations.acme).to.deep.include({note: 'pcc_pat_****', secret_value: '****', webhook: 'https://hooks.example.com/x?token=****'})
  })
})
