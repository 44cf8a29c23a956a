import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test, type TestContext } from 'node:test'
import { averageAmount, unitsToAmount } from '../src/sales/money.ts'
import {
  bearer,
  createUserWithToken,
  jsonBody,
  startServer,
  type TestServer,
} from './support/server.ts'

const SUPERSTORE = readFileSync(
  new URL('./fixtures/superstore-sales.csv', import.meta.url), 'utf8')

interface Sale {
  name: string
  /** Amount in units of 1/10000, computed from the text with BigInt. */
  units: bigint
  date: string
}

/** Splits RFC 4180 text into records: quotes, doubled quotes, CRLF. */
function readCsv(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (char === '"') {
        quoted = false
      } else {
        field += char
      }
    } else if (char === '"') {
      quoted = true
    } else if (char === ',') {
      record.push(field)
      field = ''
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++
      record.push(field)
      records.push(record)
      record = []
      field = ''
    } else {
      field += char
    }
  }
  if (field !== '' || record.length > 0) records.push([...record, field])
  return records
}

function unitsOf(amount: string): bigint {
  const [whole = '', fraction = ''] = amount.split('.')
  return BigInt(whole) * 10_000n + BigInt(fraction.padEnd(4, '0'))
}

function readSales(text: string): Sale[] {
  const [header, ...records] = readCsv(text.replace(/^\uFEFF/, ''))
  const columns = (header ?? []).map((name) => name.trim().toLowerCase())
  const at = (name: string) => columns.indexOf(name)
  return records
    .filter((record) => record.join('') !== '')
    .map((record) => ({
      name: (record[at('customer_name')] ?? '').trim().normalize('NFC'),
      units: unitsOf(record[at('amount')] ?? ''),
      date: record[at('date')] ?? '',
    }))
}

/** Rounds units half-up to cents and reads the decimal text as a number. */
function money(units: bigint): number {
  const cents = units / 100n + (units % 100n >= 50n ? 1n : 0n)
  return Number(`${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`)
}

/** Average of `total` over `count` rows, rounded half-up to cents. */
function averageMoney(total: bigint, count: number): number {
  if (count === 0) return 0
  const divisor = 100n * BigInt(count)
  const cents = total / divisor + (2n * (total % divisor) >= divisor ? 1n : 0n)
  return Number(`${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`)
}

function sumUnits(sales: Sale[]): bigint {
  return sales.reduce((sum, sale) => sum + sale.units, 0n)
}

function between(sales: Sale[], from?: string, to?: string): Sale[] {
  return sales.filter((sale) =>
    (from === undefined || sale.date >= from) &&
    (to === undefined || sale.date <= to))
}

/** Sorts by date, keeping file order within a date, as the store does. */
function byDate(sales: Sale[]): Sale[] {
  // Array.prototype.sort is stable, so equal dates keep their order.
  return [...sales].sort((a, b) => compareText(a.date, b.date))
}

function compareText(a: string, b: string): number {
  if (a === b) return 0
  return a < b ? -1 : 1
}

function compareTotals(a: bigint, b: bigint): number {
  if (a === b) return 0
  return a > b ? -1 : 1
}

function topOf(sales: Sale[], limit: number) {
  const totals = new Map<string, { units: bigint, count: number }>()
  for (const sale of sales) {
    const total = totals.get(sale.name) ?? { units: 0n, count: 0 }
    total.units += sale.units
    total.count++
    totals.set(sale.name, total)
  }
  return [...totals]
    .sort(([nameA, a], [nameB, b]) =>
      compareTotals(a.units, b.units) || compareText(nameA, nameB))
    .slice(0, limit)
    .map(([name, total], i) => ({
      rank: i + 1,
      customer_name: name,
      total_sales: money(total.units),
      transaction_count: total.count,
    }))
}

interface Setup {
  server: TestServer
  headers: Record<string, string>
  get(path: string): Promise<Response>
}

/** Starts a server with an admin and uploads `csv` as a raw body. */
async function setUp(t: TestContext, csv?: string): Promise<Setup> {
  const server = await startServer(t)
  const { token } = await createUserWithToken(server.app, 'admin')
  const headers = bearer(token)
  if (csv !== undefined) {
    const response = await fetch(`${server.url}/upload-sales`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/csv' },
      body: csv,
    })
    assert.equal(response.status, 201, await response.text())
  }
  return {
    server,
    headers,
    get: (path) => fetch(`${server.url}${path}`, { headers }),
  }
}

async function okJson(response: Response): Promise<any> {
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('content-type'),
    'application/json; charset=utf-8')
  return jsonBody(response)
}

function csvOf(rows: Array<[string, string, string]>): string {
  return 'customer_name,amount,date\n' +
    rows.map((row) => row.join(',')).join('\n') + '\n'
}

const ALL = readSales(SUPERSTORE)

describe('GET /analytics/summary', () => {
  test('totals the Superstore file', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(await get('/analytics/summary'))

    const total = sumUnits(ALL)
    assert.equal(body.total_sales, money(total))
    assert.equal(body.total_transactions, ALL.length)
    assert.equal(body.average_order_value, averageMoney(total, ALL.length))
  })

  test('empty store returns zeros', async (t) => {
    const { get } = await setUp(t)

    const body = await okJson(await get('/analytics/summary'))

    assert.deepEqual(body, {
      total_sales: 0,
      total_transactions: 0,
      average_order_value: 0,
    })
  })

  test('ranges match the rows in them', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)
    const someDay = ALL[100]!.date
    const ranges: Array<[string | undefined, string | undefined, string]> = [
      ['2016-01-01', '2016-12-31', 'a whole year'],
      ['2015-03-01', '2015-03-31', 'one month'],
      [someDay, someDay, 'one day'],
      ['2014-01-01', '2014-01-02', 'a range with no sales'],
      ['2020-01-01', '2020-12-31', 'a range after the data'],
      ['2016-07-01', undefined, 'open end'],
      [undefined, '2015-06-30', 'open start'],
      [undefined, undefined, 'both bounds open'],
    ]

    for (const [from, to, label] of ranges) {
      const query = new URLSearchParams()
      if (from) query.set('from', from)
      if (to) query.set('to', to)
      const body = await okJson(await get(`/analytics/summary?${query}`))

      const rows = between(ALL, from, to)
      const total = sumUnits(rows)
      assert.equal(body.total_transactions, rows.length, label)
      assert.equal(body.total_sales, money(total), label)
      assert.equal(body.average_order_value,
        averageMoney(total, rows.length), label)
    }
  })

  test('an empty range returns zeros', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(
      await get('/analytics/summary?from=2030-01-01&to=2030-01-31'))

    assert.deepEqual(body, {
      total_sales: 0,
      total_transactions: 0,
      average_order_value: 0,
    })
  })

  test('rejects a request without a token', async (t) => {
    const { server } = await setUp(t)

    const response = await fetch(`${server.url}/analytics/summary`)

    assert.equal(response.status, 401)
    assert.equal((await jsonBody(response)).code, 'AUTH_TOKEN_MISSING')
  })

  test('rejects a user who is not an admin', async (t) => {
    const { server } = await setUp(t)
    const { token } = await createUserWithToken(server.app, 'user')

    for (const path of ['summary', 'top-customers', 'by-date']) {
      const response = await fetch(`${server.url}/analytics/${path}`,
        { headers: bearer(token) })

      assert.equal(response.status, 403, path)
      assert.equal((await jsonBody(response)).code, 'AUTH_ADMIN_REQUIRED')
    }
  })
})

describe('money rounding', () => {
  test('10 x 0.10 and 20 x 0.20 total 5.00', async (t) => {
    const rows: Array<[string, string, string]> = []
    for (let i = 0; i < 10; i++) rows.push(['Ten', '0.10', '2024-01-01'])
    for (let i = 0; i < 20; i++) rows.push(['Twenty', '0.20', '2024-01-02'])
    const { get } = await setUp(t, csvOf(rows))

    const body = await okJson(await get('/analytics/summary'))

    assert.equal(body.total_sales, 5)
    assert.equal(body.total_transactions, 30)
    assert.equal(body.average_order_value, 0.17)
  })

  test('10,000 x 0.01 total 100.00', async (t) => {
    const rows: Array<[string, string, string]> = []
    for (let i = 0; i < 10_000; i++) {
      rows.push([`C${i % 7}`, '0.01', '2024-03-01'])
    }
    const { get } = await setUp(t, csvOf(rows))

    const body = await okJson(await get('/analytics/summary'))

    assert.equal(body.total_sales, 100)
    assert.equal(body.average_order_value, 0.01)
  })

  test('half cents round up as decimals', async (t) => {
    const { get } = await setUp(t, csvOf([
      ['Ann', '1.005', '2024-01-01'],
      ['Bob', '2.675', '2024-01-02'],
      ['Cat', '0.0049', '2024-01-03'],
    ]))

    const body = await okJson(await get('/analytics/by-date'))

    assert.deepEqual(body.sales.map((sale: any) => sale.amount),
      [1.01, 2.68, 0])
    // 1.005 + 2.675 + 0.0049 = 3.6849 units of currency
    assert.equal(body.total_sales, 3.68)
  })

  test('average rounds the exact quotient', async (t) => {
    const { get } = await setUp(t, csvOf([
      ['Ann', '0.01', '2024-01-01'],
      ['Bob', '0.02', '2024-01-01'],
      ['Cat', '0.0050', '2024-01-01'],
      ['Dan', '0.0050', '2024-01-01'],
    ]))

    const body = await okJson(await get('/analytics/summary'))

    // 400 units over 4 rows is exactly 100 units, so 0.01 with no rounding.
    assert.equal(body.total_sales, 0.04)
    assert.equal(body.average_order_value, 0.01)
  })

  test('unitsToAmount rounds half-up at the cent', () => {
    const cases: Array<[number, number]> = [
      [0, 0],
      [49, 0],
      [50, 0.01],
      [10_050, 1.01],
      [26_750, 2.68],
      [26_749, 2.67],
      [Number.MAX_SAFE_INTEGER, 900_719_925_474.1],
      [Number.MAX_SAFE_INTEGER - 50, 900_719_925_474.09],
    ]
    for (const [units, amount] of cases) {
      assert.equal(unitsToAmount(units), amount, String(units))
    }
  })

  test('averageAmount stays exact past 2^53', () => {
    const max = Number.MAX_SAFE_INTEGER

    assert.equal(averageAmount(max, 1), 900_719_925_474.1)
    assert.equal(averageAmount(max, 3), averageMoney(BigInt(max), 3))
    assert.equal(averageAmount(150, 2), 0.01)
    assert.equal(averageAmount(149, 3), 0)
    assert.equal(averageAmount(0, 0), 0)
  })
})

describe('GET /analytics/top-customers', () => {
  test('top 5 of the Superstore file', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(await get('/analytics/top-customers?limit=5'))

    assert.equal(body.limit, 5)
    assert.deepEqual(body.customers, topOf(ALL, 5))
  })

  test('limit defaults to 3', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(await get('/analytics/top-customers'))

    assert.equal(body.limit, 3)
    assert.deepEqual(body.customers, topOf(ALL, 3))
  })

  test('a range ranks its rows only', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(await get(
      '/analytics/top-customers?limit=10&from=2017-03-01&to=2017-03-31'))

    assert.deepEqual(body.customers,
      topOf(between(ALL, '2017-03-01', '2017-03-31'), 10))
  })

  test('ties are ordered by name', async (t) => {
    const { get } = await setUp(t, csvOf([
      ['Zoe', '10.00', '2024-01-01'],
      ['Abe', '4.00', '2024-01-02'],
      ['Abe', '6.00', '2024-01-03'],
      ['Mia', '10.00', '2024-01-01'],
      ['Top', '10.01', '2024-01-04'],
    ]))

    const all = await okJson(await get('/analytics/top-customers?limit=10'))
    const ranged = await okJson(await get(
      '/analytics/top-customers?limit=10&from=2024-01-01&to=2024-01-03'))

    const names = all.customers.map((c: any) => c.customer_name)
    assert.deepEqual(names, ['Top', 'Abe', 'Mia', 'Zoe'])
    assert.deepEqual(all.customers.map((c: any) => c.rank), [1, 2, 3, 4])
    assert.deepEqual(ranged.customers.map((c: any) => c.customer_name),
      ['Abe', 'Mia', 'Zoe'])
  })

  test('empty store returns no customers', async (t) => {
    const { get } = await setUp(t)

    const body = await okJson(await get('/analytics/top-customers'))

    assert.deepEqual(body, { limit: 3, customers: [] })
  })
})

describe('GET /analytics/by-date', () => {
  test('reports the range and its totals', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(await get(
      '/analytics/by-date?from=2015-03-01&to=2015-03-31&limit=5'))

    const rows = byDate(between(ALL, '2015-03-01', '2015-03-31'))
    assert.equal(body.from, '2015-03-01')
    assert.equal(body.to, '2015-03-31')
    assert.equal(body.total_sales, money(sumUnits(rows)))
    assert.equal(body.total_transactions, rows.length)
    assert.equal(body.limit, 5)
    assert.equal(body.offset, 0)
    assert.equal(body.next_offset, 5)
    assert.deepEqual(body.sales, rows.slice(0, 5).map((sale) => ({
      customer_name: sale.name,
      amount: money(sale.units),
      date: sale.date,
    })))
  })

  test('open bounds are reported as null', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const open = await okJson(await get('/analytics/by-date?limit=1'))
    const from = await okJson(await get('/analytics/by-date?from=2017-12-01'))

    assert.equal(open.from, null)
    assert.equal(open.to, null)
    assert.equal(open.total_transactions, ALL.length)
    assert.equal(from.from, '2017-12-01')
    assert.equal(from.to, null)
    assert.equal(from.total_transactions,
      between(ALL, '2017-12-01').length)
  })

  test('paging returns every row once', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)
    const seen: any[] = []
    let offset: number | null = 0
    let pages = 0

    while (offset !== null && pages < 100) {
      const body = await okJson(
        await get(`/analytics/by-date?limit=997&offset=${offset}`))
      assert.equal(body.offset, offset)
      seen.push(...body.sales)
      offset = body.next_offset
      pages++
    }

    assert.equal(pages, Math.ceil(ALL.length / 997))
    assert.deepEqual(seen, byDate(ALL).map((sale) => ({
      customer_name: sale.name,
      amount: money(sale.units),
      date: sale.date,
    })))
  })

  test('an offset past the end returns no rows', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(await get(
      `/analytics/by-date?offset=${ALL.length}`))

    assert.deepEqual(body.sales, [])
    assert.equal(body.next_offset, null)
    assert.equal(body.total_transactions, ALL.length)
  })

  test('group=day totals each day of the range', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const body = await okJson(await get(
      '/analytics/by-date?from=2016-01-01&to=2016-12-31&group=day'))

    const rows = between(ALL, '2016-01-01', '2016-12-31')
    const dates = [...new Set(byDate(rows).map((sale) => sale.date))]
    assert.equal(body.sales, undefined)
    assert.equal(body.next_offset, null)
    assert.deepEqual(body.days.map((d: any) => d.date), dates)
    for (const entry of body.days) {
      const ofDay = rows.filter((sale) => sale.date === entry.date)
      assert.equal(entry.total_sales, money(sumUnits(ofDay)), entry.date)
      assert.equal(entry.transaction_count, ofDay.length, entry.date)
    }
    const counted = body.days.reduce(
      (sum: number, d: any) => sum + d.transaction_count, 0)
    assert.equal(counted, body.total_transactions)
    assert.equal(body.total_sales, money(sumUnits(rows)))
  })

  test('group=day pages through the days', async (t) => {
    const { get } = await setUp(t, SUPERSTORE)

    const first = await okJson(
      await get('/analytics/by-date?group=day&limit=400'))
    const rest = await okJson(await get(
      `/analytics/by-date?group=day&limit=10000&offset=${first.next_offset}`))

    const dates = [...new Set(byDate(ALL).map((sale) => sale.date))]
    assert.equal(first.days.length, 400)
    assert.equal(first.next_offset, 400)
    assert.equal(rest.next_offset, null)
    assert.deepEqual([...first.days, ...rest.days].map((d: any) => d.date),
      dates)
  })

  test('empty store returns an empty page', async (t) => {
    const { get } = await setUp(t)

    const body = await okJson(await get('/analytics/by-date'))

    assert.deepEqual(body, {
      from: null,
      to: null,
      total_sales: 0,
      total_transactions: 0,
      sales: [],
      limit: 1000,
      offset: 0,
      next_offset: null,
    })
  })
})

describe('analytics query validation', () => {
  async function expectInvalid(
    get: Setup['get'],
    path: string,
    code: string,
    field: string,
  ): Promise<void> {
    const response = await get(path)
    assert.equal(response.status, 422, path)
    assert.equal(response.headers.get('content-type'),
      'application/problem+json; charset=utf-8', path)
    const body = await jsonBody(response)
    assert.equal(body.code, code, path)
    assert.equal(body.errors?.[0]?.field, field, path)
  }

  test('rejects a top-customers limit out of range', async (t) => {
    const { get } = await setUp(t)
    const limits = [
      '0', // below the minimum
      '1001', // above the maximum
      '-1', // negative
      '2.5', // not an integer
      '1e2', // exponent
      '', // empty
      'ten', // not a number
      ' 3', // leading space
      '0x10', // hex
      '99999999999999999999', // beyond any integer range
    ]
    for (const limit of limits) {
      await expectInvalid(get,
        `/analytics/top-customers?limit=${encodeURIComponent(limit)}`,
        'QUERY_PARAM_INVALID', 'limit')
    }
  })

  test('rejects a by-date limit out of range', async (t) => {
    const { get } = await setUp(t)
    const limits = [
      '0', // below the minimum
      '10001', // above the maximum
      '+5', // sign
      '5.0', // fraction
    ]
    for (const limit of limits) {
      await expectInvalid(get,
        `/analytics/by-date?limit=${encodeURIComponent(limit)}`,
        'QUERY_PARAM_INVALID', 'limit')
    }
  })

  test('rejects an invalid offset', async (t) => {
    const { get } = await setUp(t)
    const offsets = [
      '-1', // negative
      '1.5', // fraction
      'abc', // not a number
      '', // empty
    ]
    for (const offset of offsets) {
      await expectInvalid(get,
        `/analytics/by-date?offset=${encodeURIComponent(offset)}`,
        'QUERY_PARAM_INVALID', 'offset')
    }
  })

  test('rejects dates that are not real days', async (t) => {
    const { get } = await setUp(t)
    const dates = [
      '2024-02-30', // no such day
      '2023-02-29', // not a leap year
      '2024-13-01', // no such month
      '2024-2-1', // missing zero padding
      '2024/02/01', // wrong separator
      '20240201', // no separators
      '2024-02-01T00:00:00Z', // a timestamp, not a date
      '', // empty
    ]
    for (const route of ['summary', 'top-customers', 'by-date']) {
      for (const name of ['from', 'to']) {
        for (const date of dates) {
          await expectInvalid(get,
            `/analytics/${route}?${name}=${encodeURIComponent(date)}`,
            'QUERY_PARAM_INVALID', name)
        }
      }
    }
  })

  test('rejects from after to', async (t) => {
    const { get } = await setUp(t)

    for (const route of ['summary', 'top-customers', 'by-date']) {
      await expectInvalid(get,
        `/analytics/${route}?from=2024-02-02&to=2024-02-01`,
        'QUERY_RANGE_INVALID', 'from')
    }
  })

  test('rejects an unknown group', async (t) => {
    const { get } = await setUp(t)

    for (const group of ['month', 'DAY', '', 'customer']) {
      await expectInvalid(get, `/analytics/by-date?group=${group}`,
        'QUERY_PARAM_INVALID', 'group')
    }
  })

  test('rejects a repeated parameter', async (t) => {
    const { get } = await setUp(t)
    const repeated: Array<[string, string]> = [
      ['top-customers?limit=3&limit=5', 'limit'],
      ['top-customers?limit=3&limit=3', 'limit'],
      ['summary?from=2024-01-01&from=2024-01-02', 'from'],
      ['by-date?to=2024-01-01&to=2024-01-01', 'to'],
      ['by-date?offset=0&offset=10', 'offset'],
      ['by-date?group=day&group=day', 'group'],
    ]
    for (const [path, field] of repeated) {
      await expectInvalid(get, `/analytics/${path}`,
        'QUERY_PARAM_REPEATED', field)
    }
  })
})

describe('analytics OpenAPI', () => {
  test('documents the three routes', async (t) => {
    const { server } = await setUp(t)

    const body = await okJson(await fetch(`${server.url}/openapi.json`))

    for (const path of ['summary', 'top-customers', 'by-date']) {
      const operation = body.paths[`/analytics/${path}`]?.get
      assert.ok(operation, path)
      assert.ok(operation.responses[200], path)
      assert.ok(operation.responses[422], path)
    }
  })
})
