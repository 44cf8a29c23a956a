import { createServer, type RequestListener, type Server } from 'node:http'

/**
 * Timeouts that stop slow clients from holding connections. The request
 * timeout is long because a 100 MiB upload over a slow link takes minutes.
 */
export const serverTimeouts = {
  headersTimeout: 10_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
}

/** Creates a `node:http` server for `handler` with the timeouts set. */
export function createHttpServer(handler: RequestListener): Server {
  const server = createServer({
    headersTimeout: serverTimeouts.headersTimeout,
    requestTimeout: serverTimeouts.requestTimeout,
    keepAliveTimeout: serverTimeouts.keepAliveTimeout,
  }, handler)
  return server
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
