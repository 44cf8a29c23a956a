import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { HttpError } from '../src/http/errors.ts'
import {
  headerParameters,
  multipartBoundary,
  MultipartReader,
  type PartInfo,
} from '../src/http/multipart.ts'

const BOUNDARY = 'b0undary-x'

interface ReadPart extends PartInfo {
  data: string
}

/** Reads `body` pushed in pieces of `size` bytes; keeps every part. */
function readParts(body: Buffer, size: number, boundary = BOUNDARY): ReadPart[] {
  const parts: ReadPart[] = []
  const reader = new MultipartReader(boundary, (info) => {
    const part = { ...info, data: '' }
    parts.push(part)
    return (data) => {
      part.data += data.toString('latin1')
    }
  })
  for (let offset = 0; offset < body.length; offset += size) {
    reader.push(body.subarray(offset, offset + size))
  }
  reader.end()
  return parts
}

function errorCode(body: Buffer, size: number): string | undefined {
  try {
    readParts(body, size)
  } catch (error) {
    assert.ok(error instanceof HttpError)
    assert.equal(error.status, 400)
    return error.code
  }
  return undefined
}

const crlf = (...lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1')

// A form with a text field, a file whose bytes look like the start of a
// boundary several times, a preamble, transport padding and an epilogue.
const form = crlf(
  'this preamble is ignored',
  `--${BOUNDARY}`,
  'Content-Disposition: form-data; name="note"',
  '',
  'hello',
  `--${BOUNDARY}  \t`,
  'content-disposition: form-data; name="file"; filename="sales; 1.csv"',
  'Content-Type: text/csv',
  '',
  `a,b\r\n-${BOUNDARY}\r\n--${BOUNDARY.slice(0, 5)}\r\r\n--`,
  `--${BOUNDARY}--`,
  'epilogue, also ignored',
)

describe('MultipartReader', () => {
  test('reads parts for every chunk size', () => {
    const expected = [
      { name: 'note', filename: undefined, contentType: undefined, data: 'hello' },
      {
        name: 'file',
        filename: 'sales; 1.csv',
        contentType: 'text/csv',
        data: `a,b\r\n-${BOUNDARY}\r\n--${BOUNDARY.slice(0, 5)}\r\r\n--`,
      },
    ]
    for (let size = 1; size <= form.length; size++) {
      assert.deepEqual(readParts(form, size), expected, `chunks of ${size}`)
    }
  })

  test('reads a body that starts with the boundary', () => {
    const body = crlf(`--${BOUNDARY}`, 'Content-Disposition: form-data; name=file',
      '', 'x', `--${BOUNDARY}--`)

    const parts = readParts(body, 3)

    assert.equal(parts.length, 1)
    assert.equal(parts[0]?.name, 'file')
    assert.equal(parts[0]?.filename, undefined)
    assert.equal(parts[0]?.data, 'x')
  })

  test('reads a part without headers', () => {
    const body = crlf(`--${BOUNDARY}`, '', 'data', `--${BOUNDARY}--`)

    const parts = readParts(body, 2)

    assert.deepEqual(parts, [{
      name: undefined,
      filename: undefined,
      contentType: undefined,
      data: 'data',
    }])
  })

  test('drops the bytes of a part its handler skips', () => {
    const seen: string[] = []
    const reader = new MultipartReader(BOUNDARY, (info) => {
      if (info.name !== 'file') return undefined
      return (data) => seen.push(data.toString())
    })

    reader.push(form)
    reader.end()

    assert.equal(seen.join(''),
      `a,b\r\n-${BOUNDARY}\r\n--${BOUNDARY.slice(0, 5)}\r\r\n--`)
  })

  test('rejects malformed bodies', () => {
    const cases: Array<[Buffer, string]> = [
      // the boundary never appears
      [crlf('--other', '', 'x', '--other--'), 'MULTIPART_BOUNDARY_NOT_FOUND'],
      // an empty body
      [Buffer.alloc(0), 'MULTIPART_BOUNDARY_NOT_FOUND'],
      // the body stops inside a part
      [crlf(`--${BOUNDARY}`, 'Content-Disposition: form-data; name="file"', '',
        'a,b'), 'MULTIPART_TRUNCATED'],
      // the body stops inside the part headers
      [crlf(`--${BOUNDARY}`, 'Content-Disposition: form-'), 'MULTIPART_TRUNCATED'],
      // the body stops right after a boundary
      [crlf(`--${BOUNDARY}`), 'MULTIPART_TRUNCATED'],
      // the closing boundary lacks its final dashes
      [crlf(`--${BOUNDARY}`, '', 'x', `--${BOUNDARY}`), 'MULTIPART_TRUNCATED'],
      // text right after the boundary
      [crlf(`--${BOUNDARY}junk`, '', 'x', `--${BOUNDARY}--`), 'MULTIPART_INVALID'],
      // part headers past the size limit
      [crlf(`--${BOUNDARY}`, `X-Filler: ${'a'.repeat(20_000)}`, '', 'x',
        `--${BOUNDARY}--`), 'MULTIPART_INVALID'],
    ]
    for (const [body, code] of cases) {
      for (const size of [1, 7, Math.max(1, body.length)]) {
        assert.equal(errorCode(body, size), code,
          `${body.toString('latin1', 0, 60)} in chunks of ${size}`)
      }
    }
  })
})

describe('multipartBoundary', () => {
  test('reads a plain or quoted boundary', () => {
    assert.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc')
    assert.equal(
      multipartBoundary('multipart/form-data; charset=utf-8; BOUNDARY="a b;c"'),
      'a b;c')
  })

  test('rejects a missing or overlong boundary', () => {
    const cases = [
      'multipart/form-data', // no parameters at all
      'multipart/form-data; boundary=', // an empty boundary
      'multipart/form-data; boundary=""', // an empty quoted boundary
      `multipart/form-data; boundary=${'x'.repeat(71)}`, // over 70 characters
    ]
    for (const contentType of cases) {
      assert.throws(() => multipartBoundary(contentType),
        (error: unknown) => error instanceof HttpError && error.status === 400,
        contentType)
    }
  })
})

describe('headerParameters', () => {
  test('unquotes values and lower-cases keys', () => {
    const parameters = headerParameters(
      'form-data; Name="file"; filename="a \\"q\\".csv"; size=10 ')

    assert.equal(parameters.get('name'), 'file')
    assert.equal(parameters.get('filename'), 'a "q".csv')
    assert.equal(parameters.get('size'), '10')
  })
})
