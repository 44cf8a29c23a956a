/** A structured logger; each call writes one record. */
export interface Logger {
  info(record: Record<string, unknown>): void
  warn(record: Record<string, unknown>): void
  error(record: Record<string, unknown>): void
}

let stdoutWriter: ((line: string) => void) | undefined

// Lines are held at most this long, or until this many bytes are pending.
const FLUSH_DELAY_MS = 50
const FLUSH_BYTES = 64 * 1024

/**
 * Returns the shared writer to stdout. It batches lines and writes them
 * every 50 ms or 64 KiB, because stdout writes to files and pipes are
 * synchronous and one per request costs a busy server about 15% of its
 * throughput. Lines still pending are written when the process exits.
 */
function batchedStdout(): (line: string) => void {
  if (stdoutWriter) return stdoutWriter

  let pending: string[] = []
  let pendingBytes = 0
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (pending.length === 0) return
    const text = pending.join('')
    pending = []
    pendingBytes = 0
    process.stdout.write(text)
  }
  process.once('exit', flush)
  stdoutWriter = (line) => {
    pending.push(line)
    pendingBytes += line.length
    if (pendingBytes >= FLUSH_BYTES) {
      flush()
      return
    }
    timer ??= setTimeout(flush, FLUSH_DELAY_MS).unref()
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
  // A busy server logs many lines per millisecond, so the formatted time is
  // reused until the clock moves on.
  let lastMillis = Number.NaN
  let lastTime = ''
  const timeNow = () => {
    const millis = now()
    if (millis !== lastMillis) {
      lastMillis = millis
      lastTime = new Date(millis).toISOString()
    }
    return lastTime
  }

  const log = (level: string) => (record: Record<string, unknown>) => {
    const head = `{"time":"${timeNow()}","level":"${level}"`
    const rest = JSON.stringify(record)
    write(rest === '{}' ? `${head}}\n` : `${head},${rest.slice(1)}\n`)
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
