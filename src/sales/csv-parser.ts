import { unprocessable } from '../http/errors.ts'
import { scanUtf8 } from './utf8.ts'

/**
 * Receives one record: its fields and the line where it starts (the first
 * line of the input is 1). The array is the caller's to keep.
 */
export type RecordHandler = (fields: string[], line: number) => void

const COMMA = 0x2c
const QUOTE = 0x22
const LF = 0x0a
const CR = 0x0d
const BOM = [0xef, 0xbb, 0xbf]
const NO_BYTES = Buffer.alloc(0)

// States of the scanner within the current record.
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
 * Each chunk is decoded once and fields are slices of that text. V8 may
 * keep a long slice pointing into the chunk's text, so copy a field that is
 * kept after the upload (see `detachString`).
 *
 * Throws an `HttpError` (422) naming the line of the record at fault for
 * bytes that are not UTF-8 (`CSV_ENCODING_INVALID`), for a character after
 * a closing quote and for a quote still open at the end
 * (`CSV_SYNTAX_INVALID`).
 */
export class CsvParser {
  readonly #onRecord: RecordHandler

  // The first bytes, held back until it is clear whether they are a BOM.
  #bomBytes: number[] | undefined = []
  // The start of a character that the previous chunk cut short.
  #carry: Buffer = NO_BYTES

  #state = FIELD_START
  #fields: string[] = []
  // Text of the field in progress from earlier chunks.
  #pieces: string[] = []
  #text = ''
  #fieldStart = 0
  #escaped = false
  #line = 1
  #recordLine = 1

  constructor(onRecord: RecordHandler) {
    this.#onRecord = onRecord
  }

  /** Parses the next chunk of input, calling the handler for each record. */
  push(chunk: Uint8Array): void {
    let bytes = asBuffer(this.#bomBytes ? this.#skipBom(chunk) : chunk)
    if (this.#carry.length > 0) bytes = Buffer.concat([this.#carry, bytes])
    if (bytes.length === 0) return

    const { end, invalid } = scanUtf8(bytes)
    this.#carry = invalid ? NO_BYTES : Buffer.from(bytes.subarray(end))
    if (end > 0) this.#scan(bytes.toString('utf8', 0, end))
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
    if (this.#state === QUOTED) {
      throw syntaxError(this.#recordLine,
        'A quoted field is not closed before the end of the file')
    }

    this.#text = ''
    this.#fieldStart = 0
    if (this.#state === QUOTE_SEEN) {
      this.#fields.push(this.#quotedField(0))
      this.#finishRecord()
    } else if (this.#state === QUOTE_CR) {
      this.#finishRecord()
    } else if (this.#state === UNQUOTED || this.#fields.length > 0) {
      // After a final comma the last field is empty.
      this.#endUnquoted(0)
    }
    this.#state = FIELD_START
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

  #scan(text: string): void {
    this.#text = text
    this.#fieldStart = 0
    const end = text.length
    let pos = 0
    while (pos < end) {
      switch (this.#state) {
        case FIELD_START:
          pos = this.#startField(pos)
          break
        case UNQUOTED:
          pos = this.#scanUnquoted(pos, end)
          break
        case QUOTED:
          pos = this.#scanQuoted(pos, end)
          break
        case QUOTE_SEEN:
          pos = this.#afterQuote(pos)
          break
        default:
          pos = this.#afterQuoteCr(pos)
      }
    }
    if (this.#state !== FIELD_START && this.#state !== QUOTE_CR) {
      this.#pieces.push(text.slice(this.#fieldStart))
    }
  }

  #startField(pos: number): number {
    if (this.#text.charCodeAt(pos) === QUOTE) {
      this.#state = QUOTED
      this.#fieldStart = pos + 1
      this.#escaped = false
      return pos + 1
    }
    this.#state = UNQUOTED
    this.#fieldStart = pos
    return pos
  }

  #scanUnquoted(from: number, end: number): number {
    const text = this.#text
    for (let pos = from; pos < end; pos++) {
      const code = text.charCodeAt(pos)
      if (code === COMMA) {
        this.#fields.push(this.#takeField(pos))
        this.#state = FIELD_START
        return pos + 1
      }
      if (code === LF) {
        this.#endUnquoted(pos)
        this.#nextLine()
        return pos + 1
      }
    }
    return end
  }

  // Ends the record at a line break after an unquoted field. A CR right
  // before the LF belongs to the line break, and a line with no characters
  // is blank and skipped.
  #endUnquoted(breakAt: number): void {
    let field = this.#takeField(breakAt)
    if (field.charCodeAt(field.length - 1) === CR) field = field.slice(0, -1)
    this.#state = FIELD_START
    if (this.#fields.length === 0 && field === '') return

    this.#fields.push(field)
    this.#finishRecord()
  }

  #scanQuoted(from: number, end: number): number {
    const text = this.#text
    for (let pos = from; pos < end; pos++) {
      const code = text.charCodeAt(pos)
      if (code === QUOTE) {
        this.#state = QUOTE_SEEN
        return pos + 1
      }
      if (code === LF) this.#line++
    }
    return end
  }

  #afterQuote(pos: number): number {
    const code = this.#text.charCodeAt(pos)
    if (code === QUOTE) {
      this.#escaped = true
      this.#state = QUOTED
      return pos + 1
    }
    if (code !== COMMA && code !== LF && code !== CR) {
      throw syntaxError(this.#recordLine,
        'A closing quote must be followed by a comma or a line break')
    }

    this.#fields.push(this.#quotedField(pos))
    this.#state = FIELD_START
    if (code === CR) {
      this.#state = QUOTE_CR
    } else if (code === LF) {
      this.#finishRecord()
      this.#nextLine()
    }
    return pos + 1
  }

  #afterQuoteCr(pos: number): number {
    if (this.#text.charCodeAt(pos) !== LF) {
      throw syntaxError(this.#recordLine,
        'A closing quote must be followed by a comma or a line break')
    }
    this.#state = FIELD_START
    this.#finishRecord()
    this.#nextLine()
    return pos + 1
  }

  // Returns the text of the field in progress up to `end` of this chunk.
  #takeField(end: number): string {
    const tail = this.#text.slice(this.#fieldStart, end)
    if (this.#pieces.length === 0) return tail

    const field = this.#pieces.join('') + tail
    this.#pieces = []
    return field
  }

  // Returns a quoted field whose closing quote is just before `afterQuote`.
  // RFC 4180 writes a double quote inside a quoted field as two.
  #quotedField(afterQuote: number): string {
    const text = this.#takeField(afterQuote).slice(0, -1)
    return this.#escaped ? text.replaceAll('""', '"') : text
  }

  #finishRecord(): void {
    const fields = this.#fields
    this.#fields = []
    this.#onRecord(fields, this.#recordLine)
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

/**
 * Returns a copy of `text` that shares no memory with a larger string, for
 * values kept long after the chunk they were sliced from.
 */
export function detachString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8')
}

function syntaxError(line: number, message: string): Error {
  return unprocessable('CSV_SYNTAX_INVALID', `Line ${line}: ${message}`,
    { errors: [{ line, message }] })
}

function asBuffer(chunk: Uint8Array): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}
