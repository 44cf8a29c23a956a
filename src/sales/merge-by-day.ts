import {
  allocateDayIndex,
  mergeDayIndexes,
  type DayIndex,
  type SalesColumns,
} from './day-index.ts'
import {
  bucketDays,
  dayOfBucket,
  fillDays,
  moveByDay,
  releaseColumn,
  type DayBuckets,
  type DayPlacement,
} from './sort-by-day.ts'
import type { SalesBatch } from './types.ts'

/** Day-sorted rows together with their day index. */
export interface IndexedRows {
  rows: SalesColumns
  index: DayIndex
}

/**
 * Builds the rows of `older` followed by the rows of `batch`, in new
 * exact-size columns sorted by day, and their day index. Within a day the
 * rows of `older` come first, then the batch's rows in batch order.
 * `ids[k]` is the store id of the batch's customer `k`.
 *
 * Takes ownership of the batch. When each column is on a resizable buffer
 * of its own, the buffers shrink to nothing as the rows move out, so the
 * batch and the new columns together take little more memory than the new
 * columns. Days spread over centuries are overwritten with bucket numbers.
 * Costs one copy of `older`, a counting sort of the batch, and for the
 * index one pass over the batch's units plus time per distinct day.
 */
export function mergeBatch(
  older: IndexedRows,
  batch: SalesBatch,
  ids: Uint32Array,
): IndexedRows {
  const length = older.rows.length + batch.length
  const buckets = bucketDays(batch.days, batch.length)
  const rows: SalesColumns = {
    length,
    days: new Int32Array(length),
    units: new Float64Array(length),
    customers: new Uint32Array(length),
  }
  const placement: DayPlacement = {
    days: batch.days,
    length: batch.length,
    buckets,
    ends: layOut(older, buckets, rows),
    release: ownsBuffers(batch),
  }

  moveByDay(placement, batch.units, rows.units)
  moveByDay(placement, batch.customerIndex, rows.customers, ids)
  if (placement.release) releaseColumn(batch.days)
  fillDays(placement, rows.days)
  const index = mergeDayIndexes(older.index, batchIndex(placement, rows))
  return { rows, index }
}

/**
 * Copies the rows of `older` into `target`, leaving a gap for each
 * nonempty bucket after the older rows of its day, and returns the end of
 * each gap. Older rows between two gaps move in one copy per column.
 */
function layOut(
  older: IndexedRows,
  buckets: DayBuckets,
  target: SalesColumns,
): Uint32Array {
  const { counts } = buckets
  const { days, rowStart } = older.index
  const ends = new Uint32Array(counts.length)
  let position = 0
  let copied = 0
  let row = 0
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] === 0) continue
    const day = dayOfBucket(buckets, k)
    while (position < days.length && days[position]! <= day) position++

    const olderEnd = rowStart[position]!
    row = copyRows(older.rows, copied, olderEnd, target, row)
    copied = olderEnd
    row += counts[k]!
    ends[k] = row
  }
  copyRows(older.rows, copied, older.rows.length, target, row)
  return ends
}

/**
 * Builds the index of the batch's rows alone from their blocks in `rows`:
 * row counts and units before each of the batch's days.
 */
function batchIndex(placement: DayPlacement, rows: SalesColumns): DayIndex {
  const { buckets, ends } = placement
  const { counts } = buckets
  let dayCount = 0
  for (let k = 0; k < counts.length; k++) if (counts[k]! > 0) dayCount++

  const index = allocateDayIndex(dayCount)
  let position = 0
  let sum = 0
  let count = 0
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] === 0) continue
    index.days[position] = dayOfBucket(buckets, k)
    index.unitPrefix[position] = sum
    index.rowStart[position] = count
    for (let row = ends[k]! - counts[k]!; row < ends[k]!; row++) {
      sum += rows.units[row]!
    }
    count += counts[k]!
    position++
  }
  index.unitPrefix[dayCount] = sum
  index.rowStart[dayCount] = count
  return index
}

/** Copies rows `[start, end)` to `target` at `at`; returns the end. */
function copyRows(
  source: SalesColumns,
  start: number,
  end: number,
  target: SalesColumns,
  at: number,
): number {
  if (start === end) return at
  target.days.set(source.days.subarray(start, end), at)
  target.units.set(source.units.subarray(start, end), at)
  target.customers.set(source.customers.subarray(start, end), at)
  return at + (end - start)
}

// The batch's buffers may be shrunk only when no two columns share one.
function ownsBuffers(batch: SalesBatch): boolean {
  const { days, units, customerIndex } = batch
  return days.buffer !== units.buffer &&
    days.buffer !== customerIndex.buffer &&
    units.buffer !== customerIndex.buffer
}
