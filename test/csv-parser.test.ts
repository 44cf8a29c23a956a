import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { HttpError } from '../src/http/errors.ts'
import { CsvParser } from '../src/sales/csv-parser.ts'
import { CsvRecord } from '../src/sales/csv-record.ts'
import { scanUtf8 } from '../src/sales/utf8.ts'
import { generateSalesCsvText, seededRandom } from './support/generate-sales.ts'
import { pushInChunks } from './support/chunks.ts'

interface Parsed {
  records: Array<{ line: number, fields: string[] }>
  error?: { code: string, line: number | undefined }
}

/** Parses `input` fed in pieces of the given sizes, cycling through them. */
function parseInChunks(input: Uint8Array, sizes: number[]): Parsed {
  const records: Parsed['records'] = []
  const parser = new CsvParser({
    addCsvRecord: (record) => {
      records.push({ line: record.line, fields: record.texts() })
    },
  })
  try {
    pushInChunks(parser, input, sizes)
  } catch (error) {
    if (!(error instanceof HttpError)) throw error
    return { records, error: { code: error.code, line: error.errors?.[0]?.line } }
  }
  return { records }
}

function parseWhole(input: string | Uint8Array): Parsed {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input
  return parseInChunks(bytes, [Math.max(1, bytes.length)])
}

function randomSizes(seed: number, max: number): number[] {
  const random = seededRandom(seed)
  return Array.from({ length: 64 }, () => 1 + Math.floor(random() * max))
}

function fields(parsed: Parsed): string[][] {
  return parsed.records.map((record) => record.fields)
}

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((part) => Buffer.from(part as string)))

// Hand-made inputs with the records they must give, each aimed at one rule.
const tricky: Array<{ name: string, input: Uint8Array, records: string[][] }> = [
  {
    name: 'quoted comma, doubled quote and newline',
    input: bytes('a,b\n"x, ""y""\nz",2\n'),
    records: [['a', 'b'], ['x, "y"\nz', '2']],
  },
  {
    name: 'CRLF breaks and CRLF inside quotes',
    input: bytes('a,b\r\n"1\r\n2",3\r\n'),
    records: [['a', 'b'], ['1\r\n2', '3']],
  },
  {
    name: 'BOM, no final newline',
    input: bytes([0xef, 0xbb, 0xbf], 'name\nAda'),
    records: [['name'], ['Ada']],
  },
  {
    name: 'blank lines of LF and CRLF',
    input: bytes('\na\n\r\n\nb\r\n\r\n'),
    records: [['a'], ['b']],
  },
  {
    name: 'empty fields and quoted empty field',
    input: bytes(',\n"",x\n,,\n'),
    records: [['', ''], ['', 'x'], ['', '', '']],
  },
  {
    name: 'quote inside an unquoted field',
    input: bytes('Bob "Ace" Lee,1\n'),
    records: [['Bob "Ace" Lee', '1']],
  },
  {
    name: 'multi-byte characters of 2, 3 and 4 bytes',
    input: bytes('é,€\n"😀","a😀b"\r\n'),
    records: [['é', '€'], ['😀', 'a😀b']],
  },
  {
    name: 'closing quote then CR at the end',
    input: bytes('"a","b"\r'),
    records: [['a', 'b']],
  },
  {
    name: 'quoted field of only doubled quotes',
    input: bytes('""""""\n"a""",b'),
    records: [['""'], ['a"', 'b']],
  },
  {
    name: 'BOM-like bytes after the start are data',
    input: bytes('a', [0xef, 0xbb, 0xbf], '\n'),
    records: [['a\ufeff']],
  },
  {
    name: 'quoted last fields before CRLF and LF',
    input: bytes('"a","b"\r\n"c"\n"d"'),
    records: [['a', 'b'], ['c'], ['d']],
  },
  {
    name: 'CR inside a field and before a comma is data',
    input: bytes('a\rb,c\r,d\r\n'),
    records: [['a\rb', 'c\r', 'd']],
  },
  {
    name: 'escaped quote between plain records',
    input: bytes('a,1\n"b ""x""",2\nc,3\n'),
    records: [['a', '1'], ['b "x"', '2'], ['c', '3']],
  },
  {
    name: 'more fields than a record first has room for',
    input: bytes(`${'x,'.repeat(39)}x\n${'"y",'.repeat(39)}"y"\n`),
    records: [Array(40).fill('x'), Array(40).fill('y')],
  },
]

describe('CsvParser', () => {
  test('parses hand-made tricky inputs', () => {
    for (const { name, input, records } of tricky) {
      assert.deepEqual(fields(parseWhole(input)), records, name)
    }
  })

  test('gives the same records for every split', () => {
    for (const { name, input } of tricky) {
      const whole = parseWhole(input)
      for (let size = 1; size < input.length; size++) {
        assert.deepEqual(parseInChunks(input, [size]), whole, `${name}, ${size}`)
      }
      for (let seed = 1; seed <= 20; seed++) {
        assert.deepEqual(parseInChunks(input, randomSizes(seed, 7)), whole,
          `${name}, seed ${seed}`)
      }
    }
  })

  test('gives the same records for generated CSV in random chunks', () => {
    const input = Buffer.from(generateSalesCsvText(3000, { seed: 7 }))
    const whole = parseWhole(input)

    assert.equal(whole.records.length, 3001)
    assert.ok(whole.records.some((r) => r.fields[0]?.includes(',')))
    assert.ok(whole.records.some((r) => r.fields[0]?.includes('"')))
    for (const [seed, max] of [[1, 1], [2, 3], [3, 17], [4, 4096], [5, 70_000]]) {
      const parsed = parseInChunks(input, randomSizes(seed!, max!))
      assert.deepEqual(parsed, whole, `seed ${seed}, chunks up to ${max}`)
    }
  })

  test('numbers records by the line they start on', () => {
    const parsed = parseWhole('h\n\n"a\nb"\nc\r\n\r\nd')

    assert.deepEqual(parsed.records.map((r) => r.line), [1, 3, 5, 7])
  })

  test('rejects an unterminated quote with its line', () => {
    const input = Buffer.from('a\nb\n"open,\nstill open\n')
    for (const size of [1, 2, 5, input.length]) {
      const parsed = parseInChunks(input, [size])
      assert.deepEqual(parsed.error, { code: 'CSV_SYNTAX_INVALID', line: 3 })
      assert.equal(parsed.records.length, 2)
    }
  })

  test('rejects text after a closing quote', () => {
    const cases = [
      bytes('a\n"b"c\n'), // a letter after the closing quote
      bytes('a\n"b" ,c\n'), // a space after the closing quote
      bytes('a\n"b"\rc\n'), // a CR that does not start a CRLF
    ]
    for (const input of cases) {
      for (const size of [1, input.length]) {
        assert.deepEqual(parseInChunks(input, [size]).error,
          { code: 'CSV_SYNTAX_INVALID', line: 2 }, input.toString())
      }
    }
  })

  test('rejects invalid UTF-8 with the record line', () => {
    const cases = [
      [0x80], // a continuation byte with no lead
      [0xc0, 0x80], // an overlong form of NUL
      [0xe0, 0x80, 0x80], // an overlong three-byte form
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate, U+D800
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xf5, 0x80, 0x80, 0x80], // a lead byte that never occurs
      [0xff], // a byte that never occurs
      [0xe2, 0x82, 0x41], // a three-byte character cut short by a letter
      [0xe2, 0x0a], // a lead byte followed by a line break
    ]
    for (const bad of cases) {
      const input = bytes('h\nok\n"x\n', bad, 'y"\nlast\n')
      for (const size of [1, 2, 3, input.length]) {
        const parsed = parseInChunks(input, [size])
        assert.deepEqual(parsed.error, { code: 'CSV_ENCODING_INVALID', line: 3 },
          `${bad.map((b) => b.toString(16))} in chunks of ${size}`)
        assert.equal(parsed.records.length, 2)
      }
    }
  })

  test('rejects a character cut short at the end', () => {
    const input = bytes('h\nab', [0xf0, 0x9f, 0x98])
    for (const size of [1, input.length]) {
      assert.deepEqual(parseInChunks(input, [size]).error,
        { code: 'CSV_ENCODING_INVALID', line: 2 })
    }
  })

  test('rejects a file that is only part of a BOM', () => {
    assert.deepEqual(parseWhole(bytes([0xef, 0xbb])).error,
      { code: 'CSV_ENCODING_INVALID', line: 1 })
  })

  test('gives no records for empty input', () => {
    assert.deepEqual(parseWhole(''), { records: [] })
    assert.deepEqual(parseWhole(bytes([0xef, 0xbb, 0xbf])), { records: [] })
    assert.deepEqual(parseWhole('\n\r\n'), { records: [] })
  })
})

describe('CsvRecord', () => {
  test('of encodes fields as UTF-8', () => {
    const record = CsvRecord.of(['Zoë', '', '😀,x'], 7)

    assert.equal(record.length, 3)
    assert.equal(record.line, 7)
    assert.deepEqual(record.texts(), ['Zoë', '', '😀,x'])
    assert.equal(record.ends[0]! - record.starts[0]!, 4)
  })

  test('add grows past the initial room', () => {
    const record = new CsvRecord()
    record.bytes = Buffer.from('abc')
    for (let i = 0; i < 100; i++) record.add(i % 3, i % 3 + 1)

    assert.equal(record.length, 100)
    assert.equal(record.text(98), 'c')
    assert.equal(record.text(99), 'a')
  })
})

describe('scanUtf8', () => {
  test('accepts whole characters up to the end', () => {
    assert.deepEqual(scanUtf8(bytes('aé€😀')), { end: 10, invalid: false })
  })

  test('stops before a character cut short', () => {
    assert.deepEqual(scanUtf8(bytes('ab', [0xf0, 0x9f])),
      { end: 2, invalid: false })
    assert.deepEqual(scanUtf8(bytes([0xe2])), { end: 0, invalid: false })
  })

  test('points at the first invalid byte', () => {
    assert.deepEqual(scanUtf8(bytes('abc', [0xc3, 0x28], 'def')),
      { end: 3, invalid: true })
    assert.deepEqual(scanUtf8(bytes('ab', [0xed, 0xbf])),
      { end: 2, invalid: true })
  })
})
