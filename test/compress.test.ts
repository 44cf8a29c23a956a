import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import zlib from 'node:zlib'
import {
  compress,
  decompress,
  HttpError,
  ZLIB_ALGORITHMS,
  zlibCompress,
  zlibDecompress,
  type ZlibAlgorithm,
} from '../src/index.ts'
import { seededRandom } from './support/generate-sales.ts'
import { jsonBody, startServer } from './support/server.ts'

const JSON_TYPE = 'application/json; charset=utf-8'
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'
const MIB = 1024 * 1024

// [text, encoded, what the case covers]
const FORMAT: Array<[string, string, string]> = [
  ['', '', 'empty text'],
  ['a', 'a1', 'one character'],
  ['abc', 'a1b1c1', 'no runs'],
  ['aaabccdddd', 'a3b1c2d4', 'runs of several lengths'],
  ['z'.repeat(12), 'z12', 'a two-digit count'],
  ['b'.repeat(1000), 'b1000', 'a long run'],
  ['a111b', 'a1\\13b1', 'a run of digits'],
  ['0', '\\01', 'the digit zero'],
  ['\\', '\\\\1', 'one backslash'],
  ['\\\\\\2', '\\\\3\\21', 'backslashes before a digit'],
  ['😀😀😀', '😀3', 'an emoji is one code point'],
  ['𝄞a𝄞', '𝄞1a1𝄞1', 'astral characters between others'],
  ['👍🏽👍🏽', '👍1🏽1👍1🏽1', 'a skin-tone modifier is a code point'],
  ['e\u0301\u0301', 'e1\u03012', 'combining marks are code points'],
  ['𝟘𝟘', '𝟘2', 'a mathematical digit is not escaped'],
  ['٣٣', '٣2', 'an Arabic-Indic digit is not escaped'],
  ['\n\n\t', '\n2\t1', 'control characters'],
  ['\uFEFF', '\uFEFF1', 'a byte order mark'],
]

// [encoded, code, position in code points, defect]
const MALFORMED: Array<[string, string, number, string]> = [
  ['a', 'COMPRESS_COUNT_MISSING', 1, 'no count at the end'],
  ['ab1', 'COMPRESS_COUNT_MISSING', 1, 'no count before the next character'],
  ['😀', 'COMPRESS_COUNT_MISSING', 1, 'no count after an astral character'],
  ['😀1a', 'COMPRESS_COUNT_MISSING', 3, 'position counts code points'],
  ['3', 'COMPRESS_CHARACTER_MISSING', 0, 'a count with no character'],
  ['12a1', 'COMPRESS_CHARACTER_MISSING', 0, 'an unescaped leading digit'],
  ['a0', 'COMPRESS_COUNT_INVALID', 1, 'a zero count'],
  ['a00', 'COMPRESS_COUNT_INVALID', 1, 'a zero count with two digits'],
  ['a01', 'COMPRESS_COUNT_INVALID', 1, 'a leading zero'],
  ['b2a012', 'COMPRESS_COUNT_INVALID', 3, 'a leading zero in a later run'],
  ['\\', 'COMPRESS_ESCAPE_DANGLING', 0, 'a backslash alone'],
  ['a1\\', 'COMPRESS_ESCAPE_DANGLING', 2, 'a backslash at the end'],
  ['\\a1', 'COMPRESS_ESCAPE_NEEDLESS', 0, 'an escaped letter'],
  ['a1\\n1', 'COMPRESS_ESCAPE_NEEDLESS', 2, 'an escaped n, not a newline'],
  ['\\😀1', 'COMPRESS_ESCAPE_NEEDLESS', 0, 'an escaped emoji'],
  ['\uD8001', 'COMPRESS_LONE_SURROGATE', 0, 'a lone high surrogate'],
  ['a1\uDC001', 'COMPRESS_LONE_SURROGATE', 2, 'a lone low surrogate'],
  ['a2000000', 'COMPRESS_OUTPUT_TOO_LARGE', 1, 'a run over 1 MiB'],
  ['a' + '9'.repeat(30), 'COMPRESS_OUTPUT_TOO_LARGE', 1, 'a count past 2^53'],
  ['a600000b600000', 'COMPRESS_OUTPUT_TOO_LARGE', 8,
    'two runs over 1 MiB together'],
  ['😀300000', 'COMPRESS_OUTPUT_TOO_LARGE', 1,
    '300,000 code points of 4 bytes each'],
]

// [text, position of the first lone surrogate, defect]
const LONE_SURROGATES: Array<[string, number, string]> = [
  ['\uD800', 0, 'a high surrogate alone'],
  ['\uDC00a', 0, 'a low surrogate first'],
  ['a\uDE00\uD83D', 1, 'a pair in the wrong order'],
  ['😀\uD83D', 1, 'a high surrogate after a valid pair'],
  ['aa\uD800\uD800', 2, 'two high surrogates after a run'],
]

// [compressed, defect]
const BAD_BASE64: Array<[string, string]> = [
  ['abc', 'length not a multiple of 4'],
  ['YQ', 'padding missing'],
  ['ab!=', 'a character outside the alphabet'],
  ['YWJj\n', 'a trailing newline'],
  [' YWJj', 'a leading space'],
  ['YQ==YQ==', 'padding in the middle'],
  ['Y===', 'three padding characters'],
  ['YR==', 'unused bits set before =='],
  ['YWK=', 'unused bits set before ='],
  ['YWJj-_-_', 'the base64url alphabet'],
  ['😀😀😀😀', 'non-ASCII characters'],
]

const MIXED_TEXT = '\uFEFFSales 2024: 250.75 € ✓ 😀😀 e\u0301 \\ 北京 ' +
  'aaaaaaaaaaaaaaaaaaaa\n'.repeat(20)

// Letters, digits, backslashes, astral and combining characters, so random
// strings hit every escape and every UTF-16 width.
const ALPHABET = ['a', 'b', 'Z', '0', '1', '9', '\\', '😀', '𝄞', 'é',
  '\u0301', ' ', '\n']

function randomText(random: () => number, maxLength: number): string {
  const parts: string[] = []
  const length = Math.floor(random() * (maxLength + 1))
  while (parts.length < length) {
    const character = ALPHABET[Math.floor(random() * ALPHABET.length)] as string
    // Half of the picks become a run of 1 to 12, so counts of two digits
    // occur as well as single characters.
    const repeat = random() < 0.5 ? 1 + Math.floor(random() * 12) : 1
    for (let i = 0; i < repeat && parts.length < length; i++) {
      parts.push(character)
    }
  }
  return parts.join('')
}

function captureError(run: () => unknown): HttpError {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof HttpError, `expected an HttpError: ${error}`)
    return error
  }
  assert.fail('expected an error')
}

async function captureAsyncError(run: () => Promise<unknown>) {
  try {
    await run()
  } catch (error) {
    assert.ok(error instanceof HttpError, `expected an HttpError: ${error}`)
    return error
  }
  assert.fail('expected an error')
}

function toBase64(bytes: Buffer): string {
  return bytes.toString('base64')
}

function post(url: string, path: string, body: unknown): Promise<Response> {
  return postRaw(url, path, JSON.stringify(body))
}

function postRaw(
  url: string,
  path: string,
  body: string,
  contentType = 'application/json',
): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  })
}

async function expectProblem(
  response: Response,
  status: number,
  code: string,
  message?: string,
): Promise<any> {
  const body = await jsonBody(response)
  assert.equal(response.status, status, message)
  assert.equal(response.headers.get('content-type'), PROBLEM_TYPE, message)
  assert.equal(body.status, status, message)
  assert.equal(body.code, code, message)
  assert.equal(typeof body.detail, 'string', message)
  return body
}

async function expectJson(response: Response, message?: string) {
  assert.equal(response.status, 200, message)
  assert.equal(response.headers.get('content-type'), JSON_TYPE, message)
  return jsonBody(response)
}

describe('compress', () => {
  test('encodes the format table', () => {
    for (const [text, encoded, name] of FORMAT) {
      assert.equal(compress(text), encoded, name)
    }
  })

  test('rejects lone surrogates', () => {
    for (const [text, position, defect] of LONE_SURROGATES) {
      const error = captureError(() => compress(text))

      assert.equal(error.status, 422, defect)
      assert.equal(error.code, 'COMPRESS_LONE_SURROGATE', defect)
      assert.equal(error.extensions.position, position, defect)
      assert.equal(error.errors?.[0]?.field, 'text', defect)
    }
  })

  test('encodes a 1,000,000-character run', () => {
    const text = 'x'.repeat(1_000_000)

    const encoded = compress(text)

    assert.equal(encoded, 'x1000000')
    assert.equal(decompress(encoded), text)
  })
})

describe('decompress', () => {
  test('decodes the format table', () => {
    for (const [text, encoded, name] of FORMAT) {
      assert.equal(decompress(encoded), text, name)
    }
  })

  test('rejects malformed input with its position', () => {
    for (const [encoded, code, position, defect] of MALFORMED) {
      const error = captureError(() => decompress(encoded))

      assert.equal(error.status, 422, defect)
      assert.equal(error.code, code, defect)
      assert.equal(error.extensions.position, position, defect)
      assert.match(error.detail, new RegExp(`position ${position}\\b`), defect)
      assert.equal(error.errors?.[0]?.field, 'compressed', defect)
    }
  })

  test('allows exactly maxBytes of UTF-8', () => {
    assert.equal(decompress('a64', { maxBytes: 64 }), 'a'.repeat(64))
    assert.equal(decompress('😀16', { maxBytes: 64 }), '😀'.repeat(16))
    assert.equal(decompress('é2a60', { maxBytes: 64 }),
      'éé' + 'a'.repeat(60))
  })

  test('rejects one byte over maxBytes', () => {
    const cases: Array<[string, number, string]> = [
      ['a65', 1, 'one byte over in one run'],
      ['😀17', 1, 'four bytes per code point'],
      ['é2a61', 3, 'over in the second run'],
      ['a64b1', 4, 'a full text and one more run'],
    ]
    for (const [encoded, position, defect] of cases) {
      const error = captureError(() => decompress(encoded, { maxBytes: 64 }))

      assert.equal(error.code, 'COMPRESS_OUTPUT_TOO_LARGE', defect)
      assert.equal(error.extensions.position, position, defect)
    }
  })

  test('rejects an invalid maxBytes option', () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN, Infinity]) {
      assert.throws(() => decompress('a1', { maxBytes }), TypeError,
        String(maxBytes))
    }
  })

  test('accepts adjacent runs of one character', () => {
    assert.equal(decompress('a1a1a2'), 'aaaa')
  })

  test('round-trips 5,000 random strings', () => {
    const random = seededRandom(20240601)
    for (let i = 0; i < 5000; i++) {
      const text = randomText(random, 64)

      const encoded = compress(text)

      assert.equal(decompress(encoded), text, JSON.stringify(text))
      assert.equal(compress(decompress(encoded)), encoded,
        JSON.stringify(encoded))
    }
  })

  test('round-trips long random strings', () => {
    // Output is built in chunks of 8192 code units, so strings this long
    // split surrogate pairs and escapes across chunk boundaries.
    const random = seededRandom(4242)
    for (let i = 0; i < 20; i++) {
      const text = randomText(random, 30_000)

      const decoded = decompress(compress(text))

      assert.ok(decoded === text, `string ${i} of ${text.length} units`)
    }
  })

  test('round-trips long runs of each width', () => {
    for (const character of ['a', '7', 'é', '北', '😀']) {
      for (const count of [255, 256, 257, 8191, 8192, 8193, 100_000]) {
        const text = `x${character.repeat(count)}y`
        const escape = character === '7' ? '\\' : ''
        const name = `${count} of ${character}`

        const encoded = compress(text)

        assert.equal(encoded, `x1${escape}${character}${count}y1`, name)
        assert.ok(decompress(encoded) === text, name)
      }
    }
  })

  test('decodes joined encodings to joined text', () => {
    const random = seededRandom(7)
    for (let i = 0; i < 1000; i++) {
      const first = randomText(random, 16)
      const second = randomText(random, 16)

      const joined = compress(first) + compress(second)

      assert.equal(decompress(joined), first + second, JSON.stringify(joined))
    }
  })
})

describe('zlibCompress and zlibDecompress', () => {
  test('round-trip mixed text with each algorithm', async () => {
    for (const algorithm of ZLIB_ALGORITHMS) {
      const encoded = await zlibCompress(algorithm, MIXED_TEXT)

      assert.match(encoded, /^[A-Za-z0-9+/]+={0,2}$/, algorithm)
      assert.equal(await zlibDecompress(algorithm, encoded), MIXED_TEXT,
        algorithm)
    }
  })

  test('round-trip 300 random strings each', async () => {
    const random = seededRandom(99)
    for (const algorithm of ZLIB_ALGORITHMS) {
      for (let i = 0; i < 300; i++) {
        const text = randomText(random, 64)

        const encoded = await zlibCompress(algorithm, text)

        assert.equal(await zlibDecompress(algorithm, encoded), text,
          `${algorithm} ${JSON.stringify(text)}`)
      }
    }
  })

  test('write the standard formats', async () => {
    const text = 'hello hello hello'

    const gzip = Buffer.from(await zlibCompress('gzip', text), 'base64')
    const deflate = Buffer.from(await zlibCompress('deflate', text), 'base64')
    const brotli = Buffer.from(await zlibCompress('brotli', text), 'base64')

    assert.equal(zlib.gunzipSync(gzip).toString(), text)
    assert.equal(zlib.inflateSync(deflate).toString(), text)
    assert.equal(zlib.brotliDecompressSync(brotli).toString(), text)
  })

  test('reject a lone surrogate', async () => {
    for (const [text, position, defect] of LONE_SURROGATES) {
      const error = await captureAsyncError(() => zlibCompress('gzip', text))

      assert.equal(error.code, 'COMPRESS_LONE_SURROGATE', defect)
      assert.equal(error.extensions.position, position, defect)
    }
  })

  test('reject invalid base64', async () => {
    for (const [encoded, defect] of BAD_BASE64) {
      const error = await captureAsyncError(
        () => zlibDecompress('gzip', encoded))

      assert.equal(error.status, 422, defect)
      assert.equal(error.code, 'COMPRESS_BASE64_INVALID', defect)
    }
  })

  test('reject corrupt data', async () => {
    const gzip = zlib.gzipSync('hello world')
    // The gzip trailer is the CRC-32 and then the length, 4 bytes each.
    const badCrc = Buffer.from(gzip)
    const crcByte = badCrc.length - 5
    badCrc.writeUInt8(badCrc.readUInt8(crcByte) ^ 0xff, crcByte)
    const cases: Array<[ZlibAlgorithm, string, string]> = [
      ['gzip', '', 'empty input'],
      ['gzip', 'AAAA', 'zero bytes'],
      ['gzip', toBase64(gzip.subarray(0, gzip.length - 4)), 'truncated'],
      ['gzip', toBase64(badCrc), 'a wrong checksum'],
      ['deflate', toBase64(gzip), 'gzip data sent as deflate'],
      ['brotli', 'aGVsbG8gd29ybGQ=', 'plain text sent as brotli'],
      ['gzip', toBase64(Buffer.concat([gzip, Buffer.from('junk')])),
        'bytes after a gzip stream'],
      ['deflate', toBase64(Buffer.concat([zlib.deflateSync('hi'),
        Buffer.from('junk')])), 'bytes after a deflate stream'],
      ['brotli', toBase64(Buffer.concat([zlib.brotliCompressSync('hi'),
        Buffer.from('junk')])), 'bytes after a brotli stream'],
    ]
    for (const [algorithm, encoded, defect] of cases) {
      const error = await captureAsyncError(
        () => zlibDecompress(algorithm, encoded))

      assert.equal(error.status, 422, defect)
      assert.equal(error.code, 'COMPRESS_DATA_CORRUPT', defect)
    }
  })

  test('reject bytes that are not UTF-8', async () => {
    const cases: Array<[Buffer, string]> = [
      [Buffer.from([0xff, 0xfe]), 'bytes that never occur in UTF-8'],
      [Buffer.from([0xed, 0xa0, 0x80]), 'an encoded surrogate'],
      [Buffer.from([0x61, 0xc3]), 'a truncated sequence'],
    ]
    for (const [bytes, defect] of cases) {
      const error = await captureAsyncError(
        () => zlibDecompress('gzip', toBase64(zlib.gzipSync(bytes))))

      assert.equal(error.code, 'COMPRESS_UTF8_INVALID', defect)
    }
  })

  test('stop a zip bomb at the limit', async () => {
    const bomb = Buffer.alloc(64 * MIB, 'a')
    const bombs = {
      gzip: zlib.gzipSync(bomb),
      deflate: zlib.deflateSync(bomb),
      brotli: zlib.brotliCompressSync(bomb),
    }
    for (const algorithm of ZLIB_ALGORITHMS) {
      const encoded = toBase64(bombs[algorithm])
      assert.ok(encoded.length < 200_000, algorithm)

      const error = await captureAsyncError(
        () => zlibDecompress(algorithm, encoded))

      assert.equal(error.code, 'COMPRESS_OUTPUT_TOO_LARGE', algorithm)
    }
  })

  test('reject an invalid maxBytes option', async () => {
    const encoded = await zlibCompress('gzip', 'a')
    for (const maxBytes of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(zlibDecompress('gzip', encoded, { maxBytes }),
        TypeError, String(maxBytes))
    }
  })

  test('allow exactly maxBytes', async () => {
    for (const algorithm of ZLIB_ALGORITHMS) {
      const fits = await zlibCompress(algorithm, 'é'.repeat(32))
      const over = await zlibCompress(algorithm, 'é'.repeat(32) + 'a')

      assert.equal(await zlibDecompress(algorithm, fits, { maxBytes: 64 }),
        'é'.repeat(32), algorithm)
      const error = await captureAsyncError(
        () => zlibDecompress(algorithm, over, { maxBytes: 64 }))
      assert.equal(error.code, 'COMPRESS_OUTPUT_TOO_LARGE', algorithm)
    }
  })
})

describe('POST /compress-string', () => {
  test('encodes runs with lengths and ratio', async (t) => {
    const { url } = await startServer(t)

    const response = await post(url, '/compress-string', { text: 'aaabccdddd' })

    assert.deepEqual(await expectJson(response), {
      algorithm: 'rle',
      compressed: 'a3b1c2d4',
      original_length: 10,
      compressed_length: 8,
      ratio: 0.8,
    })
  })

  test('encodes the format table', async (t) => {
    const { url } = await startServer(t)
    for (const [text, encoded, name] of FORMAT) {
      const response = await post(url, '/compress-string', { text })

      const body = await expectJson(response, name)
      assert.equal(body.compressed, encoded, name)
    }
  })

  test('accepts empty text with ratio 0', async (t) => {
    const { url } = await startServer(t)

    const response = await post(url, '/compress-string', { text: '' })

    assert.deepEqual(await expectJson(response), {
      algorithm: 'rle',
      compressed: '',
      original_length: 0,
      compressed_length: 0,
      ratio: 0,
    })
  })

  test('counts lengths in code points', async (t) => {
    const { url } = await startServer(t)

    const response = await post(url, '/compress-string',
      { text: '😀😀😀𝄞' })

    const body = await expectJson(response)
    assert.equal(body.compressed, '😀3𝄞1')
    assert.equal(body.original_length, 4)
    assert.equal(body.compressed_length, 4)
    assert.equal(body.ratio, 1)
  })

  test('encodes a 1,000,000-character run', async (t) => {
    const { url } = await startServer(t)

    const response = await post(url, '/compress-string',
      { text: 'x'.repeat(1_000_000) })

    const body = await expectJson(response)
    assert.equal(body.compressed, 'x1000000')
    assert.equal(body.original_length, 1_000_000)
    assert.equal(body.compressed_length, 8)
    assert.equal(body.ratio, 8 / 1_000_000)
  })

  test('rejects a missing or non-string text', async (t) => {
    const { url } = await startServer(t)
    const bodies: Array<[unknown, string]> = [
      [{}, 'text missing'],
      [{ text: 5 }, 'a number'],
      [{ text: null }, 'null'],
      [{ text: ['a'] }, 'an array'],
      [{ text: { value: 'a' } }, 'an object'],
      [{ compressed: 'a1' }, 'the decompress field instead'],
    ]
    for (const [body, defect] of bodies) {
      const response = await post(url, '/compress-string', body)

      const problem = await expectProblem(response, 422,
        'COMPRESS_FIELD_INVALID', defect)
      assert.equal(problem.errors[0].field, 'text', defect)
    }
  })

  test('rejects a lone surrogate', async (t) => {
    const { url } = await startServer(t)

    const response = await postRaw(url, '/compress-string',
      '{"text":"ab\\ud800c"}')

    const problem = await expectProblem(response, 422,
      'COMPRESS_LONE_SURROGATE')
    assert.equal(problem.position, 2)
  })

  test('rejects an unknown algorithm', async (t) => {
    const { url } = await startServer(t)
    for (const algorithm of ['zip', 'GZIP', '', 1, null]) {
      const response = await post(url, '/compress-string',
        { text: 'a', algorithm })

      const problem = await expectProblem(response, 422,
        'COMPRESS_ALGORITHM_UNKNOWN', String(algorithm))
      assert.deepEqual(problem.algorithms, ['rle', 'gzip', 'deflate', 'brotli'])
      assert.match(problem.detail, /rle, gzip, deflate, brotli/)
      assert.equal(problem.errors[0].field, 'algorithm')
    }
  })

  test('compresses with each zlib algorithm', async (t) => {
    const { url } = await startServer(t)
    for (const algorithm of ZLIB_ALGORITHMS) {
      const response = await post(url, '/compress-string',
        { text: MIXED_TEXT, algorithm })

      const body = await expectJson(response, algorithm)
      assert.equal(body.algorithm, algorithm)
      assert.equal(await zlibDecompress(algorithm, body.compressed), MIXED_TEXT)
      assert.equal(body.original_length, [...MIXED_TEXT].length)
      assert.equal(body.compressed_length, body.compressed.length)
      assert.equal(body.ratio, body.compressed_length / body.original_length)
    }
  })

  test('limits text to maxTextBytes of UTF-8', async (t) => {
    const { url } = await startServer(t, { maxTextBytes: 64 })

    const fits = await post(url, '/compress-string', { text: 'a'.repeat(64) })
    const over = await post(url, '/compress-string', { text: 'a'.repeat(65) })
    const wide = await post(url, '/compress-string', { text: 'é'.repeat(33) })

    assert.equal((await expectJson(fits)).compressed, 'a64')
    await expectProblem(over, 413, 'COMPRESS_TEXT_TOO_LARGE')
    await expectProblem(wide, 413, 'COMPRESS_TEXT_TOO_LARGE',
      '33 code points but 66 bytes')
  })

  test('allows JSON escapes to exceed the limit', async (t) => {
    const { url } = await startServer(t, { maxTextBytes: 4096 })
    const text = '\u0001'.repeat(4096)
    const raw = JSON.stringify({ text })
    assert.ok(Buffer.byteLength(raw) > 6 * 4096)

    const response = await postRaw(url, '/compress-string', raw)

    assert.equal((await expectJson(response)).compressed, '\u00014096')
  })

  test('rejects a body over the read limit', async (t) => {
    const { url } = await startServer(t, { maxTextBytes: 64 })

    const response = await post(url, '/compress-string',
      { text: 'a'.repeat(8 * 64 + 1024) })

    await expectProblem(response, 413, 'HTTP_BODY_TOO_LARGE')
  })

  test('rejects bodies that are not JSON objects', async (t) => {
    const { url } = await startServer(t)

    const wrongType = await postRaw(url, '/compress-string', 'text=a',
      'application/x-www-form-urlencoded')
    const notJson = await postRaw(url, '/compress-string', '{"text":')
    const array = await postRaw(url, '/compress-string', '["a"]')

    await expectProblem(wrongType, 415, 'HTTP_UNSUPPORTED_MEDIA_TYPE')
    await expectProblem(notJson, 400, 'HTTP_BODY_INVALID')
    await expectProblem(array, 400, 'HTTP_BODY_NOT_OBJECT')
  })

  test('answers GET with 405', async (t) => {
    const { url } = await startServer(t)

    const response = await fetch(`${url}/compress-string`)

    await expectProblem(response, 405, 'HTTP_METHOD_NOT_ALLOWED')
    assert.equal(response.headers.get('allow'), 'POST')
  })
})

describe('POST /decompress-string', () => {
  test('decodes the format table', async (t) => {
    const { url } = await startServer(t)
    for (const [text, encoded, name] of FORMAT) {
      const response = await post(url, '/decompress-string',
        { compressed: encoded })

      assert.deepEqual(await expectJson(response, name), { text }, name)
    }
  })

  test('round-trips 200 random strings', async (t) => {
    const { url } = await startServer(t)
    const random = seededRandom(314)
    for (let i = 0; i < 200; i++) {
      const text = randomText(random, 64)
      const compressed = await post(url, '/compress-string', { text })
      const { compressed: encoded } = await expectJson(compressed)

      const response = await post(url, '/decompress-string',
        { compressed: encoded })

      assert.equal((await expectJson(response)).text, text,
        JSON.stringify(text))
    }
  })

  test('decodes a 1,000,000-character run', async (t) => {
    const { url } = await startServer(t)

    const response = await post(url, '/decompress-string',
      { compressed: 'x1000000' })

    assert.equal((await expectJson(response)).text, 'x'.repeat(1_000_000))
  })

  test('rejects malformed input with its position', async (t) => {
    const { url } = await startServer(t)
    for (const [encoded, code, position, defect] of MALFORMED) {
      const response = await post(url, '/decompress-string',
        { compressed: encoded })

      const problem = await expectProblem(response, 422, code, defect)
      assert.equal(problem.position, position, defect)
      assert.equal(problem.errors[0].field, 'compressed', defect)
    }
  })

  test('limits decoded text to maxTextBytes', async (t) => {
    const { url } = await startServer(t, { maxTextBytes: 64 })
    const gzipOver = toBase64(zlib.gzipSync('a'.repeat(65)))

    const fits = await post(url, '/decompress-string', { compressed: 'a64' })
    const over = await post(url, '/decompress-string', { compressed: 'a65' })
    const zlibOver = await post(url, '/decompress-string',
      { compressed: gzipOver, algorithm: 'gzip' })

    assert.equal((await expectJson(fits)).text, 'a'.repeat(64))
    const problem = await expectProblem(over, 422, 'COMPRESS_OUTPUT_TOO_LARGE')
    assert.equal(problem.position, 1)
    await expectProblem(zlibOver, 422, 'COMPRESS_OUTPUT_TOO_LARGE')
  })

  test('rejects a missing or non-string compressed', async (t) => {
    const { url } = await startServer(t)
    const bodies: Array<[unknown, string]> = [
      [{}, 'compressed missing'],
      [{ compressed: 1 }, 'a number'],
      [{ compressed: false }, 'a boolean'],
      [{ text: 'a1' }, 'the compress field instead'],
    ]
    for (const [body, defect] of bodies) {
      const response = await post(url, '/decompress-string', body)

      const problem = await expectProblem(response, 422,
        'COMPRESS_FIELD_INVALID', defect)
      assert.equal(problem.errors[0].field, 'compressed', defect)
    }
  })

  test('rejects an unknown algorithm', async (t) => {
    const { url } = await startServer(t)

    const response = await post(url, '/decompress-string',
      { compressed: 'a1', algorithm: 'lzma' })

    const problem = await expectProblem(response, 422,
      'COMPRESS_ALGORITHM_UNKNOWN')
    assert.deepEqual(problem.algorithms, ['rle', 'gzip', 'deflate', 'brotli'])
  })

  test('round-trips each zlib algorithm', async (t) => {
    const { url } = await startServer(t)
    for (const algorithm of ZLIB_ALGORITHMS) {
      const compressed = await post(url, '/compress-string',
        { text: MIXED_TEXT, algorithm })
      const { compressed: encoded } = await expectJson(compressed, algorithm)

      const response = await post(url, '/decompress-string',
        { compressed: encoded, algorithm })

      assert.deepEqual(await expectJson(response, algorithm),
        { text: MIXED_TEXT })
    }
  })

  test('rejects bad base64 and corrupt data', async (t) => {
    const { url } = await startServer(t)
    const gzip = zlib.gzipSync('hello world')
    const truncated = toBase64(gzip.subarray(0, gzip.length - 4))
    for (const [encoded, defect] of BAD_BASE64) {
      const response = await post(url, '/decompress-string',
        { compressed: encoded, algorithm: 'deflate' })

      await expectProblem(response, 422, 'COMPRESS_BASE64_INVALID', defect)
    }

    const corrupt = await post(url, '/decompress-string',
      { compressed: truncated, algorithm: 'gzip' })
    const notUtf8 = await post(url, '/decompress-string', {
      compressed: toBase64(zlib.brotliCompressSync(Buffer.from([0xff]))),
      algorithm: 'brotli',
    })

    await expectProblem(corrupt, 422, 'COMPRESS_DATA_CORRUPT')
    await expectProblem(notUtf8, 422, 'COMPRESS_UTF8_INVALID')
  })

  test('stops a zip bomb', async (t) => {
    const { url } = await startServer(t)
    const bomb = zlib.gzipSync(Buffer.alloc(64 * MIB, 'a'))

    const response = await post(url, '/decompress-string',
      { compressed: toBase64(bomb), algorithm: 'gzip' })

    await expectProblem(response, 422, 'COMPRESS_OUTPUT_TOO_LARGE')
  })

  test('accepts worst-case RLE input', async (t) => {
    const { url } = await startServer(t, { maxTextBytes: 4096 })
    // Every character is a control character and a run of one, so the JSON
    // of the encoding is 7 bytes per byte of text.
    const text = '\u0001\u0002'.repeat(2048)
    const encoded = compress(text)
    assert.ok(Buffer.byteLength(JSON.stringify({ compressed: encoded })) >
      7 * 4096)

    const response = await post(url, '/decompress-string',
      { compressed: encoded })

    assert.equal((await expectJson(response)).text, text)
  })
})

describe('compression OpenAPI', () => {
  test('documents both routes', async (t) => {
    const { url } = await startServer(t)

    const document = await jsonBody(await fetch(`${url}/openapi.json`))

    assert.equal(typeof document.paths['/compress-string'].post.summary,
      'string')
    assert.equal(typeof document.paths['/decompress-string'].post.summary,
      'string')
  })
})
