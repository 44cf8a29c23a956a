import type { SalesColumns } from './day-index.ts'
import type { SalesBatch } from './types.ts'

// A counting sort needs one counter per day between the earliest and the
// latest day. Past this many counters per row (or the floor below) a
// comparison sort of row numbers is used, so a small batch spread over
// centuries does not allocate millions of counters.
const COUNTERS_PER_ROW = 4
const MIN_COUNTERS = 65_536

/**
 * Copies the rows of a batch into new exact-size columns sorted by day,
 * keeping the batch order within a day. `customerIds[k]` is the store id
 * of the batch's customer `k`.
 */
export function sortByDay(
  batch: SalesBatch,
  customerIds: Uint32Array,
): SalesColumns {
  const order = dayOrder(batch.days, batch.length)
  const length = batch.length
  const rows: SalesColumns = {
    length,
    days: new Int32Array(length),
    units: new Float64Array(length),
    customers: new Uint32Array(length),
  }
  for (let i = 0; i < length; i++) {
    const source = order[i]!
    rows.days[i] = batch.days[source]!
    rows.units[i] = batch.units[source]!
    rows.customers[i] = customerIds[batch.customerIndex[source]!]!
  }
  return rows
}

/** Returns the row numbers `0..length-1` in stable day order. */
function dayOrder(days: Int32Array, length: number): Uint32Array {
  if (length === 0) return new Uint32Array(0)

  let min = days[0]!
  let max = days[0]!
  for (let i = 1; i < length; i++) {
    const day = days[i]!
    if (day < min) min = day
    if (day > max) max = day
  }
  const span = max - min + 1
  if (span > Math.max(MIN_COUNTERS, length * COUNTERS_PER_ROW)) {
    return comparisonOrder(days, length)
  }
  return countingOrder(days, length, min, span)
}

function countingOrder(
  days: Int32Array,
  length: number,
  min: number,
  span: number,
): Uint32Array {
  const next = new Uint32Array(span + 1)
  for (let i = 0; i < length; i++) next[days[i]! - min + 1]!++
  for (let k = 1; k <= span; k++) next[k]! += next[k - 1]!

  const order = new Uint32Array(length)
  for (let i = 0; i < length; i++) order[next[days[i]! - min]!++] = i
  return order
}

function comparisonOrder(days: Int32Array, length: number): Uint32Array {
  const order = new Uint32Array(length)
  for (let i = 0; i < length; i++) order[i] = i
  return order.sort((a, b) => days[a]! - days[b]! || a - b)
}
