/** A structured logger; each call writes one record. */
export interface Logger {
  info(record: Record<string, unknown>): void
  warn(record: Record<string, unknown>): void
  error(record: Record<string, unknown>): void
}

/** Writes each record as one JSON line with `time` and `level` first. */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
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
