/**
 * Shared shapes of the sales area. Money is in integer units of 1/10000 of
 * the currency unit; a day is the number of days since 1970-01-01 (UTC).
 */

/** An inclusive range of day numbers; an undefined bound is open. */
export interface DayRange {
  from?: number
  to?: number
}

/**
 * Validated rows of one upload in columnar form, ready to be appended.
 * Row `i` is `customerNames[customerIndex[i]]`, `units[i]`, `days[i]`.
 * The arrays may be longer than `length`; only the first `length` count.
 * Each column may be on a resizable `ArrayBuffer` of its own, which lets
 * `SalesStore.append` free it while copying the rows out.
 */
export interface SalesBatch {
  length: number
  days: Int32Array
  units: Float64Array
  customerIndex: Uint32Array
  /** Distinct, trimmed, NFC names of this batch. */
  customerNames: string[]
}

export interface AppendResult {
  uploadId: string
  rowsInserted: number
  totalTransactions: number
}

export interface SalesTotals {
  totalUnits: number
  count: number
}

export interface CustomerTotal extends SalesTotals {
  customerName: string
}

export interface DayTotal extends SalesTotals {
  day: number
}

export interface SaleRecord {
  customerName: string
  units: number
  day: number
}

/**
 * Storage and queries of sales. `append` applies a whole batch in one step
 * or nothing, so no reader sees part of an upload.
 */
export interface SalesStore {
  /**
   * Adds every row of the batch in one step. The store takes ownership of
   * the batch, so the caller must not read or reuse it afterwards: the
   * in-memory store shrinks resizable column buffers to nothing and may
   * overwrite `days`. A batch that is rejected for its values (422 or
   * `TypeError`) is left unchanged, and so is the store.
   */
  append(batch: SalesBatch): Promise<AppendResult>
  summary(range: DayRange): Promise<SalesTotals>
  /** Highest total first, ties by name. */
  topCustomers(limit: number, range: DayRange): Promise<CustomerTotal[]>
  /** Rows sorted by day, skipping `offset` and returning at most `limit`. */
  page(range: DayRange, offset: number, limit: number): Promise<SaleRecord[]>
  /** One entry per day that has sales, in day order. */
  days(range: DayRange): Promise<DayTotal[]>
  clear(): Promise<void>
}
