/** The parsed config document as plain data, below every module that reads or edits it. */

/** The whole TOML document. */
export type ConfigData = Record<string, unknown>

/** A TOML table (not an array, not a date). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}
