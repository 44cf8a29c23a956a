/** One entry of a problem's `errors` list: the field or line at fault and why. */
export interface ProblemItem {
  field?: string
  line?: number
  column?: string
  value?: string
  message: string
}

export interface HttpErrorOptions {
  detail?: string
  errors?: ProblemItem[]
  headers?: Record<string, string>
  /** Extra members merged into the problem body, e.g. `errors_truncated`. */
  extensions?: Record<string, unknown>
  cause?: unknown
}

/**
 * An error that maps to one HTTP response. `code` is stable and machine
 * readable (`AREA_WHAT`); `detail` is safe to show to the client.
 */
export class HttpError extends Error {
  readonly status: number
  readonly code: string
  readonly title: string
  readonly detail: string
  readonly errors: ProblemItem[] | undefined
  readonly headers: Record<string, string>
  readonly extensions: Record<string, unknown>

  constructor(
    status: number,
    code: string,
    title: string,
    options: HttpErrorOptions = {},
  ) {
    super(options.detail ?? title, { cause: options.cause })
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.title = title
    this.detail = options.detail ?? title
    this.errors = options.errors
    this.headers = options.headers ?? {}
    this.extensions = options.extensions ?? {}
  }
}

export function badRequest(
  code: string,
  detail: string,
  options: HttpErrorOptions = {},
): HttpError {
  return new HttpError(400, code, 'Bad Request', { ...options, detail })
}

/**
 * 401 with the `WWW-Authenticate` challenge that RFC 6750 requires. Only a
 * token that was sent and rejected gets `error="invalid_token"`.
 */
export function unauthorized(code: string, detail: string): HttpError {
  const rejectedToken = code.startsWith('AUTH_TOKEN_') &&
    code !== 'AUTH_TOKEN_MISSING'
  const challenge = rejectedToken
    ? 'Bearer realm="sales", error="invalid_token"'
    : 'Bearer realm="sales"'
  return new HttpError(401, code, 'Unauthorized', {
    detail,
    headers: { 'www-authenticate': challenge },
  })
}

export function forbidden(code: string, detail: string): HttpError {
  return new HttpError(403, code, 'Forbidden', { detail })
}

export function notFound(detail: string): HttpError {
  return new HttpError(404, 'HTTP_NOT_FOUND', 'Not Found', { detail })
}

export function methodNotAllowed(method: string, allow: string[]): HttpError {
  return new HttpError(405, 'HTTP_METHOD_NOT_ALLOWED', 'Method Not Allowed', {
    detail: `${method} is not allowed here; use ${allow.join(', ')}`,
    headers: { allow: allow.join(', ') },
  })
}

export function conflict(code: string, detail: string): HttpError {
  return new HttpError(409, code, 'Conflict', { detail })
}

/**
 * 413. The connection is closed after the response because the rest of the
 * body was not read and must not be parsed as the next request.
 */
export function payloadTooLarge(limitBytes: number): HttpError {
  return new HttpError(413, 'HTTP_BODY_TOO_LARGE', 'Content Too Large', {
    detail: `The request body is larger than the limit of ${limitBytes} bytes`,
    headers: { connection: 'close' },
  })
}

/** 413 for a value over its size limit in a body that was read whole. */
export function contentTooLarge(code: string, detail: string): HttpError {
  return new HttpError(413, code, 'Content Too Large', { detail })
}

export function unsupportedMediaType(accepted: string[]): HttpError {
  return new HttpError(415, 'HTTP_UNSUPPORTED_MEDIA_TYPE',
    'Unsupported Media Type', {
      detail: `Content-Type must be one of: ${accepted.join(', ')}`,
      headers: { accept: accepted.join(', ') },
    })
}

/**
 * 415 for a body the server cannot decode: a `Content-Encoding` other than
 * identity, or a `charset` other than UTF-8.
 */
export function unsupportedEncoding(code: string, detail: string): HttpError {
  return new HttpError(415, code, 'Unsupported Media Type', {
    detail,
    headers: { 'accept-encoding': 'identity' },
  })
}

export function unprocessable(
  code: string,
  detail: string,
  options: HttpErrorOptions = {},
): HttpError {
  return new HttpError(422, code, 'Unprocessable Content', {
    ...options,
    detail,
  })
}

export function tooManyRequests(
  detail: string,
  retryAfterSeconds: number,
): HttpError {
  return new HttpError(429, 'AUTH_TOO_MANY_ATTEMPTS', 'Too Many Requests', {
    detail,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  })
}

/** 503 with `Retry-After`, for work the server is too busy to start now. */
export function serviceUnavailable(
  code: string,
  detail: string,
  retryAfterSeconds: number,
): HttpError {
  return new HttpError(503, code, 'Service Unavailable', {
    detail,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  })
}
