/** What a path setting may be: a path, joined to the API host by the URL parser. */
import {expect} from 'chai'

import {checkedPath, PATH_SETTINGS, serviceUrl} from '../../src/api/address.js'
import {resolveSettings, SETTING_NAMES} from '../../src/config/settings.js'

describe('path settings (address)', () => {
  it('PATH_SETTINGS lists every *_path setting', () => {
    expect([...PATH_SETTINGS]).to.deep.equal(SETTING_NAMES.filter(name => name.endsWith('_path')).toSorted())
  })

  const settings = (value: string) => resolveSettings({}, {PIPECAT_API_HOST: 'https://api.example.com/base/', PIPECAT_WHOAMI_PATH: value})
  const hostile = [
    '@evil.example/v1/users',
    '.evil.example/v1/users',
    ':8443/v1/users',
    '//evil.example/v1/users',
    String.raw`/\evil.example/v1/users`,
    String.raw`\\evil.example/v1/users`,
    'https://evil.example/v1/users',
    'v1/users',
    ' /v1/users',
    '/v1/users\n',
    '/v1/\tusers',
    String.raw`/v1\users`,
  ]
  for (const value of hostile) {
    it(`${JSON.stringify(value)} is refused, naming the setting and where it came from`, () => {
      expect(() => checkedPath(settings(value), 'whoami_path')).to.throw(
        `The setting whoami_path (${JSON.stringify(value)}, from the environment variable PIPECAT_WHOAMI_PATH) is not a path starting with a single "/".`,
      )
    })
  }

  it('a plain path is joined to the API host by the URL parser, keeping its path and origin', () => {
    expect(serviceUrl(settings('/v1/users'), 'whoami_path').href).to.equal('https://api.example.com/base/v1/users')
    const daily = serviceUrl(resolveSettings({}, {PIPECAT_API_HOST: 'https://api.example.com'}), 'daily_key_path', {org: '../@evil.example'})
    expect(daily.href).to.equal('https://api.example.com/v1/organizations/..%2F%40evil.example/daily')
  })
})
