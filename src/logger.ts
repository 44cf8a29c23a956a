/** A structured logger; each call writes one record. */
export interface Logger {
  info(record: Record<string, unknown>): void
  warn(record: Record<string, unknown>): void
  error(record: Record<string, unknown>): void
}

let stdoutWriter: ((line: string) => void) | undefined

/**
 * Returns the shared writer to stdout. It batches lines and writes them
 * once per event-loop turn, because stdout writes to files and pipes are
 * synchronous and one per request costs a busy server about 15% of its
 * throughput. Lines still pending are written when the process exits.
 */
function batchedStdout(): (line: string) => void {
  if (stdoutWriter) return stdoutWriter

  let pending: string[] = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (pending.length === 0) return
    const text = pending.join('')
    pending = []
    process.stdout.write(text)
  }
  process.once('exit', flush)
  stdoutWriter = (line) => {
    pending.push(line)
    if (scheduled) return
    scheduled = true
    setImmediate(flush)
  }
  return stdoutWriter
}

/**
 * Writes each record as one JSON line with `time` and `level` first, to
 * `write` or, by default, to stdout in batches.
 */
export function jsonLogger(
  write: (line: string) => void = batchedStdout(),
  now: () => number = Date.now,
): Logger {
  const log = (level: string) => (record: Record<string, unknown>) => {
    write(JSON.stringify({
      time: new Date(now()).toISOString(),
      level,
      ...record,
    }) + '\n')
  }
  return { info: log('info'), warn: log('warn'), error: log('error') }
}

/** A logger that drops every record, for tests and quiet embedding. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
}

/** Describes an error for a log record: name, message and stack, no data. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) }
  return { name: error.name, message: error.message, stack: error.stack }
}
