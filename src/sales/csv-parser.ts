import { unprocessable } from '../http/errors.ts'
import { CsvRecord } from './csv-record.ts'
import { scanUtf8 } from './utf8.ts'

/** Receives the records of a `CsvParser`. */
export interface RecordSink {
  /**
   * Takes one record. The record and its bytes are reused after the call
   * returns, so copy any field that is kept.
   */
  addCsvRecord(record: CsvRecord): void
}

const COMMA = 0x2c
const QUOTE = 0x22
const LF = 0x0a
const CR = 0x0d
const BOM = [0xef, 0xbb, 0xbf]
const NO_BYTES = Buffer.alloc(0)
const INITIAL_SPILL_BYTES = 1024
const SHORT_COPY_BYTES = 64

// States of the copying scanner within the current record.
const FIELD_START = 0
const UNQUOTED = 1
const QUOTED = 2
// The previous character was a double quote inside a quoted field: either
// the first half of an escaped quote or the closing quote.
const QUOTE_SEEN = 3
// A closing quote and then a CR, which must be the start of a CRLF.
const QUOTE_CR = 4

/**
 * A streaming RFC 4180 parser over bytes. Chunks may have any size, and
 * every split of the input gives the same records. Accepts LF and CRLF line
 * breaks, an optional UTF-8 BOM and a last line without a break, and skips
 * empty lines. A double quote inside an unquoted field is kept as data.
 *
 * Fields are not decoded: a record that lies whole inside a chunk and has
 * no escaped quote points into the chunk itself. Any other record is
 * copied into a buffer of the parser, which also undoes the doubled
 * quotes, and points there.
 *
 * Throws an `HttpError` (422) naming the line of the record at fault for
 * bytes that are not UTF-8 (`CSV_ENCODING_INVALID`), for a character after
 * a closing quote and for a quote still open at the end
 * (`CSV_SYNTAX_INVALID`).
 */
export class CsvParser {
  // V8 (Node 20.20) may collect the hidden class (map) of a class's
  // instances a few full GCs after the last instance dies. It then
  // discards all optimised code compiled against that map, so each upload
  // after such GCs would start with a cold parser. In the CSV benchmark,
  // which runs a full GC before each parse, 1,000,000 rows took about
  // 360 ms instead of 250 ms. This idle instance keeps the maps of the
  // parser and its record alive.
  static readonly #idle = new CsvParser({ addCsvRecord: () => {} })

  // An object rather than a callback, so that optimised code depends on
  // the sink's class and not on a closure that dies with each upload.
  readonly #sink: RecordSink
  readonly #record = new CsvRecord()

  // The first bytes, held back until it is clear whether they are a BOM.
  #bomBytes: number[] | undefined = []
  // The start of a character that the previous chunk cut short.
  #carry: Buffer = NO_BYTES
  #line = 1
  #recordLine = 1

  // The record being copied, when one is: the bytes of its fields so far,
  // the scanner state and where the current field starts in `#spill`.
  #copying = false
  #spill = Buffer.allocUnsafe(INITIAL_SPILL_BYTES)
  #spillLength = 0
  #state = FIELD_START
  #fieldStart = 0

  constructor(sink: RecordSink) {
    this.#sink = sink
  }

  /** Parses the next chunk of input, passing each record to the sink. */
  push(chunk: Uint8Array): void {
    let bytes = asBuffer(this.#bomBytes ? this.#skipBom(chunk) : chunk)
    if (this.#carry.length > 0) bytes = Buffer.concat([this.#carry, bytes])
    if (bytes.length === 0) return

    const { end, invalid } = scanUtf8(bytes)
    this.#carry = invalid ? NO_BYTES : Buffer.from(bytes.subarray(end))
    if (end > 0) this.#scan(bytes, end)
    if (invalid) throw this.#encodingError()
  }

  /** Ends the input: emits the last record and reports an open quote. */
  end(): void {
    if (this.#bomBytes) {
      const start = Buffer.from(this.#bomBytes)
      this.#bomBytes = undefined
      this.push(start)
    }
    if (this.#carry.length > 0) throw this.#encodingError()
    if (!this.#copying) return
    if (this.#state === QUOTED) {
      throw syntaxError(this.#recordLine,
        'A quoted field is not closed before the end of the file')
    }

    if (this.#state === QUOTE_SEEN) {
      this.#record.add(this.#fieldStart, this.#spillLength)
      this.#emitCopy()
    } else if (this.#state === QUOTE_CR) {
      this.#emitCopy()
    } else if (this.#state === UNQUOTED) {
      this.#endUnquoted()
    } else if (this.#record.length > 0) {
      // After a final comma the last field is empty.
      this.#fieldStart = this.#spillLength
      this.#endUnquoted()
    }
  }

  #skipBom(chunk: Uint8Array): Uint8Array {
    const seen = this.#bomBytes as number[]
    let used = 0
    while (used < chunk.length && seen.length < BOM.length) {
      const byte = chunk[used] as number
      if (byte !== BOM[seen.length]) break
      seen.push(byte)
      used++
    }
    if (seen.length < BOM.length && used === chunk.length) return NO_BYTES

    this.#bomBytes = undefined
    const rest = chunk.subarray(used)
    if (seen.length === BOM.length) return rest
    return Buffer.concat([Buffer.from(seen), rest])
  }

  #scan(bytes: Buffer, end: number): void {
    let pos = this.#copying ? this.#copyRecord(bytes, 0, end) : 0
    while (pos < end) {
      const next = this.#fastRecord(bytes, pos, end)
      pos = next >= 0 ? next : this.#copyRecord(bytes, pos, end)
    }
  }

  // Reads the record at `from` in place and returns the offset after its
  // line break. Returns -1 when the record must be copied instead, because
  // it runs past `end`, has an escaped quote or breaks a rule that the
  // copying scanner reports. Nothing is committed before the record is
  // whole. The loops stay in this one function because splitting them out
  // made the parse about 5% slower.
  #fastRecord(bytes: Buffer, from: number, end: number): number {
    const record = this.#record
    let { starts, ends } = record
    let count = 0
    let quotedLines = 0
    let pos = from
    for (;;) {
      if (pos >= end) return -1
      if (count === starts.length) {
        record.grow()
        starts = record.starts
        ends = record.ends
      }

      if (bytes[pos] === QUOTE) {
        const open = pos + 1
        let close = open
        for (; close < end; close++) {
          const byte = bytes[close]
          if (byte === QUOTE) break
          if (byte === LF) quotedLines++
        }
        const after = close + 1
        if (after >= end) return -1
        const next = bytes[after]
        starts[count] = open
        ends[count] = close
        count++
        if (next === COMMA) {
          pos = after + 1
          continue
        }
        if (next === LF) {
          pos = after + 1
          break
        }
        if (next !== CR || after + 1 >= end || bytes[after + 1] !== LF) {
          return -1
        }
        pos = after + 2
        break
      }

      let stop = pos
      let byte = 0
      for (; stop < end; stop++) {
        byte = bytes[stop] as number
        if (byte === COMMA || byte === LF) break
      }
      if (stop >= end) return -1
      if (byte === COMMA) {
        starts[count] = pos
        ends[count] = stop
        count++
        pos = stop + 1
        continue
      }

      // A CR right before the LF belongs to the line break, and a line
      // with no characters is blank and skipped.
      const fieldEnd = stop > pos && bytes[stop - 1] === CR ? stop - 1 : stop
      if (count === 0 && fieldEnd === pos) {
        this.#nextLine()
        return stop + 1
      }
      starts[count] = pos
      ends[count] = fieldEnd
      count++
      pos = stop + 1
      break
    }

    this.#line += quotedLines
    record.bytes = bytes
    record.length = count
    record.line = this.#recordLine
    this.#sink.addCsvRecord(record)
    this.#nextLine()
    return pos
  }

  // Copies the record in progress from `from` on into `#spill` and returns
  // the offset after its line break, or `end` when the chunk ends first.
  #copyRecord(bytes: Buffer, from: number, end: number): number {
    if (!this.#copying) {
      this.#copying = true
      this.#spillLength = 0
      this.#state = FIELD_START
      this.#record.length = 0
    }

    let pos = from
    while (pos < end && this.#copying) {
      switch (this.#state) {
        case FIELD_START:
          pos = this.#startField(bytes, pos)
          break
        case UNQUOTED:
          pos = this.#copyUnquoted(bytes, pos, end)
          break
        case QUOTED:
          pos = this.#copyQuoted(bytes, pos, end)
          break
        case QUOTE_SEEN:
          pos = this.#afterQuote(bytes, pos)
          break
        default:
          pos = this.#afterQuoteCr(bytes, pos)
      }
    }
    return pos
  }

  #startField(bytes: Buffer, pos: number): number {
    this.#fieldStart = this.#spillLength
    if (bytes[pos] === QUOTE) {
      this.#state = QUOTED
      return pos + 1
    }
    this.#state = UNQUOTED
    return pos
  }

  #copyUnquoted(bytes: Buffer, from: number, end: number): number {
    let stop = from
    let byte = 0
    for (; stop < end; stop++) {
      byte = bytes[stop] as number
      if (byte === COMMA || byte === LF) break
    }
    this.#append(bytes, from, stop)
    if (stop === end) return end

    if (byte === COMMA) {
      this.#record.add(this.#fieldStart, this.#spillLength)
      this.#state = FIELD_START
    } else {
      this.#endUnquoted()
      this.#nextLine()
    }
    return stop + 1
  }

  // Ends the copied record at a line break after an unquoted field. A CR
  // right before the LF belongs to the line break, and a line with no
  // characters is blank and skipped.
  #endUnquoted(): void {
    let fieldEnd = this.#spillLength
    if (fieldEnd > this.#fieldStart && this.#spill[fieldEnd - 1] === CR) {
      fieldEnd--
    }
    if (this.#record.length === 0 && fieldEnd === this.#fieldStart) {
      this.#copying = false
      return
    }
    this.#record.add(this.#fieldStart, fieldEnd)
    this.#emitCopy()
  }

  #copyQuoted(bytes: Buffer, from: number, end: number): number {
    let stop = from
    for (; stop < end; stop++) {
      const byte = bytes[stop]
      if (byte === QUOTE) break
      if (byte === LF) this.#line++
    }
    this.#append(bytes, from, stop)
    if (stop === end) return end

    this.#state = QUOTE_SEEN
    return stop + 1
  }

  #afterQuote(bytes: Buffer, pos: number): number {
    const byte = bytes[pos]
    // RFC 4180 writes a double quote inside a quoted field as two.
    if (byte === QUOTE) {
      this.#append(bytes, pos, pos + 1)
      this.#state = QUOTED
      return pos + 1
    }
    if (byte !== COMMA && byte !== LF && byte !== CR) {
      throw syntaxError(this.#recordLine,
        'A closing quote must be followed by a comma or a line break')
    }

    this.#record.add(this.#fieldStart, this.#spillLength)
    this.#state = FIELD_START
    if (byte === CR) {
      this.#state = QUOTE_CR
    } else if (byte === LF) {
      this.#emitCopy()
      this.#nextLine()
    }
    return pos + 1
  }

  #afterQuoteCr(bytes: Buffer, pos: number): number {
    if (bytes[pos] !== LF) {
      throw syntaxError(this.#recordLine,
        'A closing quote must be followed by a comma or a line break')
    }
    this.#emitCopy()
    this.#nextLine()
    return pos + 1
  }

  #append(bytes: Buffer, from: number, to: number): void {
    const needed = this.#spillLength + (to - from)
    if (needed > this.#spill.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#spill.length * 2))
      this.#spill.copy(grown, 0, 0, this.#spillLength)
      this.#spill = grown
    }
    // `Buffer.copy` costs more per call than a loop for the short runs
    // most records have.
    const spill = this.#spill
    if (to - from > SHORT_COPY_BYTES) {
      bytes.copy(spill, this.#spillLength, from, to)
    } else {
      for (let i = from, at = this.#spillLength; i < to; i++, at++) {
        spill[at] = bytes[i] as number
      }
    }
    this.#spillLength = needed
  }

  #emitCopy(): void {
    const record = this.#record
    this.#copying = false
    record.bytes = this.#spill
    record.line = this.#recordLine
    this.#sink.addCsvRecord(record)
  }

  #nextLine(): void {
    this.#line++
    this.#recordLine = this.#line
  }

  #encodingError(): Error {
    return unprocessable('CSV_ENCODING_INVALID',
      `Line ${this.#recordLine} contains bytes that are not valid UTF-8, ` +
      'so save the file as UTF-8 and upload it again', {
        errors: [{
          line: this.#recordLine,
          message: 'contains bytes that are not valid UTF-8',
        }],
      })
  }
}

function syntaxError(line: number, message: string): Error {
  return unprocessable('CSV_SYNTAX_INVALID', `Line ${line}: ${message}`,
    { errors: [{ line, message }] })
}

function asBuffer(chunk: Uint8Array): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}
