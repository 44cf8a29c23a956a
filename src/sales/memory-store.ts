import { randomUUID } from 'node:crypto'
import { unprocessable } from '../http/errors.ts'
import {
  createScratch,
  rankCustomers,
  topOfRanking,
  topOfRows,
  type CustomerTable,
  type RangeScratch,
} from './customer-ranking.ts'
import {
  EMPTY_DAY_INDEX,
  spanOf,
  spanRows,
  spanUnits,
  type DayIndex,
  type SalesColumns,
} from './day-index.ts'
import { mergeBatch } from './merge-by-day.ts'
import type {
  AppendResult,
  CustomerTotal,
  DayRange,
  DayTotal,
  SaleRecord,
  SalesBatch,
  SalesStore,
  SalesTotals,
} from './types.ts'

// The id given to a batch name that no row of the batch uses.
const UNUSED = 0xffff_ffff

/** Everything a query reads. `append` and `clear` replace it whole. */
interface Snapshot {
  rows: SalesColumns
  index: DayIndex
  customers: CustomerTable
  totalUnits: number
  /** Customer ids by total, built on the first top-N query after a change. */
  ranking?: Uint32Array
  /** Sums reused by every ranged top-N query, made on the first one. */
  scratch?: RangeScratch
}

function emptySnapshot(): Snapshot {
  return {
    rows: {
      length: 0,
      days: new Int32Array(0),
      units: new Float64Array(0),
      customers: new Uint32Array(0),
    },
    index: EMPTY_DAY_INDEX,
    customers: {
      names: [],
      units: new Float64Array(0),
      counts: new Float64Array(0),
    },
    totalUnits: 0,
  }
}

/**
 * The in-memory sales store. Rows are kept sorted by day in three typed
 * columns (16 bytes a row) with a day index of prefix sums, so a range
 * total is two binary searches and a page is a binary search plus a copy.
 * `append` builds the merged columns, index and customer totals first and
 * then swaps them in with one assignment, so a query reads all of an
 * upload or none of it. An append costs a copy of every stored row, and
 * until it returns the old and the new columns are both in memory.
 */
export class MemorySalesStore implements SalesStore {
  #state = emptySnapshot()
  #customerIds = new Map<string, number>()

  /**
   * Adds a batch, taking ownership of it as `SalesStore.append` describes:
   * columns on resizable buffers of their own are shrunk to nothing while
   * the rows are copied out. Throws 422 `SALES_TOTAL_TOO_LARGE`, leaving
   * the store and the batch as they were, when the grand total would pass
   * `Number.MAX_SAFE_INTEGER` units. Every customer total and day prefix
   * sum is at most the grand total, because units are never negative, so
   * none of them can pass it either. Throws `TypeError` for a malformed
   * batch, also before changing anything.
   */
  async append(batch: SalesBatch): Promise<AppendResult> {
    const used = checkBatch(batch)
    const state = this.#state
    const totalUnits = state.totalUnits + batchUnits(batch)
    if (totalUnits > Number.MAX_SAFE_INTEGER) throw totalTooLarge()
    const rowsInserted = batch.length
    if (rowsInserted === 0) return this.#result(0)

    const { ids, added } = this.#resolveNames(batch.customerNames, used)
    const customers = addCustomers(state.customers, added, batch, ids)
    const merged = mergeBatch(state, batch, ids)

    for (const name of added) {
      this.#customerIds.set(name, this.#customerIds.size)
    }
    this.#state = { ...merged, customers, totalUnits }
    return this.#result(rowsInserted)
  }

  async summary(range: DayRange): Promise<SalesTotals> {
    const { index } = this.#state
    const span = spanOf(index, range)
    const [start, end] = spanRows(index, span)
    return { totalUnits: spanUnits(index, span), count: end - start }
  }

  /**
   * Returns the top customers. Without bounds, or with bounds that cover
   * every row, it reads the ranking of all customers, which the first such
   * call after a change sorts in O(c log c) for c customers, so later calls
   * cost O(limit). Any
   * narrower range totals the rows in it, which costs O(r) for r rows plus
   * O(k log limit) comparisons for k distinct customers.
   */
  async topCustomers(
    limit: number,
    range: DayRange,
  ): Promise<CustomerTotal[]> {
    const state = this.#state
    const span = spanOf(state.index, range)
    const rows = spanRows(state.index, span)
    if (rows[0] > 0 || rows[1] < state.rows.length) {
      state.scratch ??= createScratch(state.customers)
      return topOfRows(state.customers, state.rows, rows, limit, state.scratch)
    }
    state.ranking ??= rankCustomers(state.customers)
    return topOfRanking(state.customers, state.ranking, limit)
  }

  async page(
    range: DayRange,
    offset: number,
    limit: number,
  ): Promise<SaleRecord[]> {
    const { rows, index, customers } = this.#state
    const [start, end] = spanRows(index, spanOf(index, range))
    const first = Math.min(start + offset, end)
    const last = Math.min(first + limit, end)
    const records: SaleRecord[] = []
    for (let row = first; row < last; row++) {
      records.push({
        customerName: customers.names[rows.customers[row]!]!,
        units: rows.units[row]!,
        day: rows.days[row]!,
      })
    }
    return records
  }

  async days(range: DayRange): Promise<DayTotal[]> {
    const { index } = this.#state
    const span = spanOf(index, range)
    const totals: DayTotal[] = []
    for (let position = span.first; position < span.end; position++) {
      totals.push({
        day: index.days[position]!,
        totalUnits: index.unitPrefix[position + 1]! -
          index.unitPrefix[position]!,
        count: index.rowStart[position + 1]! - index.rowStart[position]!,
      })
    }
    return totals
  }

  async clear(): Promise<void> {
    this.#state = emptySnapshot()
    this.#customerIds = new Map()
  }

  #result(rowsInserted: number): AppendResult {
    return {
      uploadId: randomUUID(),
      rowsInserted,
      totalTransactions: this.#state.rows.length,
    }
  }

  /**
   * Maps each used batch name to its store id, giving new names the next
   * free ids in order. The dictionary is left unchanged, because the
   * caller adds `added` to it only once the whole batch is built.
   */
  #resolveNames(
    names: string[],
    used: Uint8Array,
  ): { ids: Uint32Array, added: string[] } {
    const ids = new Uint32Array(names.length).fill(UNUSED)
    const added = new Map<string, number>()
    let nextId = this.#customerIds.size
    for (let k = 0; k < names.length; k++) {
      if (!used[k]) continue
      const name = names[k]!
      let id = this.#customerIds.get(name) ?? added.get(name)
      if (id === undefined) {
        id = nextId++
        added.set(name, id)
      }
      ids[k] = id
    }
    return { ids, added: [...added.keys()].map(ownCopy) }
  }
}

/**
 * Checks the batch shape and returns which of its names rows use. Units
 * must be non-negative integers, the unit of money this store sums.
 */
function checkBatch(batch: SalesBatch): Uint8Array {
  const { length, days, units, customerIndex, customerNames } = batch
  if (!Number.isInteger(length) || length < 0 ||
    days.length < length || units.length < length ||
    customerIndex.length < length) {
    throw new TypeError('SalesBatch length exceeds its columns')
  }

  const used = new Uint8Array(customerNames.length)
  for (let i = 0; i < length; i++) {
    const unitsOfRow = units[i]!
    if (!Number.isSafeInteger(unitsOfRow) || unitsOfRow < 0) {
      throw new TypeError(`SalesBatch row ${i} has invalid units ${unitsOfRow}`)
    }
    const customer = customerIndex[i]!
    if (customer >= customerNames.length) {
      throw new TypeError(`SalesBatch row ${i} has no customer ${customer}`)
    }
    used[customer] = 1
  }
  return used
}

/**
 * Sums the units of a batch, stopping once the sum passes the safe range.
 * The float sum is exact while it stays within that range, and rounding
 * keeps it above the range once the exact sum is above, so the caller's
 * comparison with `MAX_SAFE_INTEGER` is exact.
 */
function batchUnits(batch: SalesBatch): number {
  let sum = 0
  for (let i = 0; i < batch.length; i++) {
    sum += batch.units[i]!
    if (sum > Number.MAX_SAFE_INTEGER) return sum
  }
  return sum
}

/**
 * Copies a string into memory of its own. A name sliced out of a larger
 * string (a CSV chunk, say) can keep all of that string alive in V8, and
 * the store keeps its names for as long as it keeps the rows.
 */
function ownCopy(name: string): string {
  return Buffer.from(name, 'utf8').toString('utf8')
}

/** Returns the table with the batch's new names and rows added. */
function addCustomers(
  table: CustomerTable,
  added: string[],
  batch: SalesBatch,
  ids: Uint32Array,
): CustomerTable {
  const count = table.names.length + added.length
  const units = new Float64Array(count)
  const counts = new Float64Array(count)
  units.set(table.units)
  counts.set(table.counts)
  for (let row = 0; row < batch.length; row++) {
    const id = ids[batch.customerIndex[row]!]!
    units[id]! += batch.units[row]!
    counts[id]!++
  }
  return { names: [...table.names, ...added], units, counts }
}

function totalTooLarge() {
  const max = Number.MAX_SAFE_INTEGER
  return unprocessable('SALES_TOTAL_TOO_LARGE',
    'The upload would make the total of all sales larger than ' +
    `${max / 10_000} (${max} units of 1/10000), the largest total the ` +
    'store sums exactly; nothing was stored')
}
