// `npm run emulator`: start the local Pipecat Cloud emulator for people.
import {parseArgs} from 'node:util'

import {startEmulator} from './server.js'

const USAGE = `Usage: npm run emulator -- [options]

  --port N          port to listen on (default 0 = a free port; 8300 is a good fixed choice)
  --latency MS      delay every answer by MS milliseconds
  --token-ttl S     OAuth access token lifetime in seconds (default 3600)
  --legacy-only     behave like an earlier-generation server (no OAuth, /auth/config is 404)
  --auto-approve    approve every sign-in without showing a page
  --quiet           do not log requests
  --help            show this help`

function number(flag: string, text: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    console.error(`--${flag} must be a number from ${min} to ${max}, got "${text}"\n\n${USAGE}`)
    process.exit(2)
  }

  return value
}

async function main(): Promise<void> {
  let values
  try {
    ;({values} = parseArgs({
      options: {
        'auto-approve': {type: 'boolean'},
        help: {type: 'boolean'},
        latency: {type: 'string'},
        'legacy-only': {type: 'boolean'},
        port: {type: 'string'},
        quiet: {type: 'boolean'},
        'token-ttl': {type: 'string'},
      },
      strict: true,
    }))
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }

  if (values.help) {
    console.log(USAGE)
    return
  }

  const emulator = await startEmulator({
    knobs: {
      accessTokenTtl: number('token-ttl', values['token-ttl'], 3600, 1),
      autoApprove: values['auto-approve'] ?? false,
      latencyMs: number('latency', values.latency, 0, 0),
      legacyOnly: values['legacy-only'] ?? false,
    },
    log: values.quiet ? undefined : (line) => { console.log(`  ${line}`); },
    port: number('port', values.port, 0, 0, 65_535),
  })

  console.log(`Pipecat Cloud emulator listening on ${emulator.url}
  OAuth issuer: ${emulator.issuer}${emulator.knobs.legacyOnly ? ' (disabled: --legacy-only)' : ''}
  client_id:    ${emulator.clientId}
  user:         ${emulator.knobs.user.userId} (${emulator.knobs.user.emails.join(', ')})
  orgs:         ${emulator.knobs.organizations.map((org) => org.name).join(', ')}

Point the CLI at it (a separate config file keeps your real credentials safe):
  export PIPECAT_API_HOST=${emulator.url}
  export PIPECAT_DASHBOARD_HOST=${emulator.url}
  export PIPECAT_CONFIG_PATH=/tmp/pipecat-emulator.toml

A personal access token, if you want to skip login:
  export PIPECAT_TOKEN=${emulator.issuePat()}

Control API: ${emulator.url}/__emulator/state  (Ctrl-C to stop)
`)

  const stop = async () => {
    await emulator.close()
    process.exit(0)
  }

  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

await main()
