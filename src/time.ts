/** Times as people read them: a token's expiry as a date and as "in 3 h" / "expired 5 min ago". */

export type Expiry = {
  /** ISO 8601, UTC. */
  at: string;
  expired: boolean;
  relative: string;
}

export function relativeTime(seconds: number): string {
  const magnitude = Math.abs(seconds)
  const units: Array<[number, string]> = [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ]
  const [size, unit] = units.find(([unitSize]) => magnitude >= unitSize) ?? [1, 's']
  const amount = `${Math.floor(magnitude / size)} ${unit}`
  return seconds >= 0 ? `in ${amount}` : `expired ${amount} ago`
}

/** When a token expires (Unix seconds); undefined for a time no date can show (NaN, infinity, beyond the year 275760). */
export function expiryOf(expiresAt: number, now = Date.now() / 1000): Expiry | undefined {
  const date = new Date(expiresAt * 1000)
  if (Number.isNaN(date.getTime())) return undefined
  return {at: date.toISOString(), expired: expiresAt <= now, relative: relativeTime(expiresAt - now)}
}
