import type { IncomingMessage } from 'node:http'
import {
  badRequest,
  HttpError,
  payloadTooLarge,
  unsupportedMediaType,
} from '../http/errors.ts'
import { MultipartReader, multipartBoundary } from '../http/multipart.ts'
import { mediaType, requireUtf8Identity } from '../http/read-body.ts'
import { BatchBuilder, type StagedUpload } from './batch-builder.ts'
import { CsvParser } from './csv-parser.ts'
import { MIN_ROW_BYTES } from './row-rules.ts'

/** The request content types an upload may have. */
export const UPLOAD_TYPES = ['multipart/form-data', 'text/csv']

/** The form field that carries the CSV file in a multipart upload. */
export const FILE_FIELD = 'file'

export interface IntakeOptions {
  maxBytes: number
  /** Stage the valid rows even after an invalid one (`on_error=skip`). */
  keepValidRows: boolean
  maxErrors?: number
}

interface BodyReader {
  push(chunk: Buffer): void
  end(): void
}

/**
 * Streams an upload's body through the CSV parser into a staged batch, as
 * the bytes arrive. Throws 415 for another content type, 413 past
 * `maxBytes`, 400 for a malformed multipart body and 422 for a CSV that
 * cannot be read at all. Rows that break a rule are only counted and
 * listed in the result.
 */
export async function stageUpload(
  req: IncomingMessage,
  options: IntakeOptions,
): Promise<StagedUpload> {
  const type = mediaType(req)
  if (!UPLOAD_TYPES.includes(type)) throw unsupportedMediaType(UPLOAD_TYPES)
  requireUtf8Identity(req)
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    throw payloadTooLarge(options.maxBytes)
  }

  const builder = new BatchBuilder({
    keepValidRows: options.keepValidRows,
    maxErrors: options.maxErrors,
    maxRows: Math.floor(options.maxBytes / MIN_ROW_BYTES) + 1,
  })
  const csv = new CsvParser(builder)
  const reader = type === 'text/csv'
    ? csv
    : formFileReader(req.headers['content-type'] ?? '', csv)

  await pump(req, reader, options.maxBytes)
  return builder.finish()
}

// Feeds the body to `reader`, counting bytes against the limit.
async function pump(
  req: IncomingMessage,
  reader: BodyReader,
  maxBytes: number,
): Promise<void> {
  let total = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > maxBytes) throw payloadTooLarge(maxBytes)
    reader.push(chunk)
  }
  reader.end()
}

// Reads a multipart body and sends the bytes of its one `file` part to
// `csv`; other parts are skipped.
function formFileReader(contentType: string, csv: CsvParser): BodyReader {
  let files = 0
  const multipart = new MultipartReader(multipartBoundary(contentType),
    (part) => {
      if (part.name !== FILE_FIELD) return undefined
      files++
      if (files > 1) {
        throw badRequest('UPLOAD_FILE_REPEATED',
          `The form has more than one "${FILE_FIELD}" part; send one file`)
      }
      return (data) => csv.push(data)
    })

  return {
    push: (chunk) => multipart.push(chunk),
    end: () => {
      multipart.end()
      if (files === 0) {
        throw badRequest('UPLOAD_FILE_MISSING',
          `The form has no "${FILE_FIELD}" part; send the CSV file in a ` +
          `field named ${FILE_FIELD}`)
      }
      csv.end()
    },
  }
}

/**
 * Returns `error` with `Connection: close` added, for an error raised
 * before the request body was read to its end: the rest of the body is
 * then not read, and must not be taken as the next request.
 */
export function closingConnection(error: unknown): unknown {
  if (!(error instanceof HttpError)) return error
  if (error.headers.connection === 'close') return error
  return new HttpError(error.status, error.code, error.title, {
    detail: error.detail,
    errors: error.errors,
    headers: { ...error.headers, connection: 'close' },
    extensions: error.extensions,
    cause: error.cause,
  })
}
