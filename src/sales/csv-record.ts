const INITIAL_FIELDS = 16

/**
 * One CSV record as offsets into bytes, so that reading it creates no
 * string or array per field. Field `i` is the UTF-8 text
 * `bytes[starts[i], ends[i])`, with quotes already removed and doubled
 * quotes already undone. The parser reuses one record for every call, so
 * a handler must copy what it keeps before it returns.
 */
export class CsvRecord {
  /** The bytes the fields point into: an input chunk or a parser copy. */
  bytes: Buffer = Buffer.alloc(0)
  /** The number of fields. */
  length = 0
  /** The line where the record starts; the first line of input is 1. */
  line = 1
  /** Offset of each field's first byte; only the first `length` count. */
  starts = new Uint32Array(INITIAL_FIELDS)
  /** Offset just past each field's last byte. */
  ends = new Uint32Array(INITIAL_FIELDS)

  /**
   * Returns a record that holds `fields` encoded as UTF-8. A lone
   * surrogate, which no UTF-8 input can contain, becomes U+FFFD.
   */
  static of(fields: readonly string[], line: number): CsvRecord {
    const record = new CsvRecord()
    const parts = fields.map((field) => Buffer.from(field, 'utf8'))
    record.bytes = Buffer.concat(parts)
    record.line = line
    let offset = 0
    for (const part of parts) {
      record.add(offset, offset + part.length)
      offset += part.length
    }
    return record
  }

  /** Appends a field that spans `bytes[start, end)`. */
  add(start: number, end: number): void {
    if (this.length === this.starts.length) this.grow()
    this.starts[this.length] = start
    this.ends[this.length] = end
    this.length++
  }

  /** Doubles the room for field offsets, keeping those already set. */
  grow(): void {
    const starts = new Uint32Array(this.starts.length * 2)
    const ends = new Uint32Array(this.ends.length * 2)
    starts.set(this.starts)
    ends.set(this.ends)
    this.starts = starts
    this.ends = ends
  }

  /** Decodes field `index`, which must be below `length`. */
  text(index: number): string {
    return this.bytes.toString('utf8', this.starts[index], this.ends[index])
  }

  /** Decodes every field. */
  texts(): string[] {
    return Array.from({ length: this.length }, (_, index) => this.text(index))
  }
}
