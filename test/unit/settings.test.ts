import {expect} from 'chai'

import {
  resolveSettings,
  SETTING_DEFAULTS,
  SETTING_NAMES,
  settingText,
} from '../../src/config/settings.js'

describe('settings precedence (resolveSettings)', () => {
  const data = {
    acme: {api_host: 'https://org.example.test', default_public_key: 'pk_acme', login_path: '/org/login'},
    org: 'acme',
    other: {default_public_key: 'pk_other'},
    token: 'file-token',
    token_expires_at: 1_700_000_000.5,
  }

  it('the environment wins over the file', () => {
    const settings = resolveSettings(data, {PIPECAT_TOKEN: 'env-token'})
    expect(settings.token).to.deep.equal({env: 'PIPECAT_TOKEN', source: 'environment', value: 'env-token'})
  })

  it('the file\'s top level wins over the organization table and keeps numbers as numbers', () => {
    const settings = resolveSettings(data, {})
    expect(settings.token).to.deep.include({source: 'file', value: 'file-token'})
    expect(settings.token_expires_at).to.deep.include({source: 'file', value: 1_700_000_000.5})
  })

  it('the active organization\'s table wins over the default', () => {
    const settings = resolveSettings(data, {})
    expect(settings.api_host).to.deep.include({source: 'organization', value: 'https://org.example.test'})
    expect(settings.default_public_key).to.deep.include({source: 'organization', value: 'pk_acme'})
  })

  it('the default comes last; a stored setting without one is unset', () => {
    const settings = resolveSettings({}, {})
    for (const [name, value] of Object.entries(SETTING_DEFAULTS)) {
      expect(settings[name as keyof typeof SETTING_DEFAULTS]).to.deep.include({source: 'default', value})
    }

    expect(settings.refresh_token).to.deep.equal({env: 'PIPECAT_REFRESH_TOKEN'})
    expect(settingText(settings, 'refresh_token')).to.equal('')
  })

  it('an empty environment variable does not override', () => {
    expect(resolveSettings(data, {PIPECAT_TOKEN: ''}).token).to.deep.include({source: 'file', value: 'file-token'})
  })

  it('PIPECAT_ORG picks another organization table', () => {
    const settings = resolveSettings(data, {PIPECAT_ORG: 'other'})
    expect(settings.org).to.deep.include({source: 'environment', value: 'other'})
    expect(settings.default_public_key).to.deep.include({source: 'organization', value: 'pk_other'})
    expect(settings.api_host).to.deep.include({source: 'default'})
  })

  it('an active organization without a table falls through to the defaults', () => {
    const settings = resolveSettings({org: 'missing'}, {})
    expect(settings.api_host).to.deep.include({source: 'default', value: 'https://api.pipecat.daily.co'})
  })

  it('every setting names its environment variable', () => {
    const settings = resolveSettings({}, {})
    for (const name of SETTING_NAMES) expect(settings[name].env).to.equal(`PIPECAT_${name.toUpperCase()}`)
  })
})
