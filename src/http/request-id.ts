import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

// Ids a client may choose: short, printable, no characters that could split
// a log line or a header.
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Returns the client's `X-Request-Id` when sane, else a new UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  if (typeof given === 'string' && SANE_ID.test(given)) return given
  return randomUUID()
}
