import { unprocessable, type HttpError } from '../http/errors.ts'

// In a `u` regex a surrogate pair is one astral code point, so `\p{Cs}`
// matches only a surrogate that has no partner.
const LONE_SURROGATE = /\p{Cs}/u

/** Tells whether a UTF-16 code unit or code point is a surrogate. */
export function isSurrogate(codePoint: number): boolean {
  return codePoint >= 0xd800 && codePoint <= 0xdfff
}

/** Returns the number of bytes `codePoint` takes in UTF-8. */
export function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1
  if (codePoint < 0x800) return 2
  if (codePoint < 0x10000) return 3
  return 4
}

/** Counts the code points of `text`, where a lone surrogate counts as one. */
export function countCodePoints(text: string): number {
  let count = text.length
  for (let i = 0; i + 1 < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0xd800 || unit > 0xdbff) continue

    const next = text.charCodeAt(i + 1)
    if (next >= 0xdc00 && next <= 0xdfff) {
      count--
      i++
    }
  }
  return count
}

/**
 * Throws 422 `COMPRESS_LONE_SURROGATE` when `text` is not well-formed
 * UTF-16, naming the code point position of the first lone surrogate.
 */
export function requireWellFormed(text: string, field: string): void {
  const index = text.search(LONE_SURROGATE)
  if (index === -1) return
  throw loneSurrogate(field, countCodePoints(text.slice(0, index)))
}

/** Builds the 422 for a lone surrogate at code point `position`. */
export function loneSurrogate(field: string, position: number): HttpError {
  const message = `${field} has a lone surrogate at position ${position}, ` +
    'so it is not valid Unicode'
  return unprocessable('COMPRESS_LONE_SURROGATE', message, {
    errors: [{ field, message }],
    extensions: { position },
  })
}
