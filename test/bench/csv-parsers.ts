import { createReadStream, statSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { stageUpload } from '../../src/sales/upload-intake.ts'
import {
  formatNumber,
  formatRatio,
  markdownTable,
  median,
  salesCsv,
  targetAtLeast,
  timeRoundRobin,
} from './harness.ts'
import {
  CHUNK_BYTES,
  countLines,
  parseWithCsvParse,
  parseWithPapaparse,
  parseWithUdsv,
  type ParseFile,
} from './peer-parsers.ts'
import {
  ChecksumSink,
  DigestSink,
  formatChecksum,
  sameChecksum,
  type Checksum,
} from './row-values.ts'

/**
 * CSV parsing: the product's streaming parser and batch builder against
 * csv-parse, papaparse and udsv, and the floor of reading the file and
 * counting newlines. Every parser yields the same typed values per row,
 * and the run stops unless all of them agree on every row.
 */

const ROUNDS = new Map([[100_000, 7], [1_000_000, 5]])
const VERIFY_ROWS = 100_000
const OURS = 'ours'
const CSV_PARSE = 'csv-parse'
const FLOOR = 'floor (count newlines)'

/**
 * Parses the file with the upload route's `stageUpload`, without HTTP: a
 * file stream with the upload's content type stands in for the request.
 * Then reads every row of the staged batch into the sink.
 */
const parseWithProduct: ParseFile = async (path, sink) => {
  const body = createReadStream(path, { highWaterMark: CHUNK_BYTES })
  const request = Object.assign(body, {
    headers: { 'content-type': 'text/csv' },
  }) as unknown as IncomingMessage
  const { batch, errorCount } = await stageUpload(request, {
    maxBytes: Number.MAX_SAFE_INTEGER,
    keepValidRows: false,
  })
  if (errorCount > 0) throw new Error(`${errorCount} rows were rejected`)

  const { customerNames, customerIndex, units, days } = batch
  for (let row = 0; row < batch.length; row++) {
    const name = customerNames[customerIndex[row] as number] as string
    sink.add(name, units[row] as number, days[row] as number)
  }
}

const PARSERS: Array<{ name: string, parse: ParseFile }> = [
  { name: OURS, parse: parseWithProduct },
  { name: CSV_PARSE, parse: parseWithCsvParse },
  { name: 'papaparse', parse: parseWithPapaparse },
  { name: 'udsv', parse: parseWithUdsv },
]

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  await verifyRows(await salesCsv(VERIFY_ROWS))

  const parts: string[] = []
  let atLargest: Map<string, number> | undefined
  for (const [rows, rounds] of ROUNDS) {
    const path = await salesCsv(rows)
    const times = await timeParsers(path, rows, rounds)
    parts.push(sizeTable(path, rows, rounds, times))
    atLargest = times
  }

  const largest = atLargest as Map<string, number>
  const ours = largest.get(OURS) as number
  return [
    '## CSV parsing',
    '',
    'Each parser streams the file in 256 KiB chunks and turns every row ' +
      'into a name string, the amount in integer units of 1/10000 and a ' +
      'day number. Ours is the upload route\'s `stageUpload` fed the file ' +
      'stream (`CsvParser` into `BatchBuilder`, which validates every row ' +
      'and stores each name once), then reads every row back. The peers convert their ' +
      'strings with the same arithmetic converters. Before timing, every ' +
      `parser's rows of the ${formatNumber(VERIFY_ROWS)}-row file were ` +
      'hashed with SHA-256 and all hashes matched; each timed run folds ' +
      'its rows into a checksum, and all checksums matched too. Times are ' +
      'medians of rounds run round-robin; ratios compare throughput.',
    '',
    ...parts,
    targetAtLeast('our parser >= 4x csv-parse at 1,000,000 rows',
      (largest.get(CSV_PARSE) as number) / ours, 4),
    targetAtLeast('our parser at least level with udsv at 1,000,000 rows',
      (largest.get('udsv') as number) / ours, 1),
  ].join('\n')
}

// Parses the file with every parser into a SHA-256 of all values and
// throws unless the digests are equal. This also warms up every parser.
async function verifyRows(path: string): Promise<void> {
  const digests = new Map<string, string>()
  for (const { name, parse } of PARSERS) {
    const sink = new DigestSink()
    await parse(path, sink)
    digests.set(name, sink.digest())
  }
  const expected = digests.get(OURS)
  for (const [name, digest] of digests) {
    if (digest !== expected) {
      throw new Error(`${name} produced other row values than ours: ` +
        `SHA-256 ${digest} against ${expected}`)
    }
  }
}

// Returns the median time in ms of each parser and of the floor.
async function timeParsers(
  path: string,
  rows: number,
  rounds: number,
): Promise<Map<string, number>> {
  const checksums = new Map<string, Checksum>()
  let lines = 0
  const cases = [
    ...PARSERS.map(({ name, parse }) => ({
      name,
      run: async () => {
        const sink = new ChecksumSink()
        await parse(path, sink)
        checksums.set(name, sink.result())
      },
    })),
    { name: FLOOR, run: async () => { lines = await countLines(path) } },
  ]
  const times = await timeRoundRobin(cases, rounds)

  checkChecksums(checksums, rows)
  if (lines !== rows + 1) {
    throw new Error(`The floor counted ${lines} lines, expected ${rows + 1}`)
  }
  return new Map([...times].map(([name, runs]) => [name, median(runs)]))
}

function checkChecksums(checksums: Map<string, Checksum>, rows: number): void {
  const expected = checksums.get(OURS) as Checksum
  if (expected.rows !== rows) {
    throw new Error(`Ours produced ${expected.rows} rows, expected ${rows}`)
  }
  for (const [name, checksum] of checksums) {
    if (!sameChecksum(checksum, expected)) {
      throw new Error(`${name} checksum ${formatChecksum(checksum)} differs ` +
        `from ours, ${formatChecksum(expected)}`)
    }
  }
}

function sizeTable(
  path: string,
  rows: number,
  rounds: number,
  times: Map<string, number>,
): string {
  const megabytes = statSync(path).size / 1e6
  const csvParseMs = times.get(CSV_PARSE) as number
  const floorMs = times.get(FLOOR) as number
  const tableRows = [...times].map(([name, ms]) => [
    name,
    formatNumber(ms, 1),
    formatNumber(megabytes / (ms / 1000), 1),
    formatNumber(rows / (ms / 1000)),
    formatRatio(csvParseMs / ms),
    formatRatio(floorMs / ms),
  ])
  return [
    `### ${formatNumber(rows)} rows (${formatNumber(megabytes, 1)} MB), ` +
      `median of ${rounds}`,
    '',
    markdownTable(
      ['parser', 'ms', 'MB/s', 'rows/s', 'vs csv-parse', 'vs floor'],
      tableRows),
    '',
  ].join('\n')
}
