import type { IncomingMessage, ServerResponse } from 'node:http'

/** Request state passed to a handler for one request. */
export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  params: Record<string, string>
  requestId: string
  /** Set by the auth guard so the request log can name the user. */
  userId?: string
}

/** A JSON response for the app to send; the app adds the common headers. */
export interface Reply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

export type Handler = (context: RequestContext) => Promise<Reply>

/** An OpenAPI 3.1 operation object, kept beside the route it describes. */
export type OperationDoc = Record<string, unknown>

/** One route: method, path pattern, handler and its OpenAPI description. */
export interface Route {
  method: string
  path: string
  handler: Handler
  doc: OperationDoc
}
