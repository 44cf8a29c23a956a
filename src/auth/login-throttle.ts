import { tooManyRequests } from '../http/errors.ts'

/** Limits that turn failures under one key into a lockout, in milliseconds. */
export interface ThrottleLimits {
  /** Failures allowed before the first lockout. */
  maxFailures: number
  /** First lockout. Each further failure doubles it, up to `maxLockMs`. */
  baseLockMs: number
  maxLockMs: number
  /** Failures are forgotten after this long without a new one. */
  forgetAfterMs: number
}

export interface LoginThrottleOptions {
  /** Clock in milliseconds since the epoch. */
  now: () => number
  byUsername?: ThrottleLimits
  byAddress?: ThrottleLimits
  /** Maximum keys tracked per table. The least recently failed go first. */
  maxEntries?: number
}

const MINUTE = 60_000

/** Per username: 5 failures, then 30 s, 1 min, 2 min ... up to 15 min. */
export const USERNAME_LIMITS: ThrottleLimits = {
  maxFailures: 5,
  baseLockMs: 30_000,
  maxLockMs: 15 * MINUTE,
  forgetAfterMs: 60 * MINUTE,
}

/** Per client address: 20 failures, then the same lockout steps. */
export const ADDRESS_LIMITS: ThrottleLimits = {
  maxFailures: 20,
  baseLockMs: 30_000,
  maxLockMs: 15 * MINUTE,
  forgetAfterMs: 60 * MINUTE,
}

/**
 * Slows down password guessing by counting failed logins per username and
 * per client address. An attempt counts as a failure from its start, so a
 * burst of parallel guesses is counted before any of them finishes.
 *
 * NOTE: memory is bounded by evicting the least recently failed keys, so a
 * spray of more than `maxEntries` usernames from many addresses can reset
 * one username's count. A locked username also locks out its owner until
 * the lockout ends.
 */
export class LoginThrottle {
  readonly #usernames: FailureTable
  readonly #addresses: FailureTable

  constructor(options: LoginThrottleOptions) {
    const maxEntries = options.maxEntries ?? 10_000
    this.#usernames = new FailureTable(
      options.byUsername ?? USERNAME_LIMITS, options.now, maxEntries)
    this.#addresses = new FailureTable(
      options.byAddress ?? ADDRESS_LIMITS, options.now, maxEntries)
  }

  /**
   * Throws a 429 `HttpError` with `Retry-After` while either key is locked.
   * Otherwise counts a failure for both until `succeeded` or `cancelled`.
   */
  startAttempt(usernameKey: string, addressKey: string): void {
    const waitMs = Math.max(
      this.#usernames.lockRemainingMs(usernameKey),
      this.#addresses.lockRemainingMs(addressKey),
    )
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000)
      throw tooManyRequests(
        `Too many failed logins; retry in ${seconds} seconds`, seconds)
    }

    this.#usernames.addFailure(usernameKey)
    this.#addresses.addFailure(addressKey)
  }

  /** Forgets the username's failures and takes back this attempt's count. */
  succeeded(usernameKey: string, addressKey: string): void {
    this.#usernames.clear(usernameKey)
    this.#addresses.removeFailure(addressKey)
  }

  /** Takes back the count of an attempt that failed for another reason. */
  cancelled(usernameKey: string, addressKey: string): void {
    this.#usernames.removeFailure(usernameKey)
    this.#addresses.removeFailure(addressKey)
  }
}

interface FailureEntry {
  failures: number
  lastFailureAt: number
}

class FailureTable {
  // Map order is insertion order, and every update re-inserts its key, so
  // the first key is always the least recently failed one.
  readonly #entries = new Map<string, FailureEntry>()

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly now: () => number,
    private readonly maxEntries: number,
  ) {}

  lockRemainingMs(key: string): number {
    const entry = this.#current(key)
    if (!entry || entry.failures < this.limits.maxFailures) return 0

    const steps = entry.failures - this.limits.maxFailures
    const lockMs = Math.min(
      this.limits.maxLockMs,
      this.limits.baseLockMs * 2 ** Math.min(steps, 30),
    )
    return Math.max(0, entry.lastFailureAt + lockMs - this.now())
  }

  addFailure(key: string): void {
    const failures = (this.#current(key)?.failures ?? 0) + 1
    this.#entries.delete(key)
    this.#entries.set(key, { failures, lastFailureAt: this.now() })
    if (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string)
    }
  }

  removeFailure(key: string): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    entry.failures--
    if (entry.failures <= 0) this.#entries.delete(key)
  }

  clear(key: string): void {
    this.#entries.delete(key)
  }

  #current(key: string): FailureEntry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (this.now() - entry.lastFailureAt < this.limits.forgetAfterMs) {
      return entry
    }
    this.#entries.delete(key)
    return undefined
  }
}
