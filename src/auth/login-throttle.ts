import { tooManyRequests, type HttpError } from '../http/errors.ts'

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
  /** Maximum keys tracked per table. The least recently updated go first. */
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
 * per client address. Attempts still in progress count toward the limit
 * too, so a burst of parallel guesses cannot start more attempts than the
 * limit allows before any of them fails.
 *
 * NOTE: memory is bounded by evicting the least recently updated keys, so
 * a spray of more than `maxEntries` usernames from many addresses can reset
 * one username's count. A locked username also locks out its owner until
 * the lockout ends.
 */
export class LoginThrottle {
  readonly #usernames: AttemptTable
  readonly #addresses: AttemptTable

  constructor(options: LoginThrottleOptions) {
    const maxEntries = options.maxEntries ?? 10_000
    this.#usernames = new AttemptTable(
      options.byUsername ?? USERNAME_LIMITS, options.now, maxEntries)
    this.#addresses = new AttemptTable(
      options.byAddress ?? ADDRESS_LIMITS, options.now, maxEntries)
  }

  /**
   * Starts an attempt, which must end with `succeeded`, `failed` or
   * `cancelled`. Throws a 429 `HttpError` with `Retry-After` while either
   * key is locked by failures, or with `Retry-After: 1` when the failures
   * plus the attempts in progress reach a key's limit.
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
    if (this.#usernames.isBusy(usernameKey)) throw attemptsInProgress('account')
    if (this.#addresses.isBusy(addressKey)) throw attemptsInProgress('address')

    this.#usernames.start(usernameKey)
    this.#addresses.start(addressKey)
  }

  /** Ends an attempt and forgets the username's failures. */
  succeeded(usernameKey: string, addressKey: string): void {
    this.#usernames.finish(usernameKey)
    this.#usernames.clearFailures(usernameKey)
    this.#addresses.finish(addressKey)
  }

  /** Ends an attempt with a wrong password or an unknown username. */
  failed(usernameKey: string, addressKey: string): void {
    this.#usernames.finish(usernameKey)
    this.#usernames.addFailure(usernameKey)
    this.#addresses.finish(addressKey)
    this.#addresses.addFailure(addressKey)
  }

  /** Ends an attempt that stopped on an error, without counting a failure. */
  cancelled(usernameKey: string, addressKey: string): void {
    this.#usernames.finish(usernameKey)
    this.#addresses.finish(addressKey)
  }
}

function attemptsInProgress(subject: 'account' | 'address'): HttpError {
  return tooManyRequests(`Too many login attempts for this ${subject} are ` +
    'still in progress; retry in 1 second', 1)
}

interface AttemptEntry {
  failures: number
  lastFailureAt: number
  inProgress: number
  lastStartAt: number
}

class AttemptTable {
  // Map order is insertion order, and every start or failure re-inserts its
  // key, so the first key is always the least recently updated one.
  readonly #entries = new Map<string, AttemptEntry>()

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

  /**
   * Returns whether one more attempt would pass the limit only because of
   * the attempts in progress. Once a lockout ends, one attempt may run.
   */
  isBusy(key: string): boolean {
    const entry = this.#current(key)
    if (!entry || entry.inProgress === 0) return false
    return entry.failures + entry.inProgress >= this.limits.maxFailures
  }

  start(key: string): void {
    const entry = this.#take(key)
    entry.inProgress++
    entry.lastStartAt = this.now()
    this.#put(key, entry)
  }

  finish(key: string): void {
    const entry = this.#current(key)
    if (!entry || entry.inProgress === 0) return
    entry.inProgress--
    this.#dropIfEmpty(key, entry)
  }

  addFailure(key: string): void {
    const entry = this.#take(key)
    entry.failures++
    entry.lastFailureAt = this.now()
    this.#put(key, entry)
  }

  clearFailures(key: string): void {
    const entry = this.#current(key)
    if (!entry) return
    entry.failures = 0
    this.#dropIfEmpty(key, entry)
  }

  // Removes the entry so that `#put` re-inserts it as the newest.
  #take(key: string): AttemptEntry {
    const entry = this.#current(key) ??
      { failures: 0, lastFailureAt: 0, inProgress: 0, lastStartAt: 0 }
    this.#entries.delete(key)
    return entry
  }

  #put(key: string, entry: AttemptEntry): void {
    this.#entries.set(key, entry)
    if (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string)
    }
  }

  #dropIfEmpty(key: string, entry: AttemptEntry): void {
    if (entry.failures === 0 && entry.inProgress === 0) {
      this.#entries.delete(key)
    }
  }

  // Forgets failures `forgetAfterMs` after the last one. Attempts started
  // that long ago are forgotten too, so a store call that never settles
  // cannot keep the key busy for good.
  #current(key: string): AttemptEntry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined

    const now = this.now()
    if (now - entry.lastFailureAt >= this.limits.forgetAfterMs) {
      entry.failures = 0
    }
    if (now - entry.lastStartAt >= this.limits.forgetAfterMs) {
      entry.inProgress = 0
    }
    if (entry.failures === 0 && entry.inProgress === 0) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }
}
