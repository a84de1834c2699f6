export {BaseCommand} from './base-command.js'
export {ConfigStore, defaultConfigPath} from './config/file.js'
export {resolveSettings} from './config/settings.js'
export * from './errors.js'
