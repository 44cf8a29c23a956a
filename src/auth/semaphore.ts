/** Thrown by `Semaphore.run` when the wait queue is full. */
export class QueueFullError extends Error {
  override name = 'QueueFullError'
}

/**
 * Limits how many tasks run at once. Waiting tasks start in arrival order,
 * and at most `maxQueue` may wait, so a burst cannot pile up without bound.
 */
export class Semaphore {
  readonly #maxRunning: number
  readonly #maxQueue: number
  readonly #waiting: Array<() => void> = []
  #running = 0

  constructor(maxRunning: number, maxQueue: number) {
    if (!Number.isInteger(maxRunning) || maxRunning < 1) {
      throw new TypeError(`maxRunning must be a positive integer (got ${maxRunning})`)
    }
    if (!Number.isInteger(maxQueue) || maxQueue < 0) {
      throw new TypeError(`maxQueue must be a non-negative integer (got ${maxQueue})`)
    }
    this.#maxRunning = maxRunning
    this.#maxQueue = maxQueue
  }

  /**
   * Runs `task` once a slot is free and returns its result. Throws
   * `QueueFullError` without running it when `maxQueue` tasks already wait.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.#acquire()
    try {
      return await task()
    } finally {
      this.#release()
    }
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#maxRunning) {
      this.#running++
      return Promise.resolve()
    }
    if (this.#waiting.length >= this.#maxQueue) {
      return Promise.reject(new QueueFullError('Too many tasks are waiting'))
    }
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  #release(): void {
    const next = this.#waiting.shift()
    if (next) {
      // The slot passes straight to the next task, so `#running` is unchanged.
      next()
      return
    }
    this.#running--
  }
}
