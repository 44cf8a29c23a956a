import zlib from 'node:zlib'
import { defaultConfig } from '../config.ts'
import { unprocessable, type HttpError } from '../http/errors.ts'
import { requireWellFormed } from './code-points.ts'

/** The `node:zlib` formats, each sent as base64. */
export const ZLIB_ALGORITHMS = ['gzip', 'deflate', 'brotli'] as const

export type ZlibAlgorithm = typeof ZLIB_ALGORITHMS[number]

export interface ZlibDecompressOptions {
  /** Maximum size of the decoded text in UTF-8 bytes, 1 MiB by default. */
  maxBytes?: number
}

type ZlibCall = (
  input: Buffer,
  options: zlib.ZlibOptions | zlib.BrotliOptions,
  callback: (error: Error | null, result: unknown) => void,
) => void

interface Codec {
  compress: ZlibCall
  decompress: ZlibCall
  options: (input: Buffer) => zlib.ZlibOptions | zlib.BrotliOptions
}

// Brotli's default quality 11 compressed the sample sales CSV at about
// 0.8 MB/s (Node 20, 2 cores), so one 1 MiB request would hold a
// thread-pool thread for over a second. Quality 5 ran about 50 times
// faster there, and its output was about 20% larger.
const BROTLI_QUALITY = 5

// `deflate` is the zlib format of RFC 1950, as in HTTP's
// `Content-Encoding: deflate`, and `gzip` is RFC 1952.
const codecs: Record<ZlibAlgorithm, Codec> = {
  gzip: {
    compress: zlib.gzip,
    decompress: zlib.gunzip,
    options: () => ({}),
  },
  deflate: {
    compress: zlib.deflate,
    decompress: zlib.inflate,
    options: () => ({}),
  },
  brotli: {
    compress: zlib.brotliCompress,
    decompress: zlib.brotliDecompress,
    options: (input) => ({
      params: {
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.byteLength,
      },
    }),
  },
}

// RFC 4648 section 4 with padding. The last character before `=` or `==`
// must leave the unused low bits zero, so each byte string has one form.
const BASE64 = new RegExp('^(?:[A-Za-z0-9+/]{4})*' +
  '(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$')
const NOT_BASE64 = /[^A-Za-z0-9+/=]/

/**
 * Compresses the UTF-8 bytes of `text` and returns them as base64. Throws
 * 422 `COMPRESS_LONE_SURROGATE` when the text is not valid Unicode.
 */
export async function zlibCompress(
  algorithm: ZlibAlgorithm,
  text: string,
): Promise<string> {
  requireWellFormed(text, 'text')
  const input = Buffer.from(text, 'utf8')
  const codec = codecs[algorithm]
  const output = await run(codec.compress, input, codec.options(input))
  return (output as Buffer).toString('base64')
}

/**
 * Decodes base64 from `zlibCompress` back to text. Throws 422 for invalid
 * base64, corrupt or trailing data, bytes that are not UTF-8, and a text
 * over `maxBytes`. Decompression stops as soon as it passes the limit.
 * Throws `TypeError` for an invalid `maxBytes`.
 */
export async function zlibDecompress(
  algorithm: ZlibAlgorithm,
  encoded: string,
  options: ZlibDecompressOptions = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? defaultConfig.maxTextBytes
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`maxBytes must be a positive integer, not ${maxBytes}`)
  }

  const input = decodeBase64(encoded)
  const codec = codecs[algorithm]
  const bytes = await inflate(algorithm, codec, input, maxBytes)
  try {
    // ignoreBOM keeps a leading U+FEFF, which is part of the text.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
      .decode(bytes)
  } catch {
    throw invalid('COMPRESS_UTF8_INVALID',
      `The decompressed ${algorithm} data is not valid UTF-8`)
  }
}

async function inflate(
  algorithm: ZlibAlgorithm,
  codec: Codec,
  input: Buffer,
  maxBytes: number,
): Promise<Buffer> {
  const options = { maxOutputLength: maxBytes, info: true }
  let result: { buffer: Buffer, engine: zlib.Zlib }
  try {
    result = await run(codec.decompress, input, options) as typeof result
  } catch (error) {
    if (!isZlibError(error)) throw error
    if (error.code === 'ERR_BUFFER_TOO_LARGE') {
      throw invalid('COMPRESS_OUTPUT_TOO_LARGE',
        `The decompressed text is larger than the limit of ${maxBytes} ` +
        'bytes of UTF-8')
    }
    throw invalid('COMPRESS_DATA_CORRUPT',
      `The ${algorithm} data is corrupt: ${error.message}`)
  }

  // In Node 20, inflate and brotli stop at the end of their stream and
  // ignore the rest, so bytes left over mean the input is not one stream.
  if (result.engine.bytesWritten < input.byteLength) {
    throw invalid('COMPRESS_DATA_CORRUPT',
      `The ${algorithm} data has ` +
      `${input.byteLength - result.engine.bytesWritten} bytes after its end`)
  }
  return result.buffer
}

function decodeBase64(encoded: string): Buffer {
  if (BASE64.test(encoded)) return Buffer.from(encoded, 'base64')

  const index = encoded.search(NOT_BASE64)
  const where = index === -1
    ? 'its length or padding is wrong'
    : `the character at position ${index} is not base64`
  throw invalid('COMPRESS_BASE64_INVALID',
    `compressed is not valid padded base64 (A-Z a-z 0-9 + /): ${where}`)
}

function run(
  call: ZlibCall,
  input: Buffer,
  options: zlib.ZlibOptions | zlib.BrotliOptions,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    call(input, options, (error, result) => {
      if (error) reject(error)
      else resolve(result)
    })
  })
}

function isZlibError(error: unknown): error is Error & { code: string } {
  return error instanceof Error &&
    typeof (error as { code?: unknown }).code === 'string'
}

function invalid(code: string, message: string): HttpError {
  return unprocessable(code, message, {
    errors: [{ field: 'compressed', message }],
  })
}
