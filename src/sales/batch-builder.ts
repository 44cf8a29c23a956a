import { unprocessable } from '../http/errors.ts'
import { ABSENT, ByteKeyTable } from './byte-key-table.ts'
import { CsvRecord } from './csv-record.ts'
import { DayCache, UNCACHED } from './day-cache.ts'
import { packedDateKey, plainAmountUnits } from './row-bytes.ts'
import {
  mapHeader,
  normalizeCustomerName,
  parseAmountUnits,
  parseSaleDay,
  Rejection,
  SALES_COLUMNS,
  type ColumnMap,
  type SalesColumn,
} from './row-rules.ts'
import { StagingColumns } from './staging-columns.ts'
import type { SalesBatch } from './types.ts'

/** One rejected field: the record's first line, the column and the text. */
export interface RowError {
  line: number
  column: SalesColumn
  value: string
  message: string
}

/** The validated rows of an upload and what was wrong with the others. */
export interface StagedUpload {
  batch: SalesBatch
  rowsSkipped: number
  /** The first `maxErrors` errors, in file order. */
  errors: RowError[]
  /** Every error found, listed or not. */
  errorCount: number
}

export interface BatchBuilderOptions {
  /** How many errors to list; the rest are only counted. */
  maxErrors?: number
  /**
   * Keep staging valid rows after an invalid one. Off when the upload will
   * be rejected as a whole anyway, which saves the memory.
   */
  keepValidRows?: boolean
  /**
   * The most rows the input can have, for which address space is reserved
   * up front. More rows still work, at the cost of one copy.
   */
  maxRows?: number
}

const DEFAULT_MAX_ROWS = 1 << 24
const MAX_LISTED_VALUE = 256

/**
 * Turns parsed records into a `SalesBatch`: the first record is the header,
 * each later one a sale. Rows are checked with the row rules and staged in
 * growable typed arrays, and each distinct customer name is stored once.
 *
 * Fields are read as bytes: a name already seen, an amount of the usual
 * shape and a date already seen cost no string. Anything else is decoded
 * and checked by the full rules.
 */
export class BatchBuilder {
  // Keeps the maps of the builder, its tables and its columns alive, for
  // the reason given at `CsvParser`.
  static readonly #idle = new BatchBuilder({ maxRows: 1 })

  readonly #maxErrors: number
  readonly #keepValidRows: boolean
  #columns: ColumnMap | undefined
  // Record indexes of the needed columns, once the header is read.
  #nameAt = 0
  #amountAt = 0
  #dateAt = 0

  readonly #staging: StagingColumns

  // Customer index by the name's bytes as written, or -1 - k for the k-th
  // entry of `#nameRejections`, so each spelling is checked only once.
  readonly #rawNames = new ByteKeyTable()
  readonly #nameRejections: Rejection[] = []
  // Customer index by the trimmed NFC name.
  readonly #names = new Map<string, number>()
  readonly #customerNames: string[] = []
  // Day by the date's digits as the number YYYYMMDD.
  readonly #dates = new DayCache()

  #rowsSkipped = 0
  #errorCount = 0
  readonly #errors: RowError[] = []

  constructor(options: BatchBuilderOptions = {}) {
    this.#maxErrors = options.maxErrors ?? 100
    this.#keepValidRows = options.keepValidRows ?? true
    this.#staging = new StagingColumns(options.maxRows ?? DEFAULT_MAX_ROWS)
  }

  /**
   * Takes the next record given as strings, as `addCsvRecord` does. The
   * fields are encoded as UTF-8 first, so a lone surrogate, which no
   * parsed CSV contains, becomes U+FFFD.
   */
  addRecord(fields: string[], line: number): void {
    this.addCsvRecord(CsvRecord.of(fields, line))
  }

  /** Takes the next record; throws 422 when the header is unusable. */
  addCsvRecord(record: CsvRecord): void {
    if (!this.#columns) {
      this.#readHeader(record)
      return
    }
    // A line of only spaces counts as blank, like an empty one.
    if (record.length === 1 && record.text(0).trim() === '') return

    const customer = this.#customer(record)
    const units = this.#amount(record)
    const day = this.#day(record)
    if (customer < 0 || units < 0 || day === undefined) {
      this.#rowsSkipped++
      return
    }
    if (this.#errorCount > 0 && !this.#keepValidRows) return

    this.#staging.add(customer, units, day)
  }

  /** Returns the staged batch; throws 422 when the input had no header. */
  finish(): StagedUpload {
    if (!this.#columns) {
      throw unprocessable('CSV_HEADER_MISSING',
        'The file is empty. Its first line must be a header naming the ' +
        `columns ${SALES_COLUMNS.join(', ')}`,
        { errors: [{ line: 1, message: 'the header line is missing' }] })
    }
    return {
      batch: {
        length: this.#staging.length,
        days: this.#staging.days,
        units: this.#staging.units,
        customerIndex: this.#staging.customerIndex,
        customerNames: this.#customerNames,
      },
      rowsSkipped: this.#rowsSkipped,
      errors: this.#errors,
      errorCount: this.#errorCount,
    }
  }

  #readHeader(record: CsvRecord): void {
    const columns = mapHeader(record.texts())
    this.#columns = columns
    this.#nameAt = columns.customer_name
    this.#amountAt = columns.amount
    this.#dateAt = columns.date
  }

  #customer(record: CsvRecord): number {
    const index = this.#nameAt
    if (index >= record.length) return this.#missing(record, index)

    const { bytes } = record
    const start = record.starts[index] as number
    const end = record.ends[index] as number
    let known = this.#rawNames.get(bytes, start, end)
    if (known === ABSENT) {
      known = this.#internName(record.text(index))
      this.#rawNames.add(bytes, start, end, known)
    }
    if (known >= 0) return known

    const reason = this.#nameRejections[-1 - known] as Rejection
    return this.#reject(record.line, index, record.text(index), reason)
  }

  // Returns the customer index of a name not seen in this spelling yet,
  // or the code of its rejection.
  #internName(text: string): number {
    const name = normalizeCustomerName(text)
    if (name instanceof Rejection) {
      let code = this.#nameRejections.indexOf(name)
      if (code < 0) code = this.#nameRejections.push(name) - 1
      return -1 - code
    }

    const known = this.#names.get(name)
    if (known !== undefined) return known

    const index = this.#customerNames.length
    this.#customerNames.push(name)
    this.#names.set(name, index)
    return index
  }

  #amount(record: CsvRecord): number {
    const index = this.#amountAt
    if (index >= record.length) return this.#missing(record, index)

    const start = record.starts[index] as number
    const end = record.ends[index] as number
    const plain = plainAmountUnits(record.bytes, start, end)
    if (plain >= 0) return plain

    const text = record.text(index)
    const units = parseAmountUnits(text)
    if (typeof units === 'number') return units
    return this.#reject(record.line, index, text, units)
  }

  #day(record: CsvRecord): number | undefined {
    const index = this.#dateAt
    if (index >= record.length) {
      this.#missing(record, index)
      return undefined
    }

    const start = record.starts[index] as number
    const end = record.ends[index] as number
    const key = packedDateKey(record.bytes, start, end)
    if (key >= 0) {
      const cached = this.#dates.get(key)
      if (cached !== UNCACHED) return cached
    }

    const text = record.text(index)
    const day = parseSaleDay(text)
    if (day instanceof Rejection) {
      this.#reject(record.line, index, text, day)
      return undefined
    }
    if (key >= 0) this.#dates.set(key, day)
    return day
  }

  #missing(record: CsvRecord, index: number): -1 {
    const column = this.#columnAt(index)
    const reason = new Rejection(
      `${column} is missing because the row has only ${record.length} fields`)
    return this.#reject(record.line, index, '', reason)
  }

  #reject(line: number, index: number, text: string, reason: Rejection): -1 {
    this.#errorCount++
    if (this.#errors.length < this.#maxErrors) {
      this.#errors.push({
        line,
        column: this.#columnAt(index),
        value: text.length > MAX_LISTED_VALUE
          ? `${text.slice(0, MAX_LISTED_VALUE)}…`
          : text,
        message: reason.message,
      })
    }
    return -1
  }

  #columnAt(index: number): SalesColumn {
    const columns = this.#columns as ColumnMap
    return SALES_COLUMNS.find((column) => columns[column] === index) as SalesColumn
  }
}
