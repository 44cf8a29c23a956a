import { isUtf8 } from 'node:buffer'

// A character given as truncated ends before its last byte but is a valid
// start, so the next chunk may complete it.
const TRUNCATED = -1
const INVALID = 0

/** The end of a chunk's whole characters and whether a bad byte follows. */
export interface Utf8Scan {
  /** Bytes before this offset are whole, valid characters. */
  end: number
  /**
   * True when the byte at `end` cannot start or continue a character. When
   * false, the bytes from `end` on begin a character that the chunk cuts
   * short.
   */
  invalid: boolean
}

/**
 * Checks `bytes` as strict UTF-8: no overlong forms, no surrogates and
 * nothing above U+10FFFF. A character cut short at the end is not an
 * error, so a stream can carry those bytes over to its next chunk.
 */
export function scanUtf8(bytes: Uint8Array): Utf8Scan {
  const cut = truncatedTailStart(bytes)
  if (!isUtf8(bytes.subarray(0, cut))) {
    return { end: validPrefixLength(bytes), invalid: true }
  }
  if (cut === bytes.length) return { end: cut, invalid: false }

  const tail = sequenceLength(bytes, cut, bytes.length)
  return { end: cut, invalid: tail !== TRUNCATED }
}

// Returns where a character that the end cuts short begins, or the length
// when the last character is whole (or plainly invalid, which the full
// check then reports).
function truncatedTailStart(bytes: Uint8Array): number {
  const end = bytes.length
  for (let i = end - 1; i >= Math.max(0, end - 3); i--) {
    const byte = bytes[i] as number
    if ((byte & 0xc0) === 0x80) continue
    return expectedLength(byte) > end - i ? i : end
  }
  return end
}

function validPrefixLength(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i, bytes.length)
    if (length <= 0) return i
    i += length
  }
  return i
}

function expectedLength(lead: number): number {
  if (lead < 0x80) return 1
  if (lead >= 0xc2 && lead <= 0xdf) return 2
  if (lead >= 0xe0 && lead <= 0xef) return 3
  if (lead >= 0xf0 && lead <= 0xf4) return 4
  return 0
}

/**
 * Returns the length of the character starting at `bytes[at]`, INVALID, or
 * TRUNCATED when `end` comes first.
 */
function sequenceLength(bytes: Uint8Array, at: number, end: number): number {
  const lead = bytes[at] as number
  const length = expectedLength(lead)
  if (length <= 1) return length

  const available = Math.min(length, end - at)
  for (let i = 1; i < available; i++) {
    const byte = bytes[at + i] as number
    const [low, high] = i === 1 ? secondByteRange(lead) : [0x80, 0xbf]
    if (byte < low || byte > high) return INVALID
  }
  return available < length ? TRUNCATED : length
}

function secondByteRange(lead: number): [number, number] {
  // E0 and F0 exclude overlong forms, ED excludes the UTF-16 surrogates and
  // F4 stops at U+10FFFF.
  if (lead === 0xe0) return [0xa0, 0xbf]
  if (lead === 0xed) return [0x80, 0x9f]
  if (lead === 0xf0) return [0x90, 0xbf]
  if (lead === 0xf4) return [0x80, 0x8f]
  return [0x80, 0xbf]
}
