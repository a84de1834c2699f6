/** Loading the config once per command: the file (validated, permissions repaired) and the settings resolved from it and the environment. */
import {type ConfigSnapshot, ConfigStore} from './file.js'
import {resolveSettings, type Settings} from './settings.js'

export type LoadedConfig = {
  settings: Settings;
  snapshot: ConfigSnapshot;
  store: ConfigStore;
}

export type LoadOptions = {
  env: NodeJS.ProcessEnv;
  path: string;
  /** Aborts waits for the lock. */
  signal?: AbortSignal;
  warn: (message: string) => void;
}

export async function loadConfig({env, path, signal, warn}: LoadOptions): Promise<LoadedConfig> {
  const store = new ConfigStore(path, {signal, warn})
  const snapshot = await store.read()
  if (snapshot.tokenUnusable) warn(snapshot.tokenUnusable)
  return {settings: resolveSettings(snapshot.data, env), snapshot, store}
}
