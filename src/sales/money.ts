/**
 * Conversions of money from integer units of 1/10000 to the JSON numbers
 * of the API, rounded half-up to cents in integer arithmetic so that no
 * binary fraction decides a rounding (`1.005` becomes 1.01).
 */

const UNITS_PER_CENT = 100

/**
 * Converts non-negative integer units (at most `Number.MAX_SAFE_INTEGER`)
 * to an amount rounded half-up to 2 decimals. The result is the double
 * nearest to that decimal, which `JSON.stringify` writes with at most two
 * fraction digits because it has at most 15 significant digits.
 */
export function unitsToAmount(units: number): number {
  return unitsToCents(units) / 100
}

/**
 * Returns `totalUnits / count` as an amount rounded half-up to 2 decimals,
 * or 0 when `count` is 0. Computed with BigInt because `50 * count` added
 * to the total can pass the safe integer range.
 */
export function averageAmount(totalUnits: number, count: number): number {
  if (count === 0) return 0

  const total = BigInt(totalUnits)
  const rows = BigInt(count)
  const perCent = BigInt(UNITS_PER_CENT)
  // floor(total / (100 * rows) + 1/2) without leaving the integers.
  const cents = (total + (perCent / 2n) * rows) / (perCent * rows)
  return Number(cents) / 100
}

function unitsToCents(units: number): number {
  // Both operations are exact for safe integers: `%` always is, and the
  // quotient of a multiple of 100 by 100 is an integer below 2^53.
  const remainder = units % UNITS_PER_CENT
  const cents = (units - remainder) / UNITS_PER_CENT
  return remainder >= UNITS_PER_CENT / 2 ? cents + 1 : cents
}
