import { unprocessable } from '../http/errors.ts'
import { detachString } from './csv-parser.ts'
import {
  mapHeader,
  normalizeCustomerName,
  packedDateKey,
  parseAmountUnits,
  parseSaleDay,
  Rejection,
  SALES_COLUMNS,
  type ColumnMap,
  type SalesColumn,
} from './row-rules.ts'
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

const INITIAL_CAPACITY = 4096
// Past this capacity the columns grow by this many rows at a time instead
// of doubling, so little committed capacity stays unused. The store
// shrinks these buffers once it has copied the rows, and in Node 20.20
// (V8 11.3) a shrink zeroes the bytes it cuts, which first brings unused
// pages into memory.
const GROWTH_ROWS = 1 << 16
const DEFAULT_MAX_ROWS = 1 << 24
// V8 reserves at most 4 GiB for one resizable buffer: 2^29 doubles.
const MAX_RESERVED_ROWS = 1 << 29
const MAX_LISTED_VALUE = 256
// The date cache is cleared when it passes this size, so a file with many
// distinct dates costs at most this many entries.
const MAX_CACHED_DATES = 4096

/**
 * Turns parsed records into a `SalesBatch`: the first record is the header,
 * each later one a sale. Rows are checked with the row rules and staged in
 * growable typed arrays, and each distinct customer name is stored once.
 */
export class BatchBuilder {
  readonly #maxErrors: number
  readonly #keepValidRows: boolean
  #columns: ColumnMap | undefined

  readonly #staging: StagingColumns

  // Customer index (or rejection) by the name's text as written, and by
  // the trimmed NFC name, so each distinct name is checked only once.
  readonly #rawNames = new Map<string, number | Rejection>()
  readonly #names = new Map<string, number>()
  readonly #customerNames: string[] = []
  // Day (or rejection) by the date's digits as the number YYYYMMDD.
  readonly #dates = new Map<number, number | Rejection>()

  #rowsSkipped = 0
  #errorCount = 0
  readonly #errors: RowError[] = []

  constructor(options: BatchBuilderOptions = {}) {
    this.#maxErrors = options.maxErrors ?? 100
    this.#keepValidRows = options.keepValidRows ?? true
    this.#staging = new StagingColumns(options.maxRows ?? DEFAULT_MAX_ROWS)
  }

  /** Takes the next record; throws 422 when the header is unusable. */
  addRecord(fields: string[], line: number): void {
    const columns = this.#columns
    if (!columns) {
      this.#columns = mapHeader(fields)
      return
    }
    // A line of only spaces counts as blank, like an empty one.
    if (fields.length === 1 && (fields[0] as string).trim() === '') return

    const customer = this.#customer(fields, columns.customer_name, line)
    const units = this.#amount(fields, columns.amount, line)
    const day = this.#day(fields, columns.date, line)
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

  #customer(fields: string[], index: number, line: number): number {
    const text = fields[index]
    if (text === undefined) return this.#missing(fields, index, line)

    let known = this.#rawNames.get(text)
    if (known === undefined) {
      known = this.#internName(text)
      this.#rawNames.set(detachString(text), known)
    }
    if (typeof known === 'number') return known
    return this.#reject(line, index, text, known)
  }

  #internName(text: string): number | Rejection {
    const name = normalizeCustomerName(text)
    if (name instanceof Rejection) return name

    const known = this.#names.get(name)
    if (known !== undefined) return known

    const kept = detachString(name)
    const index = this.#customerNames.length
    this.#customerNames.push(kept)
    this.#names.set(kept, index)
    return index
  }

  #amount(fields: string[], index: number, line: number): number {
    const text = fields[index]
    if (text === undefined) return this.#missing(fields, index, line)

    const units = parseAmountUnits(text)
    if (typeof units === 'number') return units
    return this.#reject(line, index, text, units)
  }

  #day(fields: string[], index: number, line: number): number | undefined {
    const text = fields[index]
    if (text === undefined) {
      this.#missing(fields, index, line)
      return undefined
    }

    const key = packedDateKey(text)
    let day = key < 0 ? parseSaleDay(text) : this.#dates.get(key)
    if (day === undefined) {
      day = parseSaleDay(text)
      if (this.#dates.size >= MAX_CACHED_DATES) this.#dates.clear()
      this.#dates.set(key, day)
    }
    if (day instanceof Rejection) {
      this.#reject(line, index, text, day)
      return undefined
    }
    return day
  }

  #missing(fields: string[], index: number, line: number): -1 {
    const column = this.#columnAt(index)
    const reason = new Rejection(
      `${column} is missing because the row has only ${fields.length} fields`)
    return this.#reject(line, index, '', reason)
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

interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void
}

// The ES2024 constructor form, which the ES2023 typings lack.
const Resizable = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableArrayBuffer

/**
 * The staged columns, on resizable buffers that reserve address space for
 * `maxRows` rows. Growing within the reservation commits memory in place,
 * so staging costs 16 bytes a row plus untouched capacity that takes no
 * RAM, and no copy. Past the reservation the columns move to a larger one.
 */
class StagingColumns {
  length = 0
  // Typed arrays made without a length track their buffer's size, so
  // `days.length` is the capacity.
  days = new Int32Array(0)
  units = new Float64Array(0)
  customerIndex = new Uint32Array(0)
  #buffers: ResizableArrayBuffer[] = []
  #reservedRows = 0

  constructor(maxRows: number) {
    this.#reserve(Math.min(Math.max(maxRows, INITIAL_CAPACITY),
      MAX_RESERVED_ROWS))
  }

  add(customer: number, units: number, day: number): void {
    if (this.length === this.days.length) this.#grow()
    const row = this.length++
    this.days[row] = day
    this.units[row] = units
    this.customerIndex[row] = customer
  }

  #grow(): void {
    const capacity = this.days.length
    if (capacity === this.#reservedRows) {
      if (capacity === MAX_RESERVED_ROWS) {
        throw new RangeError(
          `A batch cannot hold more than ${MAX_RESERVED_ROWS} rows`)
      }
      this.#reserve(Math.min(capacity * 2, MAX_RESERVED_ROWS))
    }

    const step = Math.min(Math.max(INITIAL_CAPACITY, capacity), GROWTH_ROWS)
    const next = Math.min(capacity + step, this.#reservedRows)
    const [days, units, customers] = this.#buffers
    days?.resize(next * Int32Array.BYTES_PER_ELEMENT)
    units?.resize(next * Float64Array.BYTES_PER_ELEMENT)
    customers?.resize(next * Uint32Array.BYTES_PER_ELEMENT)
  }

  // Moves the columns to new buffers that reserve room for `rows` rows.
  #reserve(rows: number): void {
    const capacity = this.days.length
    const buffer = (bytesPerRow: number) => new Resizable(
      capacity * bytesPerRow, { maxByteLength: rows * bytesPerRow })
    const days = buffer(Int32Array.BYTES_PER_ELEMENT)
    const units = buffer(Float64Array.BYTES_PER_ELEMENT)
    const customers = buffer(Uint32Array.BYTES_PER_ELEMENT)

    this.days = copied(this.days, new Int32Array(days))
    this.units = copied(this.units, new Float64Array(units))
    this.customerIndex = copied(this.customerIndex, new Uint32Array(customers))
    this.#buffers = [days, units, customers]
    this.#reservedRows = rows
  }
}

function copied<T extends Int32Array | Float64Array | Uint32Array>(
  from: T,
  to: T,
): T {
  to.set(from)
  return to
}
