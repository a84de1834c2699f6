/**
 * The set-up most test files share, registered inside the caller's describe:
 * one emulator for the block (reset before each test), a temporary config
 * path per test, and after each test any login left running stopped and
 * every config the test used removed.
 */
import {type Emulator, startEmulator, type StartOptions} from '../emulator/server.js'
import {type TempConfig, tempConfig} from './config.js'
import {stopLeftovers} from './login.js'

export type SuiteOptions = StartOptions & {
  /** A fresh empty config path before each test (the default); false: each test sets `suite.config` itself. */
  config?: boolean;
}

export type Suite = {
  /** This test's config; setting it (e.g. to `oauthLogin(...).config`) has that one removed after the test too. */
  config: TempConfig;
  readonly emulator: Emulator;
}

/** Call inside a describe: registers the hooks and returns the emulator and config of the running test. */
export function emulatorSuite(options: SuiteOptions = {}): Suite {
  const {config: isFreshConfig = true, ...start} = options
  let emulator: Emulator | undefined
  let current: TempConfig | undefined
  let used: TempConfig[] = []

  const suite: Suite = {
    get config(): TempConfig {
      if (!current) throw new Error('this test has no config yet: set suite.config first')
      return current
    },
    set config(config: TempConfig) {
      current = config
      used.push(config)
    },
    get emulator(): Emulator {
      if (!emulator) throw new Error('the emulator is not started yet: use suite.emulator inside a hook or test')
      return emulator
    },
  }

  before(async () => {
    emulator = await startEmulator(start)
  })

  after(async () => {
    await emulator?.close()
  })

  beforeEach(async () => {
    suite.emulator.reset()
    if (isFreshConfig) suite.config = await tempConfig()
  })

  afterEach(async () => {
    // A login still running may write to its config: stop it before the folder goes.
    await stopLeftovers()
    const done = used
    used = []
    current = undefined
    await Promise.all(done.map(async config => config.cleanup()))
  })

  return suite
}
