/**
 * Writing the config file the way its owner wrote it: a command's change is
 * applied to the file's own text, key by key, so comments, order, blank lines,
 * number formats and inline tables outside the changed keys stay as they were.
 *
 * The editor is @decimalturn/toml-patch (pure JavaScript, no dependencies,
 * 224 kB). Measured against @shopify/toml-patch (toml_edit as WebAssembly,
 * 284 kB) and @rainbowatcher/toml-edit-js (toml_edit as WebAssembly, 360 kB)
 * on the property corpus in test/hardening/config-fuzz.test.ts: it is the one
 * that keeps a changed value's trailing comment and can write an integral
 * float as `1767225600.0` (Shopify's writes `1767225600`, which Python reads
 * as an int, and drops the comment); rainbowatcher's refuses top-level keys
 * ("path key is empty") and compiles its WebAssembly for 120-460 ms. It is
 * loaded only when writing: `cloud config` and --help never pay for it.
 */
import type {ConfigData} from './document.js'

/** Changed top-level keys: set to a value, or removed (undefined). */
export type TopLevelEdits = Map<string, unknown>

/** The top-level keys whose values differ between two documents (untouched values keep their identity). */
export function topLevelEdits(before: ConfigData, after: ConfigData): TopLevelEdits {
  const edits: TopLevelEdits = new Map()
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) edits.set(key, undefined)
  for (const [key, value] of Object.entries(after)) if (!Object.hasOwn(before, key) || !Object.is(before[key], value)) edits.set(key, value)
  return edits
}

/**
 * Applies the edits to the text. `token_expires_at` is written as a float, as
 * the official CLI writes it (`1767225600.0`, never `1767225600`), except 0,
 * which means "does not expire" and stays an integer.
 */
export async function applyEdits(text: string, edits: TopLevelEdits): Promise<string> {
  const {TomlDocument} = await import('@decimalturn/toml-patch')
  const document = new TomlDocument(text)
  const {token_expires_at: expiry, ...others} = Object.fromEntries(edits)
  const step = (changes: Record<string, unknown>, minimumDecimals: number) => {
    const next = document.toJsObject as ConfigData
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete next[key]
      else next[key] = value
    }

    document.patch(next, {minimumDecimals})
  }

  if (Object.keys(others).length > 0) step(others, 0)
  // Alone, so that other numbers a change writes keep their own form.
  if (edits.has('token_expires_at')) step({token_expires_at: expiry}, typeof expiry === 'number' && expiry !== 0 ? 1 : 0)
  return document.toTomlString
}
