import type { SalesColumns } from './day-index.ts'
import type { CustomerTotal } from './types.ts'

/**
 * The customer dictionary of a store: each name once, with the total units
 * and number of rows of that customer. Customer id `k` is `names[k]`, and
 * the arrays have exactly one entry per customer.
 */
export interface CustomerTable {
  names: readonly string[]
  units: Float64Array
  counts: Float64Array
}

/**
 * Sorts every customer id by total units, highest first, and breaks ties
 * by name in UTF-16 code unit order (the `<` comparison of strings), so
 * the order is the same on every run. Costs O(c log c) for c customers.
 */
export function rankCustomers(table: CustomerTable): Uint32Array {
  const ids = new Uint32Array(table.names.length)
  for (let id = 0; id < ids.length; id++) ids[id] = id
  return ids.sort(compareBy(table.names, table.units))
}

/** Returns the first `limit` customers of a ranking with their totals. */
export function topOfRanking(
  table: CustomerTable,
  ranking: Uint32Array,
  limit: number,
): CustomerTotal[] {
  const top = ranking.subarray(0, limit)
  return Array.from(top, (id) => ({
    customerName: table.names[id]!,
    totalUnits: table.units[id]!,
    count: table.counts[id]!,
  }))
}

/**
 * Per-customer sums of one range, reused across calls. Every entry is zero
 * between calls, so only the customers a range touches need resetting.
 */
export interface RangeScratch {
  units: Float64Array
  counts: Float64Array
}

/** Creates zeroed scratch sums for every customer of a table. */
export function createScratch(table: CustomerTable): RangeScratch {
  return {
    units: new Float64Array(table.names.length),
    counts: new Float64Array(table.names.length),
  }
}

/**
 * Totals the customers of rows `[start, end)` and returns the first
 * `limit` of them in ranking order, leaving `scratch` zeroed. Costs O(r)
 * for r rows, then O(k log limit) comparisons for the k distinct customers
 * in the range, and each insertion into the top list moves up to `limit`.
 */
export function topOfRows(
  table: CustomerTable,
  rows: SalesColumns,
  [start, end]: [number, number],
  limit: number,
  scratch: RangeScratch,
): CustomerTotal[] {
  const { units, counts } = scratch
  const seen: number[] = []
  for (let row = start; row < end; row++) {
    const id = rows.customers[row]!
    if (counts[id] === 0) seen.push(id)
    units[id]! += rows.units[row]!
    counts[id]!++
  }

  const top = selectTop(seen, limit, compareBy(table.names, units))
  const totals = top.map((id) => ({
    customerName: table.names[id]!,
    totalUnits: units[id]!,
    count: counts[id]!,
  }))
  for (const id of seen) {
    units[id] = 0
    counts[id] = 0
  }
  return totals
}

/**
 * Returns the first `limit` ids in `compare` order, keeping a sorted list
 * of the best so far so that most ids cost one comparison.
 */
function selectTop(
  ids: readonly number[],
  limit: number,
  compare: (a: number, b: number) => number,
): number[] {
  const best: number[] = []
  if (limit <= 0) return best
  for (const id of ids) {
    if (best.length === limit && compare(id, best[limit - 1]!) >= 0) continue

    let low = 0
    let high = best.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (compare(best[middle]!, id) <= 0) low = middle + 1
      else high = middle
    }
    best.splice(low, 0, id)
    if (best.length > limit) best.pop()
  }
  return best
}

function compareBy(
  names: readonly string[],
  units: Float64Array,
): (a: number, b: number) => number {
  return (a, b) => {
    const difference = units[b]! - units[a]!
    if (difference !== 0) return difference
    const nameA = names[a]!
    const nameB = names[b]!
    if (nameA === nameB) return 0
    return nameA < nameB ? -1 : 1
  }
}
