import { unprocessable } from '../http/errors.ts'
import { parseIsoDay } from './calendar.ts'

/** The CSV columns an upload needs. */
export const SALES_COLUMNS = ['customer_name', 'amount', 'date'] as const

export type SalesColumn = (typeof SALES_COLUMNS)[number]

/** Index in the record of each needed column. */
export type ColumnMap = Record<SalesColumn, number>

/**
 * The reason a field value was rejected. Each reason is one shared
 * instance, so rejecting a value allocates nothing.
 */
export class Rejection {
  readonly message: string

  constructor(message: string) {
    this.message = message
  }
}

export const MAX_NAME_LENGTH = 200
/**
 * Bytes of the shortest valid row: a one-character name, a one-digit
 * amount, a ten-character date, two commas and a line break.
 */
export const MIN_ROW_BYTES = 15
/** Units of money per currency unit: amounts keep 4 decimal places. */
export const UNITS_PER_CURRENCY_UNIT = 10_000
/** Decimal places an amount may have. */
export const MAX_FRACTION_DIGITS = 4
/** Amounts must be below 1e9, so the whole part has at most 9 digits. */
export const MAX_WHOLE_DIGITS = 9

const NAME_EMPTY = new Rejection('customer_name is empty')
const NAME_TOO_LONG = new Rejection(
  `customer_name is longer than ${MAX_NAME_LENGTH} characters`)
const AMOUNT_EMPTY = new Rejection('amount is empty')
const AMOUNT_NEGATIVE = new Rejection('amount must not be negative')
const AMOUNT_TOO_PRECISE = new Rejection(
  `amount has more than ${MAX_FRACTION_DIGITS} decimal places`)
const AMOUNT_TOO_LARGE = new Rejection('amount must be below 1000000000')
const AMOUNT_NOT_DECIMAL = new Rejection('amount must be a plain decimal ' +
  'such as 250.75, without signs, exponents, currency symbols or ' +
  'thousands separators')
const DATE_EMPTY = new Rejection('date is empty')
const DATE_INVALID = new Rejection(
  'date must be a real calendar date written YYYY-MM-DD')

const DIGIT_0 = 0x30
const DIGIT_9 = 0x39
const MINUS = 0x2d

/**
 * Maps header names to record indexes: names are trimmed and compared
 * without case, and other columns are ignored. Throws 422 naming every
 * needed column that is missing or given twice.
 */
export function mapHeader(fields: string[]): ColumnMap {
  // Only the sales columns are tracked, so a header that repeats an extra
  // column many times still maps in linear time.
  const first = new Map<string, number>()
  const repeatedSet = new Set<string>()
  fields.forEach((field, index) => {
    const name = field.trim().toLowerCase()
    if (!(SALES_COLUMNS as readonly string[]).includes(name)) return
    if (first.has(name)) repeatedSet.add(name)
    else first.set(name, index)
  })

  const missing = SALES_COLUMNS.filter((column) => !first.has(column))
  const repeated = SALES_COLUMNS.filter((column) => repeatedSet.has(column))
  if (missing.length > 0 || repeated.length > 0) {
    throw headerError(missing, repeated)
  }

  return {
    customer_name: first.get('customer_name')!,
    amount: first.get('amount')!,
    date: first.get('date')!,
  }
}

function headerError(missing: string[], repeated: string[]): Error {
  const errors = [
    ...missing.map((column) => ({
      line: 1,
      column,
      message: `column ${column} is missing from the header`,
    })),
    ...repeated.map((column) => ({
      line: 1,
      column,
      message: `column ${column} appears more than once in the header`,
    })),
  ]
  const parts = [
    missing.length > 0 ? `missing columns: ${missing.join(', ')}` : '',
    repeated.length > 0 ? `repeated columns: ${repeated.join(', ')}` : '',
  ].filter((part) => part !== '')
  return unprocessable('CSV_HEADER_INVALID',
    `The header must name the columns ${SALES_COLUMNS.join(', ')} ` +
    `(${parts.join('; ')})`, { errors })
}

/**
 * Trims and NFC-normalises a customer name and checks that it has 1 to 200
 * characters (code points).
 */
export function normalizeCustomerName(text: string): string | Rejection {
  const name = text.trim().normalize('NFC')
  if (name === '') return NAME_EMPTY
  if (name.length > MAX_NAME_LENGTH && codePointCount(name) > MAX_NAME_LENGTH) {
    return NAME_TOO_LONG
  }
  return name
}

function codePointCount(text: string): number {
  let count = 0
  for (const _ of text) count++
  return count
}

/**
 * Parses a plain decimal such as `250.75` into integer units of 1/10000
 * without a floating-point step, so `1.005` is exactly 10050. Surrounding
 * spaces are ignored. Rejects signs, exponents, symbols, separators, more
 * than 4 decimal places and values of 1e9 or more.
 */
export function parseAmountUnits(text: string): number | Rejection {
  const value = text.trim()
  if (value === '') return AMOUNT_EMPTY
  if (value.charCodeAt(0) === MINUS) {
    return isPlainDecimal(value.slice(1)) ? AMOUNT_NEGATIVE : AMOUNT_NOT_DECIMAL
  }

  const dot = value.indexOf('.')
  const whole = dot < 0 ? value : value.slice(0, dot)
  const fraction = dot < 0 ? '' : value.slice(dot + 1)
  if (!isDigits(whole) || (dot >= 0 && !isDigits(fraction))) {
    return AMOUNT_NOT_DECIMAL
  }
  if (fraction.length > MAX_FRACTION_DIGITS) return AMOUNT_TOO_PRECISE
  if (significantLength(whole) > MAX_WHOLE_DIGITS) return AMOUNT_TOO_LARGE

  return digitsValue(whole) * UNITS_PER_CURRENCY_UNIT +
    digitsValue(fraction.padEnd(MAX_FRACTION_DIGITS, '0'))
}

function isPlainDecimal(text: string): boolean {
  const dot = text.indexOf('.')
  if (dot < 0) return isDigits(text)
  return isDigits(text.slice(0, dot)) && isDigits(text.slice(dot + 1))
}

function isDigits(text: string): boolean {
  if (text === '') return false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < DIGIT_0 || code > DIGIT_9) return false
  }
  return true
}

// Counts the digits after any leading zeros, so `000000000012` counts 2.
function significantLength(digits: string): number {
  let start = 0
  while (start < digits.length - 1 && digits.charCodeAt(start) === DIGIT_0) {
    start++
  }
  return digits.length - start
}

// Exact in a double because callers pass at most 9 significant digits.
function digitsValue(digits: string): number {
  let value = 0
  for (let i = 0; i < digits.length; i++) {
    value = value * 10 + (digits.charCodeAt(i) - DIGIT_0)
  }
  return value
}

/**
 * Parses a `YYYY-MM-DD` date (surrounding spaces ignored) into days since
 * 1970-01-01, rejecting days the calendar lacks such as 2024-02-30.
 */
export function parseSaleDay(text: string): number | Rejection {
  const value = text.trim()
  if (value === '') return DATE_EMPTY
  return parseIsoDay(value) ?? DATE_INVALID
}
