import type { IncomingMessage } from 'node:http'
import {
  badRequest,
  payloadTooLarge,
  unsupportedMediaType,
} from './errors.ts'

/** The media type of a request, lower-cased, without parameters. */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'] ?? ''
  return (header.split(';')[0] ?? '').trim().toLowerCase()
}

/**
 * Reads the whole body, rejecting with 413 as soon as it passes `maxBytes`
 * (from `Content-Length` before reading, or while streaming).
 */
export async function readBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw payloadTooLarge(maxBytes)
  }

  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.byteLength
    if (total > maxBytes) throw payloadTooLarge(maxBytes)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, total)
}

/**
 * Reads and parses an `application/json` body. Throws 415 for another
 * content type, 413 past `maxBytes` and 400 for text that is not JSON.
 */
export async function readJson(
  req: IncomingMessage,
  maxBytes: number,
): Promise<unknown> {
  if (mediaType(req) !== 'application/json') {
    throw unsupportedMediaType(['application/json'])
  }
  return parseJson(await readBody(req, maxBytes))
}

/** Parses a UTF-8 JSON body; throws 400 with a generic detail on failure. */
export function parseJson(body: Buffer): unknown {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw badRequest('HTTP_BODY_INVALID', 'The body is not valid UTF-8')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw badRequest('HTTP_BODY_INVALID', 'The body is not valid JSON')
  }
}

/**
 * Requires the parsed body to be a JSON object (not an array or `null`) and
 * returns it with a null prototype, so keys like `__proto__` stay plain data.
 */
export function requireObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('HTTP_BODY_NOT_OBJECT', 'The body must be a JSON object')
  }
  return Object.assign(Object.create(null), value) as Record<string, unknown>
}
