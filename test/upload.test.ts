import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test, type TestContext } from 'node:test'
import { gzipSync } from 'node:zlib'
import { BatchBuilder, type StagedUpload } from '../src/sales/batch-builder.ts'
import { ABSENT, ByteKeyTable } from '../src/sales/byte-key-table.ts'
import { CsvParser } from '../src/sales/csv-parser.ts'
import { DayCache, UNCACHED } from '../src/sales/day-cache.ts'
import { packedDateKey, plainAmountUnits } from '../src/sales/row-bytes.ts'
import { Rejection, parseAmountUnits } from '../src/sales/row-rules.ts'
import { generateSalesCsvText, seededRandom } from './support/generate-sales.ts'
import {
  bearer,
  createUserWithToken,
  jsonBody,
  startServer,
} from './support/server.ts'
import { pushInChunks } from './support/chunks.ts'

const SUPERSTORE = readFileSync(
  new URL('./fixtures/superstore-sales.csv', import.meta.url))
const HEADER = 'customer_name,amount,date\n'
const BASELINE = `${HEADER}Ada,10.50,2024-01-01\nBruno,2.25,2024-01-02\n`
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'

interface Admin {
  url: string
  token: string
}

async function startAdmin(
  t: TestContext,
  options: { maxUploadBytes?: number } = {},
): Promise<Admin> {
  const { app, url } = await startServer(t, options)
  const { token } = await createUserWithToken(app, 'admin')
  return { url, token }
}

type Body = string | Buffer | FormData | AsyncIterable<Uint8Array>

function upload(
  admin: Admin,
  body: Body,
  options: { type?: string, query?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = bearer(admin.token)
  const type = options.type ?? (body instanceof FormData ? undefined : 'text/csv')
  if (type !== undefined) headers['content-type'] = type
  const streamed = typeof body === 'object' && Symbol.asyncIterator in body
  return fetch(`${admin.url}/upload-sales${options.query ?? ''}`, {
    method: 'POST',
    headers,
    body: body as RequestInit['body'],
    ...(streamed ? { duplex: 'half' } : {}),
  } as RequestInit)
}

async function summary(admin: Admin): Promise<Record<string, number>> {
  const response = await fetch(`${admin.url}/analytics/summary`,
    { headers: bearer(admin.token) })
  assert.equal(response.status, 200)
  return jsonBody(response)
}

async function topCustomers(admin: Admin): Promise<any[]> {
  const response = await fetch(`${admin.url}/analytics/top-customers?limit=1000`,
    { headers: bearer(admin.token) })
  assert.equal(response.status, 200)
  return (await jsonBody(response)).customers
}

function fileForm(...files: Array<string | Buffer>): FormData {
  const form = new FormData()
  form.append('note', 'not the file')
  for (const file of files) form.append('file', new Blob([file]), 'sales.csv')
  return form
}

/** Builds a multipart body by hand, for shapes FormData cannot make. */
function rawForm(boundary: string, ...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n').replaceAll('BOUNDARY', boundary))
}

async function* chunksOf(
  text: string,
  size: number,
  between: () => Promise<void> = async () => {},
): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text)
  for (let offset = 0; offset < bytes.length; offset += size) {
    yield bytes.subarray(offset, offset + size)
    await between()
  }
}

/**
 * Expected totals of a CSV without quoted fields, worked out here with
 * BigInt from the text, independently of the product's parser and rules.
 */
function expectedTotals(csv: Buffer): {
  rows: number
  totalUnits: bigint
  totalCents: bigint
  byCustomer: Map<string, bigint>
} {
  const text = csv.toString('utf8')
  assert.ok(!text.includes('"'), 'the simple reader needs unquoted fields')
  const lines = text.split(/\r?\n/).filter((line) => line !== '')
  const header = (lines.shift() as string).split(',')
  const nameAt = header.indexOf('customer_name')
  const amountAt = header.indexOf('amount')

  let totalUnits = 0n
  const byCustomer = new Map<string, bigint>()
  for (const line of lines) {
    const fields = line.split(',')
    const [whole, fraction = ''] = (fields[amountAt] as string).split('.')
    const units = BigInt(whole as string) * 10_000n +
      BigInt(fraction.padEnd(4, '0'))
    const name = (fields[nameAt] as string).trim()
    totalUnits += units
    byCustomer.set(name, (byCustomer.get(name) ?? 0n) + units)
  }
  return {
    rows: lines.length,
    totalUnits,
    totalCents: roundToCents(totalUnits),
    byCustomer,
  }
}

// Half-up rounding of non-negative units of 1/10000 to cents.
function roundToCents(units: bigint): bigint {
  return (units + 50n) / 100n
}

const centsValue = (cents: bigint) => Number(cents) / 100

async function assertProblem(
  response: Response,
  status: number,
  code: string,
): Promise<any> {
  assert.equal(response.status, status)
  assert.equal(response.headers.get('content-type'), PROBLEM_TYPE)
  const body = await jsonBody(response)
  assert.equal(body.code, code)
  assert.equal(body.status, status)
  assert.equal(typeof body.detail, 'string')
  return body
}

describe('POST /upload-sales', () => {
  test('stores the Superstore file sent raw', async (t) => {
    const admin = await startAdmin(t)
    const expected = expectedTotals(SUPERSTORE)

    const response = await upload(admin, SUPERSTORE)
    const body = await jsonBody(response)

    assert.equal(response.status, 201)
    assert.equal(response.headers.get('content-type'),
      'application/json; charset=utf-8')
    assert.equal(body.rows_inserted, expected.rows)
    assert.equal(body.rows_skipped, 0)
    assert.deepEqual(body.errors, [])
    assert.equal(body.total_transactions, expected.rows)
    assert.equal(typeof body.upload_id, 'string')
    const totals = await summary(admin)
    assert.equal(totals.total_transactions, expected.rows)
    assert.equal(totals.total_sales, centsValue(expected.totalCents))
  })

  test('stores the Superstore file sent as a form', async (t) => {
    const admin = await startAdmin(t)
    const expected = expectedTotals(SUPERSTORE)

    const response = await upload(admin, fileForm(SUPERSTORE))
    const body = await jsonBody(response)

    assert.equal(response.status, 201)
    assert.equal(body.rows_inserted, expected.rows)
    const customers = await topCustomers(admin)
    assert.equal(customers.length, expected.byCustomer.size)
    for (const customer of customers) {
      const units = expected.byCustomer.get(customer.customer_name)
      assert.ok(units !== undefined, customer.customer_name)
      assert.equal(customer.total_sales, centsValue(roundToCents(units)),
        customer.customer_name)
    }
  })

  test('appends a second upload', async (t) => {
    const admin = await startAdmin(t)
    const expected = expectedTotals(SUPERSTORE)

    await upload(admin, SUPERSTORE)
    const second = await jsonBody(await upload(admin, fileForm(SUPERSTORE)))

    assert.equal(second.total_transactions, 2 * expected.rows)
    assert.equal((await summary(admin)).total_sales,
      centsValue(roundToCents(2n * expected.totalUnits)))
  })

  // Quadratic header mapping would block the event loop for minutes here.
  // The timeout turns such a hang into a failure, so no duration is
  // asserted.
  test('maps a header with 300,000 extra columns', { timeout: 60_000 },
    async (t) => {
      const admin = await startAdmin(t)
      const csv = `customer_name,amount,date${',x'.repeat(300_000)}\n` +
        'Ada,1.00,2024-01-01\n'

      const response = await upload(admin, csv)

      assert.equal(response.status, 201)
      assert.equal((await jsonBody(response)).rows_inserted, 1)
    })

  test('maps the header in any order and case', async (t) => {
    const admin = await startAdmin(t)
    const csv = ' Date ,EXTRA,Amount,Customer_Name\r\n' +
      '2024-03-01,x,1.005,"  Zoe\u0308 "\r\n' +
      '2024-03-02,y,0.5,Zoë\r\n'

    const response = await upload(admin, csv)
    const customers = await topCustomers(admin)

    assert.equal(response.status, 201)
    assert.equal((await jsonBody(response)).rows_inserted, 2)
    assert.deepEqual(customers.map((c) => c.customer_name), ['Zoë'])
    assert.equal(customers[0].transaction_count, 2)
    assert.equal(customers[0].total_sales, 1.51)
  })

  test('skips invalid rows with on_error=skip', async (t) => {
    const admin = await startAdmin(t)
    const csv = `${HEADER}Ada,1.00,2024-01-01\nBruno,-1,2024-01-01\n` +
      'Chen,2.00,2024-02-30\nDana,3.00,2024-01-03\n'

    const response = await upload(admin, csv, { query: '?on_error=skip' })
    const body = await jsonBody(response)

    assert.equal(response.status, 201)
    assert.equal(body.rows_inserted, 2)
    assert.equal(body.rows_skipped, 2)
    assert.equal(body.errors_omitted, 0)
    assert.deepEqual(body.errors, [
      { line: 3, column: 'amount', value: '-1',
        message: 'amount must not be negative' },
      { line: 4, column: 'date', value: '2024-02-30',
        message: 'date must be a real calendar date written YYYY-MM-DD' },
    ])
    assert.equal((await summary(admin)).total_sales, 4)
  })

  test('stores a header-only file as no rows', async (t) => {
    const admin = await startAdmin(t)

    const response = await upload(admin, HEADER)

    assert.equal(response.status, 201)
    assert.equal((await jsonBody(response)).rows_inserted, 0)
  })
})

describe('POST /upload-sales rejections', () => {
  // Each case uploads after a baseline and checks the baseline is intact.
  async function assertRejected(
    t: TestContext,
    send: (admin: Admin) => Promise<Response>,
    status: number,
    code: string,
    options: { maxUploadBytes?: number } = {},
  ): Promise<any> {
    const admin = await startAdmin(t, options)
    assert.equal((await upload(admin, BASELINE)).status, 201)
    const before = await summary(admin)

    const body = await assertProblem(await send(admin), status, code)

    assert.deepEqual(await summary(admin), before)
    return body
  }

  test('rejects another content type', async (t) => {
    const body = await assertRejected(t,
      (admin) => upload(admin, BASELINE, { type: 'application/json' }),
      415, 'HTTP_UNSUPPORTED_MEDIA_TYPE')

    assert.match(body.detail, /multipart\/form-data, text\/csv/)
  })

  test('rejects a charset other than UTF-8', async (t) => {
    await assertRejected(t,
      (admin) => upload(admin, BASELINE, { type: 'text/csv; charset=latin1' }),
      415, 'HTTP_CHARSET_UNSUPPORTED')
  })

  test('rejects a compressed body', async (t) => {
    await assertRejected(t,
      (admin) => fetch(`${admin.url}/upload-sales`, {
        method: 'POST',
        headers: {
          ...bearer(admin.token),
          'content-type': 'text/csv',
          'content-encoding': 'gzip',
        },
        body: gzipSync(BASELINE),
      }),
      415, 'HTTP_CONTENT_ENCODING_UNSUPPORTED')
  })

  test('rejects multipart without a boundary', async (t) => {
    await assertRejected(t,
      (admin) => upload(admin, 'x', { type: 'multipart/form-data' }),
      400, 'MULTIPART_BOUNDARY_MISSING')
  })

  test('rejects a boundary that never appears', async (t) => {
    const body = rawForm('other', '--BOUNDARY',
      'Content-Disposition: form-data; name="file"', '', BASELINE,
      '--BOUNDARY--', '')
    await assertRejected(t, (admin) => upload(admin, body,
      { type: 'multipart/form-data; boundary=expected' }),
    400, 'MULTIPART_BOUNDARY_NOT_FOUND')
  })

  test('rejects a truncated multipart body', async (t) => {
    const body = rawForm('cut', '--BOUNDARY',
      'Content-Disposition: form-data; name="file"', '', BASELINE)
    await assertRejected(t, (admin) => upload(admin, body,
      { type: 'multipart/form-data; boundary=cut' }),
    400, 'MULTIPART_TRUNCATED')
  })

  test('rejects a form without a file part', async (t) => {
    const form = new FormData()
    form.append('document', new Blob([BASELINE]), 'sales.csv')
    await assertRejected(t, (admin) => upload(admin, form),
      400, 'UPLOAD_FILE_MISSING')
  })

  test('rejects a form with two file parts', async (t) => {
    await assertRejected(t,
      (admin) => upload(admin, fileForm(BASELINE, BASELINE)),
      400, 'UPLOAD_FILE_REPEATED')
  })

  test('rejects a declared length over the limit', async (t) => {
    let response: Response | undefined
    await assertRejected(t, async (admin) => {
      response = await upload(admin, Buffer.alloc(5000, 'a'))
      return response
    }, 413, 'HTTP_BODY_TOO_LARGE', { maxUploadBytes: 4096 })

    assert.equal(response?.headers.get('connection'), 'close')
  })

  test('rejects a streamed body over the limit', async (t) => {
    let response: Response | undefined
    await assertRejected(t, async (admin) => {
      const rows = `${HEADER}${'Ada,1.00,2024-01-01\n'.repeat(10_000)}`
      response = await upload(admin, chunksOf(rows, 16_384))
      return response
    }, 413, 'HTTP_BODY_TOO_LARGE', { maxUploadBytes: 65_536 })

    assert.equal(response?.headers.get('connection'), 'close')
  })

  test('rejects bytes that are not UTF-8', async (t) => {
    const csv = Buffer.concat([Buffer.from(`${HEADER}Ada,1,2024-01-01\n`),
      Buffer.from([0x4a, 0xf6, 0x72, 0x67]), Buffer.from(',2,2024-01-02\n')])
    const body = await assertRejected(t, (admin) => upload(admin, csv),
      422, 'CSV_ENCODING_INVALID')

    assert.equal(body.errors[0].line, 3)
  })

  test('rejects an unterminated quote', async (t) => {
    const csv = `${HEADER}Ada,1,2024-01-01\n"Bruno,2,2024-01-02\n`
    const body = await assertRejected(t, (admin) => upload(admin, csv),
      422, 'CSV_SYNTAX_INVALID')

    assert.equal(body.errors[0].line, 3)
  })

  test('rejects a header missing a column', async (t) => {
    const csv = 'customer_name,total,day\nAda,1,2024-01-01\n'
    const body = await assertRejected(t, (admin) => upload(admin, csv),
      422, 'CSV_HEADER_INVALID')

    assert.deepEqual(body.errors.map((e: any) => e.column), ['amount', 'date'])
    assert.match(body.detail, /missing columns: amount, date/)
  })

  test('rejects a header naming a column twice', async (t) => {
    const csv = 'customer_name,amount,date,Amount\nAda,1,2024-01-01,2\n'
    const body = await assertRejected(t, (admin) => upload(admin, csv),
      422, 'CSV_HEADER_INVALID')

    assert.deepEqual(body.errors.map((e: any) => e.column), ['amount'])
  })

  test('rejects an empty file', async (t) => {
    await assertRejected(t, (admin) => upload(admin, ''),
      422, 'CSV_HEADER_MISSING')
  })

  test('rejects an unknown on_error value', async (t) => {
    await assertRejected(t,
      (admin) => upload(admin, BASELINE, { query: '?on_error=ignore' }),
      422, 'QUERY_PARAM_INVALID')
  })

  test('rejects the whole file for one bad row', async (t) => {
    const rows = [
      ['Ada', '12,50', '2024-01-01', 'amount'], // a decimal comma
      ['Ada', '$12', '2024-01-01', 'amount'], // a currency symbol
      ['Ada', '1e3', '2024-01-01', 'amount'], // an exponent
      ['Ada', 'NaN', '2024-01-01', 'amount'], // not a number
      ['Ada', '0x10', '2024-01-01', 'amount'], // a hex literal
      ['Ada', ' ', '2024-01-01', 'amount'], // blank
      ['Ada', '+5', '2024-01-01', 'amount'], // a plus sign
      ['Ada', '-1', '2024-01-01', 'amount'], // negative
      ['Ada', '1.00001', '2024-01-01', 'amount'], // 5 decimal places
      ['Ada', '1000000000', '2024-01-01', 'amount'], // 1e9, the first too large
      ['Ada', '1', '2024-02-30', 'date'], // February has no 30th
      ['Ada', '1', '2023-02-29', 'date'], // 2023 is no leap year
      ['Ada', '1', '2024-2-1', 'date'], // month and day need two digits
      ['Ada', '1', '2024-13-01', 'date'], // there is no month 13
      ['Ada', '1', '01/02/2024', 'date'], // not YYYY-MM-DD
      ['  ', '1', '2024-01-01', 'customer_name'], // only spaces
      ['x'.repeat(201), '1', '2024-01-01', 'customer_name'], // 201 characters
    ]
    const admin = await startAdmin(t)
    assert.equal((await upload(admin, BASELINE)).status, 201)
    const before = await summary(admin)

    for (const [name, amount, date, column] of rows) {
      const csv = `${HEADER}Bruno,1,2024-01-01\n"${name}","${amount}",${date}\n`
      const body = await assertProblem(await upload(admin, csv), 422,
        'CSV_ROWS_INVALID')
      assert.equal(body.errors.length, 1, csv)
      assert.equal(body.errors[0].line, 3, csv)
      assert.equal(body.errors[0].column, column, csv)
      assert.equal(body.rows_invalid, 1, csv)
      assert.deepEqual(await summary(admin), before, csv)
    }
  })

  test('lists 100 errors and counts the rest', async (t) => {
    const csv = HEADER + 'Ada,x,2024-01-01\n'.repeat(150)
    const body = await assertRejected(t, (admin) => upload(admin, csv),
      422, 'CSV_ROWS_INVALID')

    assert.equal(body.errors.length, 100)
    assert.equal(body.errors_omitted, 50)
    assert.equal(body.rows_invalid, 150)
    assert.equal(body.errors[99].line, 101)
  })

  test('passes on the store refusing a huge total', async (t) => {
    const csv = HEADER + 'Ada,999999999.9999,2024-01-01\n'.repeat(901)
    await assertRejected(t, (admin) => upload(admin, csv),
      422, 'SALES_TOTAL_TOO_LARGE')
  })
})

describe('POST /upload-sales access', () => {
  test('needs a token', async (t) => {
    const { url } = await startServer(t)

    const response = await fetch(`${url}/upload-sales`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: BASELINE,
    })

    await assertProblem(response, 401, 'AUTH_TOKEN_MISSING')
  })

  test('rejects a user before reading the body', async (t) => {
    const { app, url } = await startServer(t)
    const { token } = await createUserWithToken(app, 'user')
    const stop = new AbortController()
    t.after(() => stop.abort())
    // A body that never ends: only a reply sent before reading it can arrive.
    async function* endless(): AsyncIterable<Uint8Array> {
      yield Buffer.from(HEADER)
      await new Promise((resolve) => stop.signal.addEventListener('abort', resolve))
    }

    const response = await fetch(`${url}/upload-sales`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'text/csv' },
      body: endless(),
      duplex: 'half',
      signal: stop.signal,
    } as RequestInit)

    await assertProblem(response, 403, 'AUTH_ADMIN_REQUIRED')
  })
})

describe('POST /upload-sales concurrency', () => {
  test('queries never see part of an upload', async (t) => {
    const admin = await startAdmin(t)
    await upload(admin, BASELINE)
    const before = await summary(admin)
    const csv = generateSalesCsvText(20_000, { seed: 3 })
    const seen: number[] = []

    const response = await upload(admin, chunksOf(csv, 32_768, async () => {
      seen.push((await summary(admin)).total_transactions as number)
    }))

    assert.equal(response.status, 201)
    assert.ok(seen.length > 10)
    for (const count of seen) assert.equal(count, before.total_transactions)
    assert.equal((await summary(admin)).total_transactions,
      (before.total_transactions as number) + 20_000)
  })

  test('two uploads at once both land whole', async (t) => {
    const admin = await startAdmin(t)
    const first = generateSalesCsvText(15_000, { seed: 1 })
    const second = generateSalesCsvText(10_000, { seed: 2 })
    let turn = Promise.resolve()
    // The two bodies take turns, one chunk each, so the uploads overlap.
    const alternate = () => {
      const previous = turn
      turn = new Promise((resolve) => setImmediate(resolve))
      return previous
    }

    const responses = await Promise.all([
      upload(admin, chunksOf(first, 16_384, alternate)),
      upload(admin, chunksOf(second, 16_384, alternate)),
    ])
    const bodies = await Promise.all(responses.map(jsonBody))

    assert.deepEqual(responses.map((r) => r.status), [201, 201])
    assert.deepEqual(bodies.map((b) => b.rows_inserted), [15_000, 10_000])
    assert.notEqual(bodies[0].upload_id, bodies[1].upload_id)
    assert.equal((await summary(admin)).total_transactions, 25_000)
  })
})

describe('DELETE /sales', () => {
  test('clears every sale', async (t) => {
    const admin = await startAdmin(t)
    await upload(admin, BASELINE)

    const response = await fetch(`${admin.url}/sales`,
      { method: 'DELETE', headers: bearer(admin.token) })

    assert.equal(response.status, 200)
    assert.deepEqual(await jsonBody(response), { total_transactions: 0 })
    assert.deepEqual(await summary(admin),
      { total_sales: 0, total_transactions: 0, average_order_value: 0 })
  })

  test('is for admins only', async (t) => {
    const { app, url } = await startServer(t)
    const { token } = await createUserWithToken(app, 'user')

    const anonymous = await fetch(`${url}/sales`, { method: 'DELETE' })
    const user = await fetch(`${url}/sales`,
      { method: 'DELETE', headers: bearer(token) })

    await assertProblem(anonymous, 401, 'AUTH_TOKEN_MISSING')
    await assertProblem(user, 403, 'AUTH_ADMIN_REQUIRED')
  })
})

describe('parseAmountUnits', () => {
  test('converts decimals exactly', () => {
    const cases: Array<[string, number]> = [
      ['1.005', 10_050],
      ['250.75', 2_507_500],
      ['100', 1_000_000],
      ['0.5', 5000],
      ['0', 0],
      ['007.1000', 71_000],
      ['999999999.9999', 9_999_999_999_999],
      [' 12.5 ', 125_000],
    ]
    for (const [text, units] of cases) {
      assert.equal(parseAmountUnits(text), units, text)
    }
  })

  test('rejects what is not a plain decimal', () => {
    const cases = [
      '12,50', // a decimal comma
      '1,000', // a thousands separator
      '$12', // a currency symbol
      '1e3', // an exponent
      'NaN', // not a number
      'Infinity', // not a number
      '0x10', // a hex literal
      '', // empty
      '+5', // a plus sign
      '-1', // negative
      '-0', // negative zero
      '.5', // no whole part
      '5.', // no fraction digits after the point
      '1.2.3', // two points
      '1.23456', // 5 decimal places
      '1000000000', // 1e9
      '１２', // full-width digits
    ]
    for (const text of cases) {
      assert.ok(parseAmountUnits(text) instanceof Rejection, text)
    }
  })
})

describe('BatchBuilder', () => {
  test('grows past its reserved rows', () => {
    const builder = new BatchBuilder({ maxRows: 1 })
    builder.addRecord(['date', 'customer_name', 'amount'], 1)
    const rows = 20_000
    for (let i = 0; i < rows; i++) {
      builder.addRecord(['2024-01-01', `c${i % 7}`, String(i)], i + 2)
    }

    const { batch, errorCount } = builder.finish()

    assert.equal(errorCount, 0)
    assert.equal(batch.length, rows)
    assert.ok(batch.units.length >= rows)
    assert.deepEqual(batch.customerNames, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'])
    for (const row of [0, 4095, 4096, 8191, 8192, rows - 1]) {
      assert.equal(batch.units[row], row * 10_000, `row ${row}`)
      assert.equal(batch.customerIndex[row], row % 7, `row ${row}`)
      assert.equal(batch.days[row], 19_723, `row ${row}`)
    }
  })

  test('stops staging after the first error', () => {
    const builder = new BatchBuilder({ keepValidRows: false })
    builder.addRecord(['customer_name', 'amount', 'date'], 1)
    builder.addRecord(['Ada', '1', '2024-01-01'], 2)
    builder.addRecord(['Ada', 'bad', '2024-01-01'], 3)
    builder.addRecord(['Ada', '2', '2024-01-01'], 4)

    const staged = builder.finish()

    assert.equal(staged.batch.length, 1)
    assert.equal(staged.rowsSkipped, 1)
    assert.equal(staged.errorCount, 1)
  })
})

/** Stages `input` through the upload's parser, fed in pieces of `sizes`. */
function stageInChunks(input: Buffer, sizes: number[]): StagedUpload {
  const builder = new BatchBuilder()
  pushInChunks(new CsvParser(builder), input, sizes)
  return builder.finish()
}

// The staged rows as plain values, so runs can be compared whole.
function stagedRows(staged: StagedUpload) {
  const { batch } = staged
  return {
    rows: Array.from({ length: batch.length }, (_, row) => [
      batch.customerNames[batch.customerIndex[row] as number],
      batch.units[row],
      batch.days[row],
    ]),
    errors: staged.errors,
    errorCount: staged.errorCount,
    rowsSkipped: staged.rowsSkipped,
  }
}

function randomChunkSizes(seed: number, max: number): number[] {
  const random = seededRandom(seed)
  return Array.from({ length: 64 }, () => 1 + Math.floor(random() * max))
}

const dayOf = (year: number, month: number, day: number) =>
  Date.UTC(year, month - 1, day) / 86_400_000

describe('BatchBuilder with CsvParser', () => {
  test('stages the same rows for every split', () => {
    const tricky = [
      '"  Zoe\u0308 ",1.5,2024-01-01', // an NFD name with spaces, quoted
      'Zoë,2,2024-01-01', // the same customer in NFC
      '"Bob ""Ace"" Lee",3,2024-02-29', // escaped quotes
      'Bob "Ace" Lee,4,2024-03-01', // the same name unquoted
      'Ada,-1,2024-01-01', // a negative amount
      'Ada,1,2023-02-29', // no leap day in 2023
      '"",1,2024-01-01', // an empty name
      'Ada, 7.25 ,2024-01-01', // spaces around the amount
      'Ada,1', // a missing date
    ].join('\r\n')
    const input = Buffer.from(
      generateSalesCsvText(2000, { seed: 11 }) + tricky + '\n')
    const whole = stagedRows(stageInChunks(input, [input.length]))

    assert.equal(whole.rows.length, 2000 + 5)
    assert.equal(whole.errorCount, 4)
    for (const [seed, max] of [[1, 1], [2, 5], [3, 17], [4, 300], [5, 5000]]) {
      assert.deepEqual(stagedRows(stageInChunks(input, randomChunkSizes(seed!, max!))),
        whole, `seed ${seed}, chunks up to ${max}`)
    }
  })

  test('counts spellings of one name as one customer', () => {
    const csv = `${HEADER}Zoë,1,2024-01-01\n"  Zoe\u0308 ",1,2024-01-01\n` +
      '"Zoë",1,2024-01-01\n Zoë,1,2024-01-01\nZoë,1,2024-01-01\n'

    const { batch } = stageInChunks(Buffer.from(csv), [csv.length])

    assert.deepEqual(batch.customerNames, ['Zoë'])
    assert.deepEqual([...batch.customerIndex.subarray(0, batch.length)],
      [0, 0, 0, 0, 0])
  })

  test('keeps days right past the date cache size', () => {
    const first = dayOf(2000, 1, 1)
    const days = Array.from({ length: 6000 }, (_, i) => first + i)
    const dates = days.map((day) =>
      new Date(day * 86_400_000).toISOString().slice(0, 10))
    const rows = [...dates, ...dates].map((date) => `Ada,1,${date}`)
    const bad = Array(3).fill('Ada,1,2023-02-29')
    const csv = `${HEADER}${[...rows, ...bad].join('\n')}\n`

    const staged = stageInChunks(Buffer.from(csv), [65_536])

    assert.equal(staged.batch.length, rows.length)
    assert.deepEqual([...staged.batch.days.subarray(0, staged.batch.length)],
      [...days, ...days])
    assert.equal(staged.errorCount, 3)
  })

  test('gives each of many names its own customer', () => {
    const count = 30_000
    const names = Array.from({ length: count }, (_, i) => `Customer ${i}`)
    const csv = HEADER + names.map((name) => `${name},1,2024-01-01\n`).join('') +
      names.map((name) => `"${name}",2,2024-01-02\n`).join('')

    const { batch } = stageInChunks(Buffer.from(csv), [4096])

    assert.deepEqual(batch.customerNames, names)
    for (let row = 0; row < 2 * count; row++) {
      assert.equal(batch.customerIndex[row], row % count, `row ${row}`)
    }
  })
})

describe('ByteKeyTable', () => {
  test('finds a key wherever its bytes sit', () => {
    const table = new ByteKeyTable()
    const stored = Buffer.from('..Ada,Ab,,')
    table.add(stored, 2, 5, 7) // Ada
    table.add(stored, 6, 8, 8) // Ab, a prefix of nothing stored
    table.add(stored, 9, 9, 9) // the empty key
    stored.fill(0)
    const lookup = Buffer.from('Ada Ab A')

    assert.equal(table.get(lookup, 0, 3), 7)
    assert.equal(table.get(lookup, 4, 6), 8)
    assert.equal(table.get(lookup, 3, 3), 9)
    assert.equal(table.get(lookup, 7, 8), ABSENT) // A
    assert.equal(table.get(lookup, 0, 2), ABSENT) // Ad
    assert.equal(table.size, 3)
  })

  test('keeps every key as it grows', () => {
    const table = new ByteKeyTable()
    const count = 40_000
    const key = (i: number) => Buffer.from(`name ${i} ${'é'.repeat(i % 9)}`)
    for (let i = 0; i < count; i++) {
      const bytes = key(i)
      table.add(bytes, 0, bytes.length, i - 20_000)
    }

    assert.equal(table.size, count)
    for (let i = 0; i < count; i++) {
      const bytes = key(i)
      assert.equal(table.get(bytes, 0, bytes.length), i - 20_000, `key ${i}`)
    }
    assert.equal(table.get(Buffer.from('name'), 0, 4), ABSENT)
  })
})

describe('DayCache', () => {
  test('returns cached days and UNCACHED for others', () => {
    const cache = new DayCache()
    cache.set(20240101, 19_723)
    cache.set(19000101, -25_567)

    assert.equal(cache.get(20240101), 19_723)
    assert.equal(cache.get(19000101), -25_567)
    assert.equal(cache.get(20240102), UNCACHED)
  })

  test('empties itself when full and caches again', () => {
    const cache = new DayCache()
    for (let key = 0; key < 4096; key++) cache.set(key, key + 1)
    assert.equal(cache.get(4095), 4096)

    cache.set(99_999_999, 5)

    assert.equal(cache.get(99_999_999), 5)
    assert.equal(cache.get(0), UNCACHED)
    assert.equal(cache.get(4095), UNCACHED)
  })
})

describe('row byte shortcuts', () => {
  const at = (text: string) => {
    const bytes = Buffer.from(text)
    return [bytes, 0, bytes.length] as const
  }

  test('plainAmountUnits agrees with parseAmountUnits', () => {
    const plain = ['0', '1', '1.005', '250.75', '007.1000', '999999999.9999']
    const other = [
      ' 12.5 ', // spaces, which only the full rule trims
      '0000000001', // 10 digits with leading zeros
      '1.23456', // 5 decimal places
      '1000000000', // 1e9
      '.5', // no whole part
      '5.', // no fraction digits
      '-1', // negative
      '１２', // full-width digits
      '1,5', // a decimal comma
      '', // empty
    ]

    for (const text of plain) {
      assert.equal(plainAmountUnits(...at(text)), parseAmountUnits(text), text)
    }
    for (const text of other) {
      assert.equal(plainAmountUnits(...at(text)), -1, text)
    }
  })

  test('packedDateKey names the text and no other', () => {
    assert.equal(packedDateKey(...at('2024-02-30')), 20_240_230)
    assert.equal(packedDateKey(...at('0000-01-01')), 101)
    const other = [
      '2024-2-01', // a one-digit month
      ' 2024-01-01', // a leading space
      '2024/01/01', // slashes
      '2024-01-0x', // a letter
      '２０２４-01-01', // full-width digits
    ]
    for (const text of other) {
      assert.equal(packedDateKey(...at(text)), -1, text)
    }
  })
})
