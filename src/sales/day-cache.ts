/** The value `DayCache.get` returns for a key that is not cached. */
export const UNCACHED = -0x8000_0000

const SLOTS = 8192
// The cache is cleared when it reaches this size, so a file with many
// distinct dates costs no more memory, and probes stay short.
const MAX_ENTRIES = SLOTS / 2
const SLOT_BITS = 13
const EMPTY = -1
const GOLDEN = 0x9e37_79b1

/**
 * Day numbers by a non-negative integer date key such as YYYYMMDD, in a
 * fixed open-addressing table of typed arrays, so a lookup allocates
 * nothing. The caller computes and checks each day before adding it.
 */
export class DayCache {
  readonly #keys = new Int32Array(SLOTS).fill(EMPTY)
  readonly #days = new Int32Array(SLOTS)
  #size = 0

  /** Returns the day cached for `key`, or `UNCACHED`. */
  get(key: number): number {
    for (let slot = slotOf(key); ; slot = (slot + 1) & (SLOTS - 1)) {
      const found = this.#keys[slot]
      if (found === key) return this.#days[slot] as number
      if (found === EMPTY) return UNCACHED
    }
  }

  /** Caches `day` for `key`, which must not be cached yet. */
  set(key: number, day: number): void {
    if (this.#size === MAX_ENTRIES) {
      this.#keys.fill(EMPTY)
      this.#size = 0
    }
    let slot = slotOf(key)
    while (this.#keys[slot] !== EMPTY) slot = (slot + 1) & (SLOTS - 1)
    this.#keys[slot] = key
    this.#days[slot] = day
    this.#size++
  }
}

// Multiplicative hashing: the top bits of the product spread keys that
// differ only in their last digits.
function slotOf(key: number): number {
  return Math.imul(key, GOLDEN) >>> (32 - SLOT_BITS)
}
