import { parse as csvParse } from 'csv-parse'
import { createReadStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import type { AppServerInfo } from './app-server.ts'
import {
  formatNumber,
  formatRatio,
  markdownTable,
  median,
  salesCsv,
  startChildServer,
  targetAtLeast,
  timeRoundRobin,
  type ChildServer,
} from './harness.ts'
import { CHUNK_BYTES, parseWithCsvParse } from './peer-parsers.ts'
import { ChecksumSink } from './row-values.ts'
import { sendRequest, uploadFile, type UploadEncoding } from './upload-client.ts'

/**
 * Upload end to end: the 1,000,000-row file through `POST /upload-sales`
 * on 127.0.0.1, raw and multipart, to a server in a child process, against
 * csv-parse parsing the same file in this process with no HTTP at all.
 */

const ROWS = 1_000_000
const ROUNDS = 3
const CSV_PARSE_RECORDS = 'csv-parse, records only'
const CSV_PARSE_TYPED = 'csv-parse, typed values'
const RAW = 'upload, text/csv body'
const MULTIPART = 'upload, multipart/form-data'

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  const path = await salesCsv(ROWS)
  const server = await startChildServer<AppServerInfo>('app-server.ts')
  try {
    const token = server.info.adminToken
    const clear = () => clearSales(server)
    const upload = (encoding: UploadEncoding) => () =>
      uploadOnce(server.url, token, path, encoding)
    // One untimed upload of each kind warms the server up.
    await upload('raw')()
    await clear()
    await upload('multipart')()

    const times = await timeRoundRobin([
      { name: RAW, prepare: clear, run: upload('raw') },
      { name: MULTIPART, prepare: clear, run: upload('multipart') },
      { name: CSV_PARSE_RECORDS, run: () => countRecords(path) },
      {
        name: CSV_PARSE_TYPED,
        run: () => parseWithCsvParse(path, new ChecksumSink()),
      },
    ], ROUNDS)
    return report(new Map([...times].map(([name, runs]) => [name, median(runs)])))
  } finally {
    await server.stop()
  }
}

async function uploadOnce(
  baseUrl: string,
  token: string,
  path: string,
  encoding: UploadEncoding,
): Promise<void> {
  const response = await uploadFile(baseUrl, token, path, encoding)
  if (response.status !== 201 || response.body.rows_inserted !== ROWS) {
    throw new Error(`POST /upload-sales (${encoding}) returned ` +
      `${response.status}: ${JSON.stringify(response.body).slice(0, 500)}`)
  }
}

// Empties the store before each timed upload, so every upload appends to
// the same empty state.
async function clearSales(server: ChildServer<AppServerInfo>): Promise<void> {
  const token = server.info.adminToken
  const cleared = await sendRequest(server.url, token, 'DELETE', '/sales')
  if (cleared.status < 200 || cleared.status > 299) {
    throw new Error(`DELETE /sales returned ${cleared.status}`)
  }
}

// csv-parse merely parsing: records are read and counted, nothing else.
// They are read on `readable`, as in the CSV section, which is faster
// than `for await` over the parser.
async function countRecords(path: string): Promise<void> {
  const input = createReadStream(path, { highWaterMark: CHUNK_BYTES })
  const parser = csvParse({ bom: true, skip_empty_lines: true })
  input.once('error', (error) => parser.destroy(error))
  let records = 0
  parser.on('readable', () => {
    while (parser.read() !== null) records++
  })
  input.pipe(parser)
  await finished(parser)
  if (records !== ROWS + 1) {
    throw new Error(`csv-parse read ${records} records, expected ${ROWS + 1}`)
  }
}

function report(times: Map<string, number>): string {
  const baseline = times.get(CSV_PARSE_RECORDS) as number
  const rows = [...times].map(([name, ms]) => [
    name,
    formatNumber(ms),
    formatNumber(ROWS / (ms / 1000)),
    formatRatio(baseline / ms),
  ])
  return [
    '## Upload end to end',
    '',
    `${formatNumber(ROWS)} rows through \`POST /upload-sales\` on ` +
      '127.0.0.1 to the product in a child process (admin token, body ' +
      'streamed from the file with an exact Content-Length, timed until ' +
      'the 201 response, into a store emptied before each upload), ' +
      'against csv-parse reading the same file in the benchmark process ' +
      `with no HTTP. Median of ${ROUNDS} rounds run round-robin.`,
    '',
    markdownTable(['path', 'ms', 'rows/s', 'speed vs csv-parse records'],
      rows),
    '',
    targetAtLeast('raw upload of 1,000,000 rows in at most 1/3 of ' +
      "csv-parse's parse time",
      baseline / (times.get(RAW) as number), 3),
  ].join('\n')
}
