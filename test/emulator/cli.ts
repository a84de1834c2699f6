// `npm run emulator`: start the local Pipecat Cloud emulator for people.
import {parseArgs} from 'node:util'

import {type Emulator, type Knobs, startEmulator} from './server.js'

// a plain array: the template-literal lint rule reads "{org}" as a forgotten interpolation
const CONTROL_HELP = [
  'Control API, for tests and demos (not recorded, never delayed or failed):',
  '  GET  /__emulator/state     {url, issuer, knobs, stats, requests: count}',
  '  GET  /__emulator/requests  {requests: [{at, method, path, query, headers, body}]}',
  '  POST /__emulator/knobs     JSON object merged over the knobs (top level only; unknown names: 400):',
  '    accessTokenTtl S, latencyMs MS, longPollMs MS (earlier flow: hold a pending status poll), tokenFlowCode TEXT',
  '    pathLatencyMs: {KEY: MS} more delay on one route, KEY as for failures (e.g. "POST /oauth/token");',
  '      the request is handled after the wait (a refresh grant is spent even if the client gave up)',
  '    autoApprove, issueRefreshToken, legacyOnly: booleans',
  '    tokenPadding N: access tokens from the token endpoint N characters longer (large JWTs)',
  '    callbackIss: iss on the OAuth redirect ("..." replaces it, null leaves it out)',
  '    discovery: {...} merged over the OpenID discovery document',
  '    organizations: [{name, verboseName}]    user: {userId, emails: [...]}',
  '    failures: {KEY: {kind, status, retryAfter, times}}, KEY one of "/v1/users",',
  '      "GET /v1/users" or a template such as "/v1/organizations/{org}/daily";',
  '      kind: status (the default), bad-json, hang, html, reset, truncated, wrong-shape, echo (what it received);',
  '      status: 500 for kind status, else 200; retryAfter: seconds; times: then stop failing',
  '  POST /__emulator/reset     clear requests and stats; knobs back to the ones it started with',
  '  POST /__emulator/pat       {token}: a new personal access token',
  '  POST /__emulator/tokens    {access_token, refresh_token, expires_in} as after a login; body {"ttl": S} optional',
  '',
  'Refresh tokens rotate: each works once; a spent one coming back revokes its whole family (every',
  '  token descended from the same login), as a real provider does (stats.refreshReuseDetected counts it).',
  '',
  '  e.g. curl -d \'{"failures": {"/v1/users": {"status": 503, "times": 2}}}\' URL/__emulator/knobs',
].join('\n')

const USAGE = `Usage: npm run emulator -- [options]

  --port N          port to listen on (default 0 = a free port; 8300 is a good fixed choice)
  --latency MS      delay every answer by MS milliseconds
  --token-ttl S     OAuth access token lifetime in seconds (default 3600)
  --legacy-only     behave like an earlier-generation server (no OAuth, /auth/config is 404)
  --auto-approve    approve every sign-in without showing a page
  --tls             serve HTTPS (as the official CLI requires): a certificate for 127.0.0.1
                    and localhost is made at start; the exports printed say which file to trust
  --quiet           do not log requests
  --help            show this help

${CONTROL_HELP}`

class UsageError extends Error {}

function numberFlag(flag: string, text: string | undefined, range: {fallback: number; max?: number; min: number}): number {
  if (text === undefined) return range.fallback
  const value = Number(text)
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  if (text.trim() === '' || !Number.isFinite(value) || value < range.min || value > max) {
    throw new UsageError(`--${flag} must be a number from ${range.min} to ${max}, got "${text}"`)
  }

  return value
}

function parseFlags(): {help: boolean; knobs: Partial<Knobs>; port: number; quiet: boolean; tls: boolean} {
  let values
  try {
    ({values} = parseArgs({
      options: {
        'auto-approve': {type: 'boolean'},
        help: {type: 'boolean'},
        latency: {type: 'string'},
        'legacy-only': {type: 'boolean'},
        port: {type: 'string'},
        quiet: {type: 'boolean'},
        tls: {type: 'boolean'},
        'token-ttl': {type: 'string'},
      },
      strict: true,
    }))
  } catch (error) {
    throw new UsageError((error as Error).message)
  }

  return {
    help: values.help ?? false,
    knobs: {
      accessTokenTtl: numberFlag('token-ttl', values['token-ttl'], {fallback: 3600, min: 1}),
      autoApprove: values['auto-approve'] ?? false,
      latencyMs: numberFlag('latency', values.latency, {fallback: 0, min: 0}),
      legacyOnly: values['legacy-only'] ?? false,
    },
    port: numberFlag('port', values.port, {fallback: 0, max: 65_535, min: 0}),
    quiet: values.quiet ?? false,
    tls: values.tls ?? false,
  }
}

function banner(emulator: Emulator): string {
  const {knobs} = emulator
  return `Pipecat Cloud emulator listening on ${emulator.url}
  OAuth issuer: ${emulator.issuer}${knobs.legacyOnly ? ' (disabled: --legacy-only)' : ''}
  client_id:    ${emulator.clientId}
  user:         ${knobs.user.userId} (${knobs.user.emails.join(', ')})
  orgs:         ${knobs.organizations.map(org => org.name).join(', ')}

Point the CLI at it (a separate config file keeps your real credentials safe):
  export PIPECAT_API_HOST=${emulator.url}
  export PIPECAT_DASHBOARD_HOST=${emulator.url}
  export PIPECAT_CONFIG_PATH=/tmp/pipecat-emulator.toml
${trustExports(emulator)}
A personal access token, if you want to skip login:
  export PIPECAT_TOKEN=${emulator.issuePat()}

Control API: ${emulator.url}/__emulator/state  (see --help; Ctrl-C to stop)
`
}

/** With --tls: Node (this plugin) adds the file to its trusted authorities; Python's ssl (aiohttp in the official CLI) trusts only it. */
function trustExports(emulator: Emulator): string {
  if (!emulator.caFile) return ''
  return `  export NODE_EXTRA_CA_CERTS=${emulator.caFile}
  export SSL_CERT_FILE=${emulator.caFile}
`
}

async function main(): Promise<void> {
  const flags = parseFlags()
  if (flags.help) {
    console.log(USAGE)
    return
  }

  const emulator = await startEmulator({
    knobs: flags.knobs,
    log: flags.quiet
      ? undefined
      : line => {
        console.log(`  ${line}`)
      },
    port: flags.port,
    tls: flags.tls,
  })
  console.log(banner(emulator))

  // closing the server empties the event loop, so the process ends by itself
  const stop = (): void => {
    console.log('Stopping the emulator.')
    emulator.close().catch((error: unknown) => {
      console.error(error)
      process.exitCode = 1
    })
  }

  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** Why listening failed, in one line and what to do, for the errors a person can fix; undefined for the rest. */
function listenError(error: unknown): string | undefined {
  const {code, port} = error as {code?: string; port?: number}
  if (code === 'EADDRINUSE') {
    return `Port ${port} on 127.0.0.1 is already in use. Stop what listens there, or choose another --port (0 picks a free one).`
  }

  if (code === 'EACCES') return `Not allowed to listen on port ${port} on 127.0.0.1. Choose a port above 1023, or --port 0 for a free one.`
  return undefined
}

try {
  await main()
} catch (error) {
  const listen = listenError(error)
  if (listen) {
    console.error(listen)
    process.exitCode = 1
  } else if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${USAGE}`)
    process.exitCode = 2
  } else {
    throw error
  }
}
