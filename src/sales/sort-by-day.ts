import { lowerBound } from './day-index.ts'

// A counting sort needs one counter per day between the earliest and the
// latest day. Past one counter per row (or the floor below) the buckets
// are the distinct days of the batch instead, so a small batch spread over
// centuries does not allocate millions of counters.
const MIN_COUNTERS = 65_536
// Rows moved between two shrinks of a source column's resizable buffer.
const RELEASE_ROWS = 65_536

type Column = Int32Array | Float64Array | Uint32Array

interface MaybeResizable {
  resizable?: boolean
  resize?(byteLength: number): void
}

/**
 * The rows of a batch counted per day for a counting sort. Row `i` is in
 * bucket `days[i] - offset`, and bucket `k` has `counts[k]` rows.
 */
export interface DayBuckets {
  counts: Uint32Array
  offset: number
  /** The day of each bucket when buckets are sparse; else `offset + k`. */
  sparseDays?: Int32Array
}

/** A counting sort of a batch's rows into blocks of a larger target. */
export interface DayPlacement {
  /** The batch's day column, which `buckets` maps to bucket numbers. */
  days: Int32Array
  length: number
  buckets: DayBuckets
  /** One past the last target row of each bucket's block. */
  ends: Uint32Array
  /** Shrink each resizable source column as its rows move out. */
  release: boolean
}

/**
 * Counts the rows of each day in `days[0..length)`. When the days are too
 * spread out for one counter per day, it also overwrites each entry of
 * `days` with the rank of its day among the distinct days, so the caller
 * must own the column.
 */
export function bucketDays(days: Int32Array, length: number): DayBuckets {
  if (length === 0) return { counts: new Uint32Array(0), offset: 0 }

  let min = days[0]!
  let max = days[0]!
  for (let i = 1; i < length; i++) {
    const day = days[i]!
    if (day < min) min = day
    if (day > max) max = day
  }
  const span = max - min + 1
  if (span > Math.max(MIN_COUNTERS, length)) return rankDays(days, length)
  return { counts: countRows(days, length, min, span), offset: min }
}

/** Returns the day of bucket `k`. */
export function dayOfBucket(buckets: DayBuckets, k: number): number {
  return buckets.sparseDays ? buckets.sparseDays[k]! : buckets.offset + k
}

/**
 * Moves `source[0..length)` into its buckets' blocks of `target`, storing
 * `ids[value]` in place of each value when `ids` is given. The walk starts
 * at the last row and fills each block from its end, which keeps the
 * batch order within a day. It also lets a resizable source buffer shrink
 * behind the walk, so source and target together stay near the size of
 * one column. `ends` holds the same values again when the move returns.
 */
export function moveByDay(
  placement: DayPlacement,
  source: Float64Array | Uint32Array,
  target: Float64Array | Uint32Array,
  ids?: Uint32Array,
): void {
  const { days, ends, buckets: { counts, offset } } = placement
  const release = placement.release && isResizable(source)
  const from = release ? trackingView(source) : source
  const byteOffset = source.byteOffset

  for (let end = placement.length; end > 0;) {
    const start = Math.max(0, end - RELEASE_ROWS)
    for (let row = end - 1; row >= start; row--) {
      const value = from[row]!
      const at = --ends[days[row]! - offset]!
      target[at] = ids === undefined ? value : ids[value]!
    }
    if (release) resizeBuffer(from, byteOffset + start * from.BYTES_PER_ELEMENT)
    end = start
  }
  for (let k = 0; k < counts.length; k++) ends[k]! += counts[k]!
}

/** Writes the day of each bucket over its block of `target`. */
export function fillDays(placement: DayPlacement, target: Int32Array): void {
  const { buckets, ends } = placement
  const { counts } = buckets
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] === 0) continue
    target.fill(dayOfBucket(buckets, k), ends[k]! - counts[k]!, ends[k]!)
  }
}

/**
 * Gives the memory of a column on a resizable buffer back to the system by
 * shrinking the buffer to the column's start. Leaves a fixed buffer alone.
 */
export function releaseColumn(column: Column): void {
  if (isResizable(column)) resizeBuffer(column, column.byteOffset)
}

function countRows(
  days: Int32Array,
  length: number,
  offset: number,
  buckets: number,
): Uint32Array {
  const counts = new Uint32Array(buckets)
  for (let i = 0; i < length; i++) counts[days[i]! - offset]!++
  return counts
}

// NOTE: costs a binary search per row, a sorted copy of the days and three
// arrays per distinct day: up to 16 bytes a row beside the columns while
// the append runs, so an upload with days over centuries peaks higher.
function rankDays(days: Int32Array, length: number): DayBuckets {
  const sorted = days.slice(0, length).sort()
  let distinct = 0
  for (let i = 0; i < length; i++) {
    if (distinct === 0 || sorted[i] !== sorted[distinct - 1]) {
      sorted[distinct++] = sorted[i]!
    }
  }
  const sparseDays = sorted.slice(0, distinct)
  for (let i = 0; i < length; i++) days[i] = lowerBound(sparseDays, days[i]!)
  return {
    counts: countRows(days, length, 0, distinct),
    offset: 0,
    sparseDays,
  }
}

function isResizable(column: Column): boolean {
  return (column.buffer as MaybeResizable).resizable === true
}

// A view without a length follows its resizable buffer's size, so it stays
// readable below the cut when the caller's own view has a fixed length.
function trackingView<T extends Float64Array | Uint32Array>(column: T): T {
  const View = column.constructor as new (
    buffer: ArrayBufferLike,
    byteOffset: number,
  ) => T
  return new View(column.buffer, column.byteOffset)
}

function resizeBuffer(column: Column, byteLength: number): void {
  (column.buffer as MaybeResizable).resize?.(byteLength)
}
