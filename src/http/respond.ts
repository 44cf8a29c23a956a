import type { ServerResponse } from 'node:http'
import { HttpError } from './errors.ts'

const JSON_TYPE = 'application/json; charset=utf-8'
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'

// Sent when even the generic problem cannot be built, so error handling
// never recurses.
const FALLBACK_500 = JSON.stringify({
  type: 'urn:problem:internal-error',
  title: 'Internal Server Error',
  status: 500,
  detail: 'The server failed to handle the request',
})

/** Writes `body` as JSON with an exact `content-length`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  writeBody(res, status, JSON_TYPE, JSON.stringify(body), headers)
}

/**
 * Writes an RFC 9457 problem document for `error`. Anything that is not an
 * `HttpError` becomes a generic 500 whose body reveals nothing of the cause.
 */
export function sendProblem(
  res: ServerResponse,
  error: unknown,
  headers: Record<string, string> = {},
): void {
  const problem = error instanceof HttpError ? error : internalError()
  let body: string
  try {
    body = JSON.stringify(problemBody(problem))
  } catch {
    writeBody(res, 500, PROBLEM_TYPE, FALLBACK_500, headers)
    return
  }
  writeBody(res, problem.status, PROBLEM_TYPE, body,
    { ...problem.headers, ...headers })
}

/** Converts an HTTP error to the members of its problem document. */
export function problemBody(error: HttpError): Record<string, unknown> {
  return {
    type: `urn:problem:${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extensions,
  }
}

function internalError(): HttpError {
  return new HttpError(500, 'INTERNAL_ERROR', 'Internal Server Error', {
    detail: 'The server failed to handle the request',
  })
}

function writeBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  // A string body lets Node send the head and the body in one write; a
  // Buffer body costs a second one.
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}
