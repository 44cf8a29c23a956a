import { parseIsoDay } from '../sales/calendar.ts'
import type { DayRange } from '../sales/types.ts'
import { unprocessable } from './errors.ts'

// Digits only: no sign, exponent, fraction, hex prefix or spaces.
const DIGITS = /^\d+$/
const MAX_SHOWN = 64

export interface IntegerOptions {
  default: number
  min: number
  max: number
}

/**
 * Returns the value of a query parameter given at most once, or
 * `undefined` when it is absent. Throws 422 `QUERY_PARAM_REPEATED` when it
 * is given more than once, instead of silently picking one of the values.
 */
export function singleParam(
  params: URLSearchParams,
  name: string,
): string | undefined {
  const values = params.getAll(name)
  if (values.length > 1) {
    throw unprocessable('QUERY_PARAM_REPEATED',
      `Query parameter ${name} is given ${values.length} times; ` +
      'give it at most once', {
        errors: [{ field: name, message: 'must be given at most once' }],
      })
  }
  return values[0]
}

/**
 * Parses a decimal integer parameter in `[min, max]`, or returns the
 * default when it is absent. Throws 422 `QUERY_PARAM_INVALID` naming it.
 */
export function integerParam(
  params: URLSearchParams,
  name: string,
  options: IntegerOptions,
): number {
  const text = singleParam(params, name)
  if (text === undefined) return options.default

  const value = DIGITS.test(text) ? Number(text) : Number.NaN
  if (!(value >= options.min && value <= options.max)) {
    throw invalidParam(name, text,
      `must be an integer from ${options.min} to ${options.max}`)
  }
  return value
}

/**
 * Parses a `YYYY-MM-DD` parameter into a day number, or returns
 * `undefined` when it is absent. Throws 422 `QUERY_PARAM_INVALID` for a
 * value that is not a real calendar date in that form, empty included.
 */
export function dayParam(
  params: URLSearchParams,
  name: string,
): number | undefined {
  const text = singleParam(params, name)
  if (text === undefined) return undefined

  const day = parseIsoDay(text)
  if (day === undefined) {
    throw invalidParam(name, text, 'must be a real calendar date YYYY-MM-DD')
  }
  return day
}

/**
 * Parses the inclusive `from` and `to` dates, either of which may be
 * absent. Throws 422 `QUERY_RANGE_INVALID` when `from` is after `to`.
 */
export function dayRangeParams(params: URLSearchParams): DayRange {
  const from = dayParam(params, 'from')
  const to = dayParam(params, 'to')
  if (from !== undefined && to !== undefined && from > to) {
    throw unprocessable('QUERY_RANGE_INVALID',
      `from ${params.get('from')} is after to ${params.get('to')}`, {
        errors: [{ field: 'from', message: 'must not be after to' }],
      })
  }
  return { from, to }
}

/**
 * Returns a parameter that must be one of `choices`, or `undefined` when
 * it is absent. Throws 422 `QUERY_PARAM_INVALID` for any other value.
 */
export function choiceParam<T extends string>(
  params: URLSearchParams,
  name: string,
  choices: readonly T[],
): T | undefined {
  const text = singleParam(params, name)
  if (text === undefined) return undefined

  const choice = choices.find((candidate) => candidate === text)
  if (choice === undefined) {
    throw invalidParam(name, text, `must be one of: ${choices.join(', ')}`)
  }
  return choice
}

function invalidParam(name: string, value: string, rule: string) {
  // The value is echoed for the caller, cut short so a huge one stays out.
  const echoed = value.length > MAX_SHOWN
    ? `${value.slice(0, MAX_SHOWN)}...`
    : value
  return unprocessable('QUERY_PARAM_INVALID',
    `Query parameter ${name} is invalid: ${rule}`, {
      errors: [{ field: name, value: echoed, message: rule }],
    })
}
