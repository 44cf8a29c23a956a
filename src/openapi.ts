import type { Route } from './http/context.ts'

/** Builds an OpenAPI response object for a problem+json error. */
export function problemResponse(description: string): Record<string, unknown> {
  return {
    description,
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
      },
    },
  }
}

/** Builds the OpenAPI 3.1 document from the routes the app serves. */
export function buildOpenApi(routes: Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}')
    paths[path] ??= {}
    paths[path][route.method.toLowerCase()] = route.doc
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sales analytics server',
      version: '0.1.0',
      description: 'Accounts with roles, CSV sales upload, analytics and ' +
        'string compression. Errors are RFC 9457 problem details.',
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string' },
            errors: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
    paths,
  }
}
