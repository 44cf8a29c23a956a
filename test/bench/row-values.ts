import { createHash, type Hash } from 'node:crypto'

/**
 * The typed values every parser of the CSV benchmark must produce per row
 * (name, amount in units of 1/10000, day number), the converters the peer
 * parsers use to get them from strings, and the sinks that fold rows into
 * a checksum.
 */

/** Receives the typed values of one row. */
export interface RowSink {
  add(name: string, units: number, day: number): void
}

/** Row count, sums and a mixed hash; equal for equal row sequences. */
export interface Checksum {
  rows: number
  unitsSum: number
  daySum: number
  hash: number
}

/**
 * Folds rows into a `Checksum` in constant time per row: the units and
 * days are summed and the name's length and first and last code units are
 * mixed into a 32-bit hash with the row's values, in row order.
 */
export class ChecksumSink implements RowSink {
  rows = 0
  unitsSum = 0
  daySum = 0
  hash = 0x811c9dc5

  add(name: string, units: number, day: number): void {
    this.rows++
    this.unitsSum += units
    this.daySum += day
    let hash = Math.imul(this.hash ^ name.length, 0x01000193)
    hash = Math.imul(hash ^ name.charCodeAt(0), 0x01000193)
    hash = Math.imul(hash ^ name.charCodeAt(name.length - 1), 0x01000193)
    hash = Math.imul(hash ^ (units | 0), 0x01000193)
    this.hash = Math.imul(hash ^ day, 0x01000193)
  }

  result(): Checksum {
    return {
      rows: this.rows,
      unitsSum: this.unitsSum,
      daySum: this.daySum,
      hash: this.hash >>> 0,
    }
  }
}

/** Hashes every value of every row with SHA-256; slow, for verification. */
export class DigestSink implements RowSink {
  readonly #hash: Hash = createHash('sha256')
  rows = 0

  add(name: string, units: number, day: number): void {
    this.rows++
    this.#hash.update(`${name}\t${units}\t${day}\n`)
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}

/** Formats a checksum for the report, e.g. `1000000 rows, 3fa2c1d0`. */
export function formatChecksum(checksum: Checksum): string {
  const hash = checksum.hash.toString(16).padStart(8, '0')
  return `${checksum.rows} rows, ${hash}`
}

/** Returns whether two checksums are equal in every field. */
export function sameChecksum(a: Checksum, b: Checksum): boolean {
  return a.rows === b.rows && a.unitsSum === b.unitsSum &&
    a.daySum === b.daySum && a.hash === b.hash
}

const DOT = 46
const ZERO = 48
const MAX_WHOLE = 1e9
const FRACTION_SCALE = [10_000, 1000, 100, 10, 1]

/**
 * Converts a plain decimal such as `250.75` to integer units of 1/10000,
 * or returns -1 when the text is not digits with an optional dot and 1-4
 * fraction digits, or is 1e9 or more. Written for the peer parsers, which
 * yield strings; it accepts the same amounts as the product's rules.
 */
export function amountUnits(text: string): number {
  const length = text.length
  let whole = 0
  let index = 0
  for (; index < length; index++) {
    const code = text.charCodeAt(index)
    if (code === DOT) break
    const digit = code - ZERO
    if (digit < 0 || digit > 9) return -1
    whole = whole * 10 + digit
  }
  if (index === 0 || whole >= MAX_WHOLE) return -1
  if (index === length) return whole * 10_000

  const fractionDigits = length - index - 1
  if (fractionDigits < 1 || fractionDigits > 4) return -1
  let fraction = 0
  for (index++; index < length; index++) {
    const digit = text.charCodeAt(index) - ZERO
    if (digit < 0 || digit > 9) return -1
    fraction = fraction * 10 + digit
  }
  return whole * 10_000 + fraction * (FRACTION_SCALE[fractionDigits] as number)
}

/**
 * Converts `YYYY-MM-DD` to days since 1970-01-01, or returns NaN for any
 * other form or a day the Gregorian calendar lacks. Arithmetic only, so
 * the peers do not pay for a regular expression or a `Date` per row.
 */
export function dayNumber(text: string): number {
  if (text.length !== 10) return NaN
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return NaN
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 7)
  const day = digits(text, 8, 10)
  if (month < 1 || month > 12 || day < 1) return NaN
  if (day > daysInMonth(year, month)) return NaN
  return daysFromCivil(year, month, day)
}

function digits(text: string, start: number, end: number): number {
  let value = 0
  for (let index = start; index < end; index++) {
    const digit = text.charCodeAt(index) - ZERO
    if (digit < 0 || digit > 9) return NaN
    value = value * 10 + digit
  }
  return value
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 ||
    month === 11 ? 30 : 31
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return leap ? 29 : 28
}

// Days from the civil date by counting 400-year eras of 146,097 days from
// 0000-03-01, so that the leap day falls at the end of each counted year.
function daysFromCivil(year: number, month: number, day: number): number {
  const shiftedYear = month <= 2 ? year - 1 : year
  const era = Math.floor(shiftedYear / 400)
  const yearOfEra = shiftedYear - era * 400
  const shiftedMonth = month > 2 ? month - 3 : month + 9
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}
