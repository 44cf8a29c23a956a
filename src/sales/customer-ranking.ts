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
 * Totals the customers of rows `[start, end)` and returns the first
 * `limit` of them in ranking order. Costs O(r + k log k) for r rows and k
 * distinct customers in the range, plus one array of c entries per call.
 */
export function topOfRows(
  table: CustomerTable,
  rows: SalesColumns,
  [start, end]: [number, number],
  limit: number,
): CustomerTotal[] {
  const units = new Float64Array(table.names.length)
  const counts = new Float64Array(table.names.length)
  const seen: number[] = []
  for (let row = start; row < end; row++) {
    const id = rows.customers[row]!
    if (counts[id] === 0) seen.push(id)
    units[id]! += rows.units[row]!
    counts[id]!++
  }

  seen.sort(compareBy(table.names, units))
  return seen.slice(0, limit).map((id) => ({
    customerName: table.names[id]!,
    totalUnits: units[id]!,
    count: counts[id]!,
  }))
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
