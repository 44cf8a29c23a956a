const INITIAL_CAPACITY = 4096
// Past this capacity the columns grow by this many rows at a time instead
// of doubling, so little committed capacity stays unused. The store
// shrinks these buffers once it has copied the rows, and in Node 20.20
// (V8 11.3) a shrink zeroes the bytes it cuts, which first brings unused
// pages into memory.
const GROWTH_ROWS = 1 << 16
// V8 reserves at most 4 GiB for one resizable buffer: 2^29 doubles.
const MAX_RESERVED_ROWS = 1 << 29

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
export class StagingColumns {
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

  /** Appends one row. */
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
