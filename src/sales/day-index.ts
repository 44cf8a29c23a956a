import type { DayRange } from './types.ts'

/**
 * Rows sorted by day in columnar form. Row `i` is `customers[i]` (an id in
 * the customer dictionary), `units[i]` and `days[i]`. The arrays have
 * exactly `length` entries.
 */
export interface SalesColumns {
  length: number
  days: Int32Array
  units: Float64Array
  customers: Uint32Array
}

/**
 * The distinct days of day-sorted rows with prefix sums. For day position
 * `i`, `rowStart[i]` is the number of rows before `days[i]`, which is also
 * the first row of that day, and `unitPrefix[i]` is the units of those
 * rows. Both prefix arrays have one more entry than `days`, so the units of
 * positions `[a, b)` are `unitPrefix[b] - unitPrefix[a]`.
 */
export interface DayIndex {
  days: Int32Array
  unitPrefix: Float64Array
  rowStart: Float64Array
}

/** Day positions `[first, end)` of an index that fall in a range. */
export interface DaySpan {
  first: number
  end: number
}

/** Allocates a zeroed index with room for `dayCount` distinct days. */
export function allocateDayIndex(dayCount: number): DayIndex {
  return {
    days: new Int32Array(dayCount),
    unitPrefix: new Float64Array(dayCount + 1),
    rowStart: new Float64Array(dayCount + 1),
  }
}

export const EMPTY_DAY_INDEX: DayIndex = allocateDayIndex(0)

/** Builds the index of day-sorted rows in two passes over them. */
export function buildDayIndex(rows: SalesColumns): DayIndex {
  const { days, units, length } = rows
  let distinct = 0
  for (let row = 0; row < length; row++) {
    if (row === 0 || days[row] !== days[row - 1]) distinct++
  }

  const index = allocateDayIndex(distinct)
  let position = -1
  let sum = 0
  for (let row = 0; row < length; row++) {
    if (row === 0 || days[row] !== days[row - 1]) {
      position++
      index.days[position] = days[row]!
      index.unitPrefix[position] = sum
      index.rowStart[position] = row
    }
    sum += units[row]!
  }
  index.unitPrefix[distinct] = sum
  index.rowStart[distinct] = length
  return index
}

/**
 * Merges the indexes of two row sets that are laid out together day by
 * day, each day's rows of `a` followed by those of `b`. Costs time
 * proportional to their distinct days.
 */
export function mergeDayIndexes(a: DayIndex, b: DayIndex): DayIndex {
  const dayCount = countDistinctDays(a.days, b.days)
  const index = allocateDayIndex(dayCount)
  let i = 0
  let j = 0
  for (let position = 0; position < dayCount; position++) {
    const day = Math.min(a.days[i] ?? Infinity, b.days[j] ?? Infinity)
    index.days[position] = day
    index.unitPrefix[position] = a.unitPrefix[i]! + b.unitPrefix[j]!
    index.rowStart[position] = a.rowStart[i]! + b.rowStart[j]!
    if (a.days[i] === day) i++
    if (b.days[j] === day) j++
  }
  index.unitPrefix[dayCount] = a.unitPrefix[i]! + b.unitPrefix[j]!
  index.rowStart[dayCount] = a.rowStart[i]! + b.rowStart[j]!
  return index
}

/**
 * Finds the day positions inside an inclusive range with two binary
 * searches. An empty or inverted range gives `first === end`.
 */
export function spanOf(index: DayIndex, range: DayRange): DaySpan {
  const first = range.from === undefined
    ? 0
    : lowerBound(index.days, range.from)
  const end = range.to === undefined
    ? index.days.length
    : lowerBound(index.days, range.to + 1)
  return { first, end: Math.max(first, end) }
}

/** Returns the units of the rows in a span. */
export function spanUnits(index: DayIndex, span: DaySpan): number {
  return index.unitPrefix[span.end]! - index.unitPrefix[span.first]!
}

/** Returns the row numbers `[start, end)` covered by a span. */
export function spanRows(index: DayIndex, span: DaySpan): [number, number] {
  return [index.rowStart[span.first]!, index.rowStart[span.end]!]
}

function countDistinctDays(a: Int32Array, b: Int32Array): number {
  let i = 0
  let j = 0
  let count = 0
  while (i < a.length && j < b.length) {
    const x = a[i]!
    const y = b[j]!
    if (x <= y) i++
    if (y <= x) j++
    count++
  }
  return count + (a.length - i) + (b.length - j)
}

/** Returns the first position of `sorted` whose value is at least `value`. */
export function lowerBound(sorted: Int32Array, value: number): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (sorted[middle]! < value) low = middle + 1
    else high = middle
  }
  return low
}
