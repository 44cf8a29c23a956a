import type { DayIndex, SalesColumns } from './day-index.ts'

/** Day-sorted rows together with their day index. */
export interface IndexedRows {
  rows: SalesColumns
  index: DayIndex
}

/**
 * Merges two day-sorted row sets into new exact-size columns and builds
 * the merged day index in the same pass. Within a day the rows of `older`
 * come first, so the order of earlier uploads is kept. Costs one copy of
 * both row sets plus time proportional to their distinct days.
 */
export function mergeByDay(
  older: IndexedRows,
  newer: IndexedRows,
): IndexedRows {
  const length = older.rows.length + newer.rows.length
  const rows: SalesColumns = {
    length,
    days: new Int32Array(length),
    units: new Float64Array(length),
    customers: new Uint32Array(length),
  }
  const dayCount = countDistinctDays(older.index.days, newer.index.days)
  const index: DayIndex = {
    days: new Int32Array(dayCount),
    unitPrefix: new Float64Array(dayCount + 1),
    rowStart: new Float64Array(dayCount + 1),
  }

  const a = older.index.days
  const b = newer.index.days
  let i = 0
  let j = 0
  let row = 0
  let sum = 0
  for (let position = 0; position < dayCount; position++) {
    const day = Math.min(a[i] ?? Infinity, b[j] ?? Infinity)
    index.days[position] = day
    index.unitPrefix[position] = sum
    index.rowStart[position] = row
    if (a[i] === day) {
      row = copyDay(older, i, rows, row)
      sum += dayUnits(older.index, i)
      i++
    }
    if (b[j] === day) {
      row = copyDay(newer, j, rows, row)
      sum += dayUnits(newer.index, j)
      j++
    }
  }
  index.unitPrefix[dayCount] = sum
  index.rowStart[dayCount] = row
  return { rows, index }
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

function dayUnits(index: DayIndex, position: number): number {
  return index.unitPrefix[position + 1]! - index.unitPrefix[position]!
}

/** Copies the rows of one day position to `target` at `at`; returns the end. */
function copyDay(
  source: IndexedRows,
  position: number,
  target: SalesColumns,
  at: number,
): number {
  const start = source.index.rowStart[position]!
  const end = source.index.rowStart[position + 1]!
  target.days.set(source.rows.days.subarray(start, end), at)
  target.units.set(source.rows.units.subarray(start, end), at)
  target.customers.set(source.rows.customers.subarray(start, end), at)
  return at + (end - start)
}
