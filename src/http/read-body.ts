import type { IncomingMessage } from 'node:http'
import {
  badRequest,
  payloadTooLarge,
  unsupportedEncoding,
  unsupportedMediaType,
} from './errors.ts'

// Deeper JSON is rejected before JSON.parse, because parsing millions of
// nested arrays costs seconds of event-loop time and no route needs it.
const MAX_JSON_DEPTH = 64
const OPEN_BRACKET = 0x5b
const OPEN_BRACE = 0x7b
const CLOSE_BRACKET = 0x5d
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Returns the media type of a request, lower-cased, without parameters. */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'] ?? ''
  return (header.split(';')[0] ?? '').trim().toLowerCase()
}

/**
 * Rejects with 415 a body this server cannot decode: any `Content-Encoding`
 * other than identity, or a `charset` parameter other than UTF-8 (bodies
 * are always read as UTF-8, so another charset would be misread).
 */
export function requireUtf8Identity(req: IncomingMessage): void {
  const encoding = (req.headers['content-encoding'] ?? 'identity')
    .trim().toLowerCase()
  if (encoding !== 'identity') {
    throw unsupportedEncoding('HTTP_CONTENT_ENCODING_UNSUPPORTED',
      `Content-Encoding "${encoding}" is not supported; send the body ` +
      'uncompressed')
  }

  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i
    .exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase()
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw unsupportedEncoding('HTTP_CHARSET_UNSUPPORTED',
      `charset "${charset}" is not supported; send UTF-8`)
  }
}

/**
 * Reads the whole body, rejecting with 413 as soon as it passes `maxBytes`
 * (from `Content-Length` before reading, or while streaming).
 */
export async function readBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Buffer> {
  requireUtf8Identity(req)
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
  requireShallowJson(body)
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

/** Throws 400 when arrays and objects nest deeper than MAX_JSON_DEPTH. */
function requireShallowJson(body: Buffer): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]
    if (inString) {
      if (byte === BACKSLASH) i++
      else if (byte === QUOTE) inString = false
      continue
    }
    if (byte === QUOTE) {
      inString = true
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++
      if (depth > MAX_JSON_DEPTH) {
        throw badRequest('HTTP_BODY_INVALID',
          `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels`)
      }
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--
    }
  }
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw badRequest('HTTP_BODY_INVALID', 'The body is not valid UTF-8')
  }
}
