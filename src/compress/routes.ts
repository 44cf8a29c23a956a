import type {
  OperationDoc,
  Reply,
  RequestContext,
  Route,
} from '../http/context.ts'
import { contentTooLarge, unprocessable } from '../http/errors.ts'
import { readJson, requireObject } from '../http/read-body.ts'
import type { AppServices } from '../services.ts'
import { countCodePoints } from './code-points.ts'
import { compress, decompress } from './rle.ts'
import { ZLIB_ALGORITHMS, zlibCompress, zlibDecompress } from './zlib-codecs.ts'

const ALGORITHMS = ['rle', ...ZLIB_ALGORITHMS] as const

type Algorithm = typeof ALGORITHMS[number]

// The limit applies to the UTF-8 size of `text` and is checked after
// parsing. JSON escaping can make a string 6 times its UTF-8 size, because
// a control character becomes `\u0001`, and the RLE output of such text 7
// times. So the body may be 8 times the limit, plus 1 KiB for the other
// members.
// NOTE: a request may buffer up to 8 times MAX_TEXT_BYTES, and concurrent
// requests are not limited.
const BODY_FACTOR = 8
const ENVELOPE_BYTES = 1024

/** Builds the two string compression routes, which need no token. */
export function compressRoutes(services: AppServices): Route[] {
  const { maxTextBytes } = services.config
  return [
    {
      method: 'POST',
      path: '/compress-string',
      handler: (context) => compressText(context, maxTextBytes),
      doc: compressDoc,
    },
    {
      method: 'POST',
      path: '/decompress-string',
      handler: (context) => decompressText(context, maxTextBytes),
      doc: decompressDoc,
    },
  ]
}

async function compressText(
  context: RequestContext,
  maxTextBytes: number,
): Promise<Reply> {
  const body = await readFields(context, maxTextBytes)
  const algorithm = readAlgorithm(body)
  const text = readString(body, 'text')
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > maxTextBytes) {
    throw contentTooLarge('COMPRESS_TEXT_TOO_LARGE',
      `text is ${bytes} bytes of UTF-8, over the limit of ${maxTextBytes}`)
  }

  const compressed = algorithm === 'rle'
    ? compress(text)
    : await zlibCompress(algorithm, text)

  const originalLength = countCodePoints(text)
  const compressedLength = countCodePoints(compressed)
  return {
    status: 200,
    body: {
      algorithm,
      compressed,
      original_length: originalLength,
      compressed_length: compressedLength,
      ratio: originalLength === 0 ? 0 : compressedLength / originalLength,
    },
  }
}

async function decompressText(
  context: RequestContext,
  maxTextBytes: number,
): Promise<Reply> {
  const body = await readFields(context, maxTextBytes)
  const algorithm = readAlgorithm(body)
  const encoded = readString(body, 'compressed')

  const options = { maxBytes: maxTextBytes }
  const text = algorithm === 'rle'
    ? decompress(encoded, options)
    : await zlibDecompress(algorithm, encoded, options)
  return { status: 200, body: { text } }
}

async function readFields(
  context: RequestContext,
  maxTextBytes: number,
): Promise<Record<string, unknown>> {
  const limit = maxTextBytes * BODY_FACTOR + ENVELOPE_BYTES
  return requireObject(await readJson(context.req, limit))
}

function readAlgorithm(body: Record<string, unknown>): Algorithm {
  const value = body.algorithm
  if (value === undefined) return 'rle'
  if (ALGORITHMS.includes(value as Algorithm)) return value as Algorithm

  const message = `algorithm must be one of ${ALGORITHMS.join(', ')}`
  throw unprocessable('COMPRESS_ALGORITHM_UNKNOWN', message, {
    errors: [{ field: 'algorithm', message }],
    extensions: { algorithms: [...ALGORITHMS] },
  })
}

function readString(body: Record<string, unknown>, field: string): string {
  const value = body[field]
  if (typeof value === 'string') return value

  const message = value === undefined
    ? `${field} is missing`
    : `${field} must be a string`
  throw unprocessable('COMPRESS_FIELD_INVALID', message, {
    errors: [{ field, message }],
  })
}

const problem = { $ref: '#/components/schemas/Problem' }

function problemResponse(description: string): Record<string, unknown> {
  return {
    description,
    content: { 'application/problem+json': { schema: problem } },
  }
}

const algorithmSchema = {
  type: 'string',
  enum: [...ALGORITHMS],
  default: 'rle',
  description: 'rle output is text, and gzip, deflate and brotli base64',
}

const compressDoc: OperationDoc = {
  summary: 'Compress a string; needs no token',
  description: 'Run-length encoding over code points: each run is the ' +
    'character and its decimal count, and digits and backslashes in the ' +
    'text are escaped with a backslash ("aaab1" -> "a3b1\\11"). Lengths ' +
    'are in code points; ratio is compressed_length / original_length, ' +
    '0 for empty text. The text may be MAX_TEXT_BYTES of UTF-8.',
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['text'],
          properties: { text: { type: 'string' }, algorithm: algorithmSchema },
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The compressed string',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              algorithm: algorithmSchema,
              compressed: { type: 'string' },
              original_length: { type: 'integer' },
              compressed_length: { type: 'integer' },
              ratio: { type: 'number' },
            },
          },
        },
      },
    },
    400: problemResponse('The body is not JSON or not an object'),
    413: problemResponse('text is over MAX_TEXT_BYTES of UTF-8'),
    415: problemResponse('Content-Type is not application/json'),
    422: problemResponse('text is missing, not a string or has a lone ' +
      'surrogate, or the algorithm is unknown'),
  },
}

const decompressDoc: OperationDoc = {
  summary: 'Decompress a string from /compress-string; needs no token',
  description: 'Malformed run-length input is a 422 whose `position` is ' +
    'the 0-based code point index of the fault. A decoded text over ' +
    'MAX_TEXT_BYTES of UTF-8 is a 422 found before the text is built.',
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['compressed'],
          properties: {
            compressed: { type: 'string' },
            algorithm: algorithmSchema,
          },
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The original text',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { text: { type: 'string' } },
          },
        },
      },
    },
    400: problemResponse('The body is not JSON or not an object'),
    413: problemResponse('The body is over 8 * MAX_TEXT_BYTES + 1 KiB'),
    415: problemResponse('Content-Type is not application/json'),
    422: problemResponse('compressed is missing or malformed, decodes to ' +
      'more than MAX_TEXT_BYTES, or the algorithm is unknown'),
  },
}
