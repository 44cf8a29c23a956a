import type { Route } from './http/context.ts'

/** `GET /health` and `GET /openapi.json`; the document is built once. */
export function healthRoutes(openApi: () => unknown): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      handler: async () => ({ status: 200, body: { status: 'ok' } }),
      doc: {
        summary: 'Liveness check; needs no token',
        responses: { 200: { description: '{"status":"ok"}' } },
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      handler: async () => ({ status: 200, body: openApi() }),
      doc: {
        summary: 'This OpenAPI document',
        responses: { 200: { description: 'OpenAPI 3.1 document' } },
      },
    },
  ]
}
