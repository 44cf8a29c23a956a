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

const JSON_TYPE = 'application/json'
const FORM_TYPE = 'application/x-www-form-urlencoded'

/**
 * Reads and parses an `application/json` body. Throws 415 for another
 * content type, 413 past `maxBytes` and 400 for text that is not JSON.
 */
export async function readJson(
  req: IncomingMessage,
  maxBytes: number,
): Promise<unknown> {
  if (mediaType(req) !== JSON_TYPE) throw unsupportedMediaType([JSON_TYPE])
  return parseJson(await readBody(req, maxBytes))
}

/**
 * Reads a JSON object or an `application/x-www-form-urlencoded` body into a
 * null-prototype record. Throws 415 for another content type, 413 past
 * `maxBytes`, and 400 for a malformed body or a JSON value that is not an
 * object.
 */
export async function readFields(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const type = mediaType(req)
  if (type === JSON_TYPE) {
    return requireObject(parseJson(await readBody(req, maxBytes)))
  }
  if (type === FORM_TYPE) return parseForm(await readBody(req, maxBytes))
  throw unsupportedMediaType([JSON_TYPE, FORM_TYPE])
}

/** Parses a UTF-8 JSON body; throws 400 with a generic detail on failure. */
export function parseJson(body: Buffer): unknown {
  const text = decodeUtf8(body)
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

/**
 * Parses an `application/x-www-form-urlencoded` body into a null-prototype
 * record of strings. Throws 400 when a name appears twice, because OAuth 2.0
 * (RFC 6749, section 3.2) forbids repeated parameters and either choice
 * would be a guess.
 */
export function parseForm(body: Buffer): Record<string, string> {
  const fields = Object.create(null) as Record<string, string>
  for (const [name, value] of new URLSearchParams(decodeUtf8(body))) {
    if (name in fields) {
      throw badRequest('HTTP_BODY_INVALID',
        `The form field "${name}" appears more than once`)
    }
    fields[name] = value
  }
  return fields
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw badRequest('HTTP_BODY_INVALID', 'The body is not valid UTF-8')
  }
}
