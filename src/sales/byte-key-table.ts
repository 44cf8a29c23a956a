/** The value `ByteKeyTable.get` returns for a key that is not stored. */
export const ABSENT = -0x8000_0000

const INITIAL_SLOTS = 1024
const INITIAL_KEY_BYTES = 16 * 1024
const FNV_OFFSET = 0x811c_9dc5
const FNV_PRIME = 0x0100_0193
// Each slot is two numbers: the key's hash and its entry number plus one,
// 0 for an empty slot. Each entry is three: where its key starts in
// `#keys`, the key's length and the value. Keeping each group side by side
// lets a lookup touch one cache line per group.
const SLOT_SIZE = 2
const ENTRY_SIZE = 3

/**
 * A hash table from byte strings to 32-bit integers, with open addressing
 * and linear probing. A key is looked up straight from the bytes it sits
 * in, so finding a known key creates no string and no object. Stored keys
 * are copied into one growing buffer, so the caller may reuse its bytes.
 */
export class ByteKeyTable {
  // At most half the slots are used, so a probe soon meets an empty one.
  #slots = new Int32Array(INITIAL_SLOTS * SLOT_SIZE)
  #slotMask = INITIAL_SLOTS - 1
  #size = 0
  #entries = new Int32Array(INITIAL_SLOTS / 2 * ENTRY_SIZE)
  #keys = Buffer.allocUnsafe(INITIAL_KEY_BYTES)
  #keysView = viewOf(this.#keys)
  #keysLength = 0
  // A view of the bytes of the latest lookup, which are usually the same
  // chunk many times in a row.
  #bytes: Uint8Array = this.#keys
  #view = this.#keysView

  /** The number of keys stored. */
  get size(): number {
    return this.#size
  }

  /** Returns the value of the key `bytes[start, end)`, or `ABSENT`. */
  get(bytes: Uint8Array, start: number, end: number): number {
    const view = this.#viewOf(bytes)
    const hash = hashBytes(view, start, end)
    const slots = this.#slots
    const mask = this.#slotMask
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = (slots[slot * SLOT_SIZE + 1] as number) - 1
      if (entry < 0) return ABSENT
      if (slots[slot * SLOT_SIZE] === hash &&
        this.#sameKey(entry * ENTRY_SIZE, view, start, end)) {
        return this.#entries[entry * ENTRY_SIZE + 2] as number
      }
    }
  }

  /**
   * Stores `value`, which must not be `ABSENT`, under the key
   * `bytes[start, end)`, which must not be stored yet.
   */
  add(bytes: Uint8Array, start: number, end: number, value: number): void {
    if ((this.#size + 1) * 2 > this.#slotMask + 1) this.#growSlots()
    if ((this.#size + 1) * ENTRY_SIZE > this.#entries.length) {
      const entries = new Int32Array(this.#entries.length * 2)
      entries.set(this.#entries)
      this.#entries = entries
    }

    const entry = this.#size++
    const at = entry * ENTRY_SIZE
    this.#entries[at] = this.#copyKey(bytes, start, end)
    this.#entries[at + 1] = end - start
    this.#entries[at + 2] = value
    this.#place(entry, hashBytes(this.#viewOf(bytes), start, end))
  }

  #sameKey(at: number, view: DataView, start: number, end: number) {
    const length = end - start
    if (this.#entries[at + 1] !== length) return false
    const keys = this.#keysView
    const keyStart = this.#entries[at] as number
    let i = 0
    for (; i + 4 <= length; i += 4) {
      if (keys.getInt32(keyStart + i) !== view.getInt32(start + i)) {
        return false
      }
    }
    for (; i < length; i++) {
      if (keys.getUint8(keyStart + i) !== view.getUint8(start + i)) {
        return false
      }
    }
    return true
  }

  #viewOf(bytes: Uint8Array): DataView {
    if (bytes !== this.#bytes) {
      this.#bytes = bytes
      this.#view = viewOf(bytes)
    }
    return this.#view
  }

  #place(entry: number, hash: number): void {
    const mask = this.#slotMask
    let slot = hash & mask
    while (this.#slots[slot * SLOT_SIZE + 1] !== 0) slot = (slot + 1) & mask
    this.#slots[slot * SLOT_SIZE] = hash
    this.#slots[slot * SLOT_SIZE + 1] = entry + 1
  }

  #copyKey(bytes: Uint8Array, start: number, end: number): number {
    const offset = this.#keysLength
    const needed = offset + (end - start)
    if (needed > this.#keys.length) {
      const keys = Buffer.allocUnsafe(Math.max(needed, this.#keys.length * 2))
      this.#keys.copy(keys, 0, 0, offset)
      this.#keys = keys
      this.#keysView = viewOf(keys)
    }
    this.#keys.set(bytes.subarray(start, end), offset)
    this.#keysLength = needed
    return offset
  }

  #growSlots(): void {
    const old = this.#slots
    this.#slots = new Int32Array(old.length * 2)
    this.#slotMask = old.length - 1
    for (let slot = 0; slot < old.length; slot += SLOT_SIZE) {
      const entry = (old[slot + 1] as number) - 1
      if (entry >= 0) this.#place(entry, old[slot] as number)
    }
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

// FNV-1a over 4-byte words and then the last bytes, with the high bits
// folded in after each step because slots are taken from the low bits.
function hashBytes(view: DataView, start: number, end: number): number {
  let hash = FNV_OFFSET ^ (end - start)
  let i = start
  for (; i + 4 <= end; i += 4) {
    hash = Math.imul(hash ^ view.getInt32(i), FNV_PRIME)
    hash ^= hash >>> 15
  }
  for (; i < end; i++) {
    hash = Math.imul(hash ^ view.getUint8(i), FNV_PRIME)
  }
  return (hash ^ (hash >>> 16)) & 0x7fff_ffff
}
