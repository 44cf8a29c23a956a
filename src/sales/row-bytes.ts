import {
  MAX_FRACTION_DIGITS,
  MAX_WHOLE_DIGITS,
  UNITS_PER_CURRENCY_UNIT,
} from './row-rules.ts'

/**
 * Shortcuts of the row rules over a field's UTF-8 bytes, for the shapes
 * nearly every row has. Each returns -1 for any other shape, and the
 * caller then decodes the field and applies the full rule from
 * `row-rules.ts`, which accepts everything these accept, with the same
 * value, and explains every rejection.
 */

const DIGIT_0 = 0x30
const DIGIT_9 = 0x39
const DOT = 0x2e
const MINUS = 0x2d
const DATE_BYTES = 10

/**
 * Returns the amount in `bytes[start, end)` in units of 1/10000 when it is
 * 1 to 9 digits with an optional point and 1 to 4 decimals and nothing
 * else, else -1.
 */
export function plainAmountUnits(
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  let whole = 0
  let i = start
  for (; i < end; i++) {
    const code = bytes[i] as number
    if (code < DIGIT_0 || code > DIGIT_9) break
    whole = whole * 10 + (code - DIGIT_0)
  }
  const wholeDigits = i - start
  if (wholeDigits === 0 || wholeDigits > MAX_WHOLE_DIGITS) return -1
  if (i === end) return whole * UNITS_PER_CURRENCY_UNIT
  const fractionDigits = end - i - 1
  if (bytes[i] !== DOT) return -1
  if (fractionDigits === 0 || fractionDigits > MAX_FRACTION_DIGITS) return -1

  let fraction = 0
  for (let k = i + 1; k < i + 1 + MAX_FRACTION_DIGITS; k++) {
    const code = k < end ? bytes[k] as number : DIGIT_0
    if (code < DIGIT_0 || code > DIGIT_9) return -1
    fraction = fraction * 10 + (code - DIGIT_0)
  }
  return whole * UNITS_PER_CURRENCY_UNIT + fraction
}

/**
 * Returns `YYYY-MM-DD` in `bytes[start, end)` as the number YYYYMMDD, a
 * key that names one text exactly, or -1 when the bytes have another
 * shape. The key says nothing about whether the date exists.
 */
export function packedDateKey(
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  if (end - start !== DATE_BYTES) return -1
  if (bytes[start + 4] !== MINUS || bytes[start + 7] !== MINUS) return -1

  let key = 0
  for (let i = start; i < end; i++) {
    if (i === start + 4 || i === start + 7) continue
    const code = bytes[i] as number
    if (code < DIGIT_0 || code > DIGIT_9) return -1
    key = key * 10 + (code - DIGIT_0)
  }
  return key
}
