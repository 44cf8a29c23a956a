import { defaultConfig } from '../config.ts'
import { unprocessable, type HttpError } from '../http/errors.ts'
import { isSurrogate, loneSurrogate, utf8Length } from './code-points.ts'
import { Utf16Writer } from './utf16-writer.ts'

const BACKSLASH = 0x5c
const DIGIT_ZERO = 0x30
const DIGIT_NINE = 0x39

export interface DecompressOptions {
  /** Maximum size of the decoded text in UTF-8 bytes, 1 MiB by default. */
  maxBytes?: number
}

/** Read position in the encoded string, in UTF-16 units and code points. */
interface Cursor {
  index: number
  position: number
}

/**
 * Encodes `text` as runs of one code point followed by its decimal count,
 * so `"aaab"` becomes `"a3b1"`. A digit or backslash in the text gets a
 * backslash before it: `"a111"` becomes `"a1\13"`. Throws 422
 * `COMPRESS_LONE_SURROGATE` when the text is not valid Unicode.
 */
export function compress(text: string): string {
  const writer = new Utf16Writer()
  let index = 0
  let position = 0
  while (index < text.length) {
    const codePoint = text.codePointAt(index) as number
    if (isSurrogate(codePoint)) throw loneSurrogate('text', position)

    const width = codePoint > 0xffff ? 2 : 1
    let end = index + width
    while (text.codePointAt(end) === codePoint) end += width
    const count = (end - index) / width

    if (needsEscape(codePoint)) writer.writeUnit(BACKSLASH)
    writer.writeCodePoint(codePoint)
    writer.writeDecimal(count)
    position += count
    index = end
  }
  return writer.toString()
}

/**
 * Decodes the output of `compress`. Throws 422 naming the code point
 * position for a missing, zero or leading-zero count, a dangling or
 * needless escape and a lone surrogate, and 422 `COMPRESS_OUTPUT_TOO_LARGE`
 * before building a text over `maxBytes`. Adjacent runs of one character
 * (`"a1a1"`) are accepted. Throws `TypeError` for an invalid `maxBytes`.
 */
export function decompress(
  encoded: string,
  options: DecompressOptions = {},
): string {
  const maxBytes = options.maxBytes ?? defaultConfig.maxTextBytes
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`maxBytes must be a positive integer, not ${maxBytes}`)
  }

  const cursor: Cursor = { index: 0, position: 0 }
  const writer = new Utf16Writer()
  let bytes = 0
  while (cursor.index < encoded.length) {
    const codePoint = readCharacter(encoded, cursor)
    const size = utf8Length(codePoint)
    const maxCount = Math.floor((maxBytes - bytes) / size)
    const count = readCount(encoded, cursor, codePoint, maxCount, maxBytes)

    bytes += count * size
    writer.writeRun(codePoint, count)
  }
  return writer.toString()
}

function needsEscape(codePoint: number): boolean {
  return codePoint === BACKSLASH || isDigit(codePoint)
}

function isDigit(codePoint: number): boolean {
  return codePoint >= DIGIT_ZERO && codePoint <= DIGIT_NINE
}

/** Reads one character, unescaping it, and returns its code point. */
function readCharacter(encoded: string, cursor: Cursor): number {
  const position = cursor.position
  const codePoint = encoded.codePointAt(cursor.index) as number
  if (isSurrogate(codePoint)) throw loneSurrogate('compressed', position)
  if (isDigit(codePoint)) {
    const digit = String.fromCodePoint(codePoint)
    throw malformed('COMPRESS_CHARACTER_MISSING', position,
      `The count at position ${position} has no character before it. ` +
      `Write the digit ${digit} in the text as \\${digit}`)
  }

  if (codePoint !== BACKSLASH) {
    cursor.index += codePoint > 0xffff ? 2 : 1
    cursor.position += 1
    return codePoint
  }

  const escaped = encoded.codePointAt(cursor.index + 1)
  if (escaped === undefined) {
    throw malformed('COMPRESS_ESCAPE_DANGLING', position,
      `The backslash at position ${position} ends the input, but ` +
      'it must be followed by a digit or a backslash')
  }
  if (!needsEscape(escaped)) {
    throw malformed('COMPRESS_ESCAPE_NEEDLESS', position,
      `The backslash at position ${position} escapes ` +
      `${JSON.stringify(String.fromCodePoint(escaped))}, ` +
      'but only digits and backslashes are escaped')
  }
  cursor.index += 2
  cursor.position += 2
  return escaped
}

/**
 * Reads the decimal count after a character. It must be 1 or more, with
 * no leading zero, and at most `maxCount` so the text stays in the limit.
 */
function readCount(
  encoded: string,
  cursor: Cursor,
  codePoint: number,
  maxCount: number,
  maxBytes: number,
): number {
  const position = cursor.position
  let count = 0
  let digits = 0
  while (cursor.index < encoded.length) {
    const unit = encoded.charCodeAt(cursor.index)
    if (!isDigit(unit)) break
    if (digits === 1 && count === 0) {
      throw malformed('COMPRESS_COUNT_INVALID', position,
        `The count at position ${position} has a leading zero`)
    }

    count = count * 10 + (unit - DIGIT_ZERO)
    digits += 1
    // Checking each digit keeps `count` far below 2^53 for any input.
    if (count > maxCount) {
      throw malformed('COMPRESS_OUTPUT_TOO_LARGE', position,
        `The run at position ${position} makes the text larger than ` +
        `the limit of ${maxBytes} bytes of UTF-8`)
    }
    cursor.index += 1
    cursor.position += 1
  }

  if (digits === 0) {
    const character = JSON.stringify(String.fromCodePoint(codePoint))
    throw malformed('COMPRESS_COUNT_MISSING', position,
      `Expected a count at position ${position}, after ${character}`)
  }
  if (count === 0) {
    throw malformed('COMPRESS_COUNT_INVALID', position,
      `The count at position ${position} is zero, but counts start at 1`)
  }
  return count
}

function malformed(
  code: string,
  position: number,
  message: string,
): HttpError {
  return unprocessable(code, message, {
    errors: [{ field: 'compressed', message }],
    extensions: { position },
  })
}
