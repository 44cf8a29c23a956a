import { randomUUID } from 'node:crypto'
import {
  createServer,
  STATUS_CODES,
  type RequestListener,
  type Server,
} from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../logger.ts'

/**
 * Timeouts that stop slow clients from holding connections. The request
 * timeout is long because a 100 MiB upload over a slow link takes minutes.
 * A connection that sends nothing for `idleTimeout` is closed sooner.
 */
export const serverTimeouts = {
  headersTimeout: 10_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
  idleTimeout: 30_000,
  /** How often Node checks the header and request timeouts. */
  checkInterval: 1_000,
}

export interface HttpServerOptions {
  /** Receives one record per request that Node's HTTP parser rejected. */
  logger?: Logger
}

/**
 * Creates a `node:http` server for `handler` with the timeouts set. Requests
 * that Node's parser rejects (bad method, bad header, oversized headers) get
 * a problem document instead of a bare status.
 */
export function createHttpServer(
  handler: RequestListener,
  options: HttpServerOptions = {},
): Server {
  const server = createServer({
    headersTimeout: serverTimeouts.headersTimeout,
    requestTimeout: serverTimeouts.requestTimeout,
    keepAliveTimeout: serverTimeouts.keepAliveTimeout,
    connectionsCheckingInterval: serverTimeouts.checkInterval,
  }, handler)
  server.timeout = serverTimeouts.idleTimeout
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    rejectMalformedRequest(error, socket, options.logger)
  })
  return server
}

function rejectMalformedRequest(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  logger: Logger | undefined,
): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }

  const status = clientErrorStatus(error.code)
  const requestId = randomUUID()
  const body = JSON.stringify({
    type: 'urn:problem:http-request-malformed',
    title: STATUS_CODES[status],
    status,
    detail: status === 408
      ? 'The request was not received in time'
      : 'The request could not be parsed as HTTP/1.1',
    code: 'HTTP_REQUEST_MALFORMED',
  })
  socket.end([
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/problem+json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'connection: close',
    '',
    body,
  ].join('\r\n'))
  logger?.info({
    message: 'request rejected by the HTTP parser',
    request_id: requestId,
    status,
    parser_code: error.code,
  })
}

function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408
  return 400
}

/**
 * Stops accepting connections, lets requests in flight finish, closes idle
 * keep-alive sockets and resolves once the server is closed.
 */
export function closeGracefully(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()))
    server.closeIdleConnections()
  })
}
