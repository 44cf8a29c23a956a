import type { OperationDoc, Reply, RequestContext, Route } from '../http/context.ts'
import { unprocessable } from '../http/errors.ts'
import { choiceParam } from '../http/query.ts'
import { problemResponse as problem } from '../openapi.ts'
import type { AppServices } from '../services.ts'
import type { StagedUpload } from './batch-builder.ts'
import { closingConnection, FILE_FIELD, stageUpload } from './upload-intake.ts'

const ON_ERROR = ['reject', 'skip'] as const
/** How many row errors a response lists; the rest are only counted. */
export const MAX_LISTED_ERRORS = 100

/**
 * `POST /upload-sales` (multipart field `file`, or a raw `text/csv` body)
 * and `DELETE /sales`, for admins only. An upload is validated whole into
 * a staged batch and then appended in one step, so it lands entirely or
 * not at all.
 */
export function uploadRoutes(services: AppServices): Route[] {
  return [
    {
      method: 'POST',
      path: '/upload-sales',
      handler: (context) => uploadSales(services, context),
      doc: uploadDoc,
    },
    {
      method: 'DELETE',
      path: '/sales',
      handler: (context) => clearSales(services, context),
      doc: clearDoc,
    },
  ]
}

async function uploadSales(
  services: AppServices,
  context: RequestContext,
): Promise<Reply> {
  let staged: StagedUpload
  let skip: boolean
  try {
    await services.guards.requireAdmin(context)
    skip = choiceParam(context.url.searchParams, 'on_error', ON_ERROR) === 'skip'
    staged = await stageUpload(context.req, {
      maxBytes: services.config.maxUploadBytes,
      keepValidRows: skip,
      maxErrors: MAX_LISTED_ERRORS,
    })
  } catch (error) {
    throw context.req.complete ? error : closingConnection(error)
  }
  if (staged.errorCount > 0 && !skip) throw rowsInvalid(staged)

  // The store takes ownership of the batch, so only the counts and errors
  // of `staged` are read from here on.
  const result = await services.sales.append(staged.batch)
  return {
    status: 201,
    body: {
      upload_id: result.uploadId,
      rows_inserted: result.rowsInserted,
      rows_skipped: staged.rowsSkipped,
      errors: staged.errors,
      errors_omitted: staged.errorCount - staged.errors.length,
      total_transactions: result.totalTransactions,
    },
  }
}

function rowsInvalid(staged: StagedUpload): Error {
  const count = staged.rowsSkipped
  const rows = count === 1 ? '1 row is' : `${count} rows are`
  const fix = count === 1 ? 'fix it' : 'fix them'
  return unprocessable('CSV_ROWS_INVALID',
    `${rows} invalid, so nothing was stored; ${fix}, or upload with ` +
    '?on_error=skip to store the valid rows', {
      errors: staged.errors,
      extensions: {
        errors_omitted: staged.errorCount - staged.errors.length,
        rows_invalid: staged.rowsSkipped,
      },
    })
}

async function clearSales(
  services: AppServices,
  context: RequestContext,
): Promise<Reply> {
  await services.guards.requireAdmin(context)
  await services.sales.clear()
  return { status: 200, body: { total_transactions: 0 } }
}

const rowError = {
  type: 'object',
  properties: {
    line: { type: 'integer', description: 'Line where the record starts' },
    column: { type: 'string' },
    value: { type: 'string' },
    message: { type: 'string' },
  },
}

const uploadDoc: OperationDoc = {
  summary: 'Upload sales from a CSV file with columns customer_name, ' +
    'amount and date',
  description: 'The file is parsed as it arrives and validated whole ' +
    'before anything is stored. Any invalid row rejects the upload with ' +
    '422, unless on_error=skip, which stores the valid rows and lists the ' +
    `others. At most ${MAX_LISTED_ERRORS} errors are listed; ` +
    'errors_omitted counts the rest.',
  security: [{ bearerAuth: [] }],
  parameters: [{
    name: 'on_error',
    in: 'query',
    description: 'reject (default): any invalid row rejects the file; ' +
      'skip: store the valid rows',
    schema: { type: 'string', enum: [...ON_ERROR] },
  }],
  requestBody: {
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: [FILE_FIELD],
          properties: { [FILE_FIELD]: { type: 'string', format: 'binary' } },
        },
      },
      'text/csv': { schema: { type: 'string' } },
    },
  },
  responses: {
    201: {
      description: 'Stored',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              upload_id: { type: 'string' },
              rows_inserted: { type: 'integer' },
              rows_skipped: { type: 'integer' },
              errors: { type: 'array', items: rowError },
              errors_omitted: { type: 'integer' },
              total_transactions: { type: 'integer' },
            },
          },
        },
      },
    },
    400: problem('Malformed multipart body, or no or two file parts'),
    401: problem('Missing, invalid or expired token'),
    403: problem('The token is not an admin\'s'),
    413: problem('The body is larger than MAX_UPLOAD_BYTES'),
    415: problem('Content-Type is not multipart/form-data or text/csv'),
    422: problem('Invalid on_error, header, encoding, CSV syntax or rows; ' +
      'nothing was stored'),
  },
}

const clearDoc: OperationDoc = {
  summary: 'Delete all sales',
  security: [{ bearerAuth: [] }],
  responses: {
    200: {
      description: '{"total_transactions":0}',
      content: { 'application/json': { schema: { type: 'object' } } },
    },
    401: problem('Missing, invalid or expired token'),
    403: problem('The token is not an admin\'s'),
  },
}
