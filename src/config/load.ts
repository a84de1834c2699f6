/**
 * Loading the config once per command: the file (validated, permissions
 * repaired) and the settings resolved from it and the environment.
 */
import type {ConfigSnapshot, ConfigStore} from './file.js'

import {resolveSettings, type Settings} from './settings.js'

export type LoadedConfig = {
  settings: Settings;
  snapshot: ConfigSnapshot;
  store: ConfigStore;
}

export async function loadConfig(store: ConfigStore, env: NodeJS.ProcessEnv, warn: (message: string) => void): Promise<LoadedConfig> {
  const snapshot = await store.read()
  if (snapshot.tokenUnusable) warn(snapshot.tokenUnusable)
  return {settings: resolveSettings(snapshot.data, env), snapshot, store}
}
