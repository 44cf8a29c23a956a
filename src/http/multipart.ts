import { badRequest } from './errors.ts'

/** The headers of one part that a reader of form data needs. */
export interface PartInfo {
  /** The form field name from `Content-Disposition`, if any. */
  name: string | undefined
  filename: string | undefined
  contentType: string | undefined
}

/** Receives the bytes of one part, in order, as they arrive. */
export type PartSink = (data: Buffer) => void

/**
 * Called at the start of each part. Returns where its bytes go, or
 * `undefined` to drop them.
 */
export type PartHandler = (part: PartInfo) => PartSink | undefined

const CR = 0x0d
const LF = 0x0a
const DASH = 0x2d
const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')
const MAX_HEADER_BYTES = 16 * 1024
// RFC 2046 allows boundaries of 1 to 70 characters.
const MAX_BOUNDARY_LENGTH = 70

const PREAMBLE = 0
const AFTER_DELIMITER = 1
const HEADERS = 2
const BODY = 3
const DONE = 4

/**
 * Returns the `boundary` parameter of a `multipart/form-data` content type.
 * Throws 400 when it is missing or longer than RFC 2046 allows.
 */
export function multipartBoundary(contentType: string): string {
  const boundary = headerParameters(contentType).get('boundary')
  if (!boundary) {
    throw badRequest('MULTIPART_BOUNDARY_MISSING',
      'Content-Type multipart/form-data needs a boundary parameter')
  }
  if (boundary.length > MAX_BOUNDARY_LENGTH) {
    throw badRequest('MULTIPART_BOUNDARY_INVALID',
      `The multipart boundary is longer than ${MAX_BOUNDARY_LENGTH} characters`)
  }
  return boundary
}

/**
 * A streaming reader of a `multipart/form-data` body (RFC 7578, with the
 * syntax of RFC 2046). Chunks may have any size. Each part's bytes go to
 * the sink its handler returns as soon as they cannot be the start of a
 * boundary, so a part is never held whole. The preamble and epilogue are
 * ignored. Throws 400 (`MULTIPART_*`) for a malformed or truncated body.
 */
export class MultipartReader {
  readonly #delimiter: Buffer
  readonly #onPart: PartHandler
  #state = PREAMBLE
  #sink: PartSink | undefined
  // Bytes that may be the start of a delimiter or header block, kept until
  // the next chunk shows what they are. The body is treated as if it began
  // with CRLF, so the first boundary matches without a line break before.
  #pending: Buffer = CRLF

  constructor(boundary: string, onPart: PartHandler) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1')
    this.#onPart = onPart
  }

  /** Reads the next chunk of the body. */
  push(chunk: Buffer): void {
    if (this.#state === DONE) return
    let data = this.#pending.length > 0
      ? Buffer.concat([this.#pending, chunk])
      : chunk
    let progressed = true
    while (progressed && this.#state !== DONE) {
      const used = this.#step(data)
      progressed = used > 0
      data = data.subarray(used)
    }
    this.#pending = this.#state === DONE ? Buffer.alloc(0) : Buffer.from(data)
  }

  /** Ends the body; throws 400 unless the closing boundary was read. */
  end(): void {
    if (this.#state === DONE) return
    if (this.#state === PREAMBLE) {
      throw badRequest('MULTIPART_BOUNDARY_NOT_FOUND',
        'The multipart body does not contain the boundary named in ' +
        'Content-Type')
    }
    throw badRequest('MULTIPART_TRUNCATED',
      'The multipart body ends before its closing boundary')
  }

  // Consumes what it can from the front of `data` in the current state and
  // returns how many bytes it used. A result of 0 means it needs more.
  #step(data: Buffer): number {
    switch (this.#state) {
      case PREAMBLE:
        return this.#skipPreamble(data)
      case AFTER_DELIMITER:
        return this.#afterDelimiter(data)
      case HEADERS:
        return this.#readHeaders(data)
      default:
        return this.#readBody(data)
    }
  }

  #skipPreamble(data: Buffer): number {
    const at = data.indexOf(this.#delimiter)
    if (at >= 0) {
      this.#state = AFTER_DELIMITER
      return at + this.#delimiter.length
    }
    return data.length - partialMatchLength(data, this.#delimiter)
  }

  // After a delimiter comes `--` (the last one) or optional spaces and tabs
  // (transport padding) and a CRLF before the next part's headers.
  #afterDelimiter(data: Buffer): number {
    if (data.length < 2) return 0
    if (data[0] === DASH && data[1] === DASH) {
      this.#endPart()
      this.#state = DONE
      return 2
    }

    let at = 0
    while (at < data.length && (data[at] === 0x20 || data[at] === 0x09)) at++
    if (at + 2 > data.length) return 0
    if (data[at] !== CR || data[at + 1] !== LF) {
      throw badRequest('MULTIPART_INVALID',
        'A multipart boundary must be followed by a line break or "--"')
    }
    this.#endPart()
    this.#state = HEADERS
    return at + 2
  }

  #readHeaders(data: Buffer): number {
    // A part without headers has its blank line right away.
    const end = data[0] === CR && data[1] === LF
      ? 0
      : data.indexOf(HEADER_END)
    if (end < 0) {
      if (data.length > MAX_HEADER_BYTES) throw headersTooLarge()
      return 0
    }
    if (end > MAX_HEADER_BYTES) throw headersTooLarge()

    const part = parsePartHeaders(data.toString('utf8', 0, end))
    this.#sink = this.#onPart(part)
    this.#state = BODY
    return end === 0 ? 2 : end + HEADER_END.length
  }

  #readBody(data: Buffer): number {
    const at = data.indexOf(this.#delimiter)
    if (at >= 0) {
      this.#emit(data.subarray(0, at))
      this.#state = AFTER_DELIMITER
      return at + this.#delimiter.length
    }
    const safe = data.length - partialMatchLength(data, this.#delimiter)
    this.#emit(data.subarray(0, safe))
    return safe
  }

  #emit(data: Buffer): void {
    if (data.length > 0 && this.#sink) this.#sink(data)
  }

  #endPart(): void {
    this.#sink = undefined
  }
}

function headersTooLarge(): Error {
  return badRequest('MULTIPART_INVALID',
    `A multipart part's headers are longer than ${MAX_HEADER_BYTES} bytes`)
}

// Returns how many bytes at the end of `data` are the start of `delimiter`,
// so they are kept until the next chunk decides.
function partialMatchLength(data: Buffer, delimiter: Buffer): number {
  for (let k = Math.min(data.length, delimiter.length - 1); k > 0; k--) {
    const start = data.length - k
    if (data[start] !== CR) continue
    if (data.compare(delimiter, 0, k, start, data.length) === 0) return k
  }
  return 0
}

function parsePartHeaders(block: string): PartInfo {
  const headers = new Map<string, string>()
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    headers.set(line.slice(0, colon).trim().toLowerCase(),
      line.slice(colon + 1).trim())
  }

  const disposition = headerParameters(headers.get('content-disposition') ?? '')
  return {
    name: disposition.get('name'),
    filename: disposition.get('filename'),
    contentType: headers.get('content-type'),
  }
}

/**
 * Parses the `; key=value` parameters of a header such as Content-Type or
 * Content-Disposition. Keys are lower-cased. Quoted values are unquoted,
 * with a backslash escaping the next character (RFC 9110 quoted-string).
 */
export function headerParameters(value: string): Map<string, string> {
  const parameters = new Map<string, string>()
  const pattern = /;\s*([^\s;=]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g
  for (const match of value.matchAll(pattern)) {
    const key = (match[1] as string).toLowerCase()
    const quoted = match[2]
    const text = quoted === undefined
      ? (match[3] ?? '').trim()
      : quoted.replace(/\\(.)/g, '$1')
    if (!parameters.has(key)) parameters.set(key, text)
  }
  return parameters
}
