import type { IncomingMessage } from 'node:http'
import { unauthorized, type HttpError } from '../http/errors.ts'

// RFC 6750: the scheme is case-insensitive and is followed by one or more
// spaces and a single token68 value.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

// The word "Bearer" alone or before a space, whatever follows it.
const BEARER_SCHEME = /^bearer(?: |$)/i

/**
 * Returns the token of the request's `Authorization: Bearer` header, or
 * `undefined` without the header. Throws a 401 `HttpError` for a repeated
 * header, another scheme or a malformed token.
 */
export function readBearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  if (header === undefined) return undefined
  // `req.headers` keeps only the first of repeated Authorization headers,
  // so a second one would otherwise go unchecked. Scanning `rawHeaders` is
  // much cheaper than `headersDistinct`, which copies every header.
  const values = authorizationValues(req.rawHeaders)
  if (values.length > 1) throw repeatedHeader(values)

  const match = BEARER.exec(header)
  if (match) return match[1] as string
  if (!BEARER_SCHEME.test(header)) throw unsupportedScheme()
  throw unauthorized('AUTH_TOKEN_INVALID',
    'The Authorization header must be "Bearer <token>"')
}

function authorizationValues(rawHeaders: string[]): string[] {
  const values: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      values.push(rawHeaders[i + 1] as string)
    }
  }
  return values
}

function repeatedHeader(values: string[]): HttpError {
  if (!values.some((value) => BEARER_SCHEME.test(value))) {
    return unsupportedScheme()
  }
  return unauthorized('AUTH_TOKEN_INVALID',
    `Send one Authorization header; this request has ${values.length}`)
}

// RFC 6750, section 3.1: a request that carries no bearer token, such as
// one with Basic credentials, gets a challenge without an error code. The
// `AUTH_TOKEN_` prefix is what adds `error="invalid_token"`, so this code
// must not have it.
function unsupportedScheme(): HttpError {
  return unauthorized('AUTH_SCHEME_UNSUPPORTED',
    'The Authorization header must use the Bearer scheme: "Bearer <token>"')
}
