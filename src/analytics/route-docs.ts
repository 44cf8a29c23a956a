import type { OperationDoc } from '../http/context.ts'
import { problemResponse as problem } from '../openapi.ts'

/** OpenAPI operation objects of the analytics routes. */

const money = {
  type: 'number',
  description: 'Amount rounded half-up to 2 decimals',
}

const dateParams = [
  {
    name: 'from',
    in: 'query',
    description: 'First day of the range, inclusive, or open when left out',
    schema: { type: 'string', format: 'date' },
  },
  {
    name: 'to',
    in: 'query',
    description: 'Last day of the range, inclusive, or open when left out',
    schema: { type: 'string', format: 'date' },
  },
]

const errorResponses = {
  401: problem('Missing, invalid or expired token'),
  403: problem('The token is not an admin\'s'),
  422: problem('A query parameter is invalid or given more than once; ' +
    '`errors[0].field` names it'),
}

const json = (schema: Record<string, unknown>, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const summaryDoc: OperationDoc = {
  summary: 'Total, count and average order value of the sales in a range',
  security: [{ bearerAuth: [] }],
  parameters: dateParams,
  responses: {
    200: json({
      type: 'object',
      properties: {
        total_sales: money,
        total_transactions: { type: 'integer' },
        average_order_value: money,
      },
    }, 'Totals; all three are 0 when the range has no sales'),
    ...errorResponses,
  },
}

export const topCustomersDoc: OperationDoc = {
  summary: 'Customers with the highest total sales, ties by name',
  security: [{ bearerAuth: [] }],
  parameters: [
    {
      name: 'limit',
      in: 'query',
      schema: { type: 'integer', minimum: 1, maximum: 1000, default: 3 },
    },
    ...dateParams,
  ],
  responses: {
    200: json({
      type: 'object',
      properties: {
        limit: { type: 'integer' },
        customers: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              rank: { type: 'integer', minimum: 1 },
              customer_name: { type: 'string' },
              total_sales: money,
              transaction_count: { type: 'integer' },
            },
          },
        },
      },
    }, 'At most `limit` customers, highest total first'),
    ...errorResponses,
  },
}

export const byDateDoc: OperationDoc = {
  summary: 'Sales of a date range sorted by date, one page at a time',
  description: 'The totals cover the whole range and the list one page. ' +
    'With `group=day` the list is `days`, one entry per day with sales, ' +
    'instead of `sales`, and `limit`/`offset` page through the days.',
  security: [{ bearerAuth: [] }],
  parameters: [
    ...dateParams,
    {
      name: 'limit',
      in: 'query',
      schema: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
    },
    {
      name: 'offset',
      in: 'query',
      schema: { type: 'integer', minimum: 0, default: 0 },
    },
    {
      name: 'group',
      in: 'query',
      schema: { type: 'string', enum: ['day'] },
    },
  ],
  responses: {
    200: json({
      type: 'object',
      properties: {
        from: { type: ['string', 'null'], format: 'date' },
        to: { type: ['string', 'null'], format: 'date' },
        total_sales: money,
        total_transactions: { type: 'integer' },
        sales: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              customer_name: { type: 'string' },
              amount: money,
              date: { type: 'string', format: 'date' },
            },
          },
        },
        days: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              date: { type: 'string', format: 'date' },
              total_sales: money,
              transaction_count: { type: 'integer' },
            },
          },
        },
        limit: { type: 'integer' },
        offset: { type: 'integer' },
        next_offset: {
          type: ['integer', 'null'],
          description: 'Offset of the next page, or null on the last page',
        },
      },
    }, 'One page of the range'),
    ...errorResponses,
  },
}
