import type { AppServerInfo } from './app-server.ts'
import {
  formatNumber,
  formatRatio,
  loadTest,
  markdownTable,
  salesCsv,
  startChildServer,
  type ChildServer,
} from './harness.ts'
import { sendRequest, uploadFile } from './upload-client.ts'

/**
 * Queries over HTTP: req/s and p99 with autocannon for the summary, a
 * one-month range total, a 100-row `by-date` page and the top 10, with
 * 10,000 and 1,000,000 rows uploaded. One server per size, in its own
 * child process, with request logs on as in production.
 */

const SIZES = [10_000, 1_000_000]
const CONNECTIONS = 10
const DURATION_SECONDS = 5
const WARMUP_SECONDS = 1
const MONTH = 'from=2023-06-01&to=2023-06-30'

interface Query {
  name: string
  path: string
  /** Throws unless the body is the expected response for `rows` rows. */
  check(body: Record<string, unknown>, rows: number): void
}

const QUERIES: Query[] = [
  {
    name: 'summary, all rows',
    path: '/analytics/summary',
    check: (body, rows) => expectEqual(body.total_transactions, rows,
      'total_transactions'),
  },
  {
    name: 'range total, one month',
    path: `/analytics/summary?${MONTH}`,
    check: (body) => expectPositive(body.total_transactions,
      'total_transactions'),
  },
  {
    name: 'by-date page of 100',
    path: `/analytics/by-date?${MONTH}&limit=100&offset=100`,
    check: (body) => expectEqual((body.sales as unknown[]).length, 100,
      'sales.length'),
  },
  {
    name: 'top 10 customers',
    path: '/analytics/top-customers?limit=10',
    check: (body) => expectEqual((body.customers as unknown[]).length, 10,
      'customers.length'),
  },
]

interface Measured {
  requestsPerSecond: number
  p99Ms: number
}

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  const results = new Map<number, Measured[]>()
  for (const rows of SIZES) results.set(rows, await measureSize(rows))

  const [small, large] = SIZES as [number, number]
  const tableRows = QUERIES.map((query, i) => {
    const atSmall = results.get(small)?.[i] as Measured
    const atLarge = results.get(large)?.[i] as Measured
    return [
      query.name,
      formatNumber(atSmall.requestsPerSecond),
      formatNumber(atSmall.p99Ms),
      formatNumber(atLarge.requestsPerSecond),
      formatNumber(atLarge.p99Ms),
      formatRatio(atLarge.requestsPerSecond / atSmall.requestsPerSecond),
    ]
  })

  return [
    '## Queries over HTTP',
    '',
    `autocannon, ${CONNECTIONS} connections for ${DURATION_SECONDS} s ` +
      `after ${WARMUP_SECONDS} s of warm-up, admin token, request log on. ` +
      'The month is June 2023; the page skips the first 100 rows of it. ' +
      'Latency resolution is 1 ms.',
    '',
    markdownTable([
      'query',
      `req/s at ${formatNumber(small)}`,
      'p99 ms',
      `req/s at ${formatNumber(large)}`,
      'p99 ms',
      'large / small',
    ], tableRows),
  ].join('\n')
}

async function measureSize(rows: number): Promise<Measured[]> {
  const path = await salesCsv(rows)
  const server = await startChildServer<AppServerInfo>('app-server.ts')
  try {
    const token = server.info.adminToken
    const upload = await uploadFile(server.url, token, path, 'raw')
    expectEqual(upload.status, 201, 'upload status')
    expectEqual(upload.body.rows_inserted, rows, 'rows_inserted')

    const measured: Measured[] = []
    for (const query of QUERIES) {
      measured.push(await measureQuery(server, query, rows))
    }
    return measured
  } finally {
    await server.stop()
  }
}

async function measureQuery(
  server: ChildServer<AppServerInfo>,
  query: Query,
  rows: number,
): Promise<Measured> {
  const token = server.info.adminToken
  const response = await sendRequest(server.url, token, 'GET', query.path)
  expectEqual(response.status, 200, `${query.path} status`)
  query.check(response.body, rows)

  const url = `${server.url}${query.path}`
  const headers = { authorization: `Bearer ${token}` }
  const options = { connections: CONNECTIONS, headers }
  await loadTest(url, { ...options, durationSeconds: WARMUP_SECONDS })
  const result = await loadTest(url, {
    ...options,
    durationSeconds: DURATION_SECONDS,
  })
  return { requestsPerSecond: result.requestsPerSecond, p99Ms: result.p99Ms }
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) {
    throw new Error(`Expected ${what} to be ${expected}, got ${actual}`)
  }
}

function expectPositive(actual: unknown, what: string): void {
  if (typeof actual !== 'number' || actual <= 0) {
    throw new Error(`Expected ${what} to be a positive number, got ${actual}`)
  }
}
