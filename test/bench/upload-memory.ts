import { statSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createApp, type App } from '../../src/app.ts'
import { closeGracefully, createHttpServer } from '../../src/http/server.ts'
import { silentLogger } from '../../src/logger.ts'
import {
  formatNumber,
  markdownTable,
  removeScratch,
  salesCsv,
  targetAtMost,
} from './harness.ts'
import { uploadFile, type UploadEncoding } from './upload-client.ts'

/**
 * Upload memory: the heap and array buffers the server keeps per row after
 * a 1,000,000-row upload and a full GC, and the peak RSS while it takes a
 * file of about 100 MB. The server runs in this process on 127.0.0.1 so
 * its heap can be read after `gc()`. The client that streams the file from
 * disk runs here too and is counted in the peak.
 *
 * NOTE: `memoryUsage().arrayBuffers` leaves out resizable buffers, which
 * the upload's staging columns use. The retained figure counts everything
 * only because the store copies each batch into fixed-size arrays and
 * shrinks the staging buffers to nothing; if the store kept a staging
 * buffer, its rows would be missing from the figure.
 *
 * NOTE: the peak varies from run to run. Consumed socket chunks are freed
 * only by a GC, and the parser allocates too little on the heap to cause
 * one early. While the ~100 MB upload streamed in, about 37 MiB of
 * `external` memory was such chunks (8 MiB with the string-based parser
 * before), and the streaming peak was 61-81% of the file over 20 runs on
 * a 2-core machine with Node 20.20. `--max-semi-space-size` did not
 * change that.
 */

const RETAINED_ROWS = 1_000_000
// About 100 MB of generated CSV at roughly 35 bytes a row.
const LARGE_ROWS = 2_850_000
const RETAINED_TARGET_BYTES = 24
// Peak RSS growth as a share of the file, so the upload never costs a
// copy of the file in memory.
const PEAK_TARGET_PERCENT = 75
const SECRET = 'bench-secret-that-is-at-least-32-bytes-long'
const MIB = 1024 * 1024

interface Server {
  app: App
  url: string
  token: string
  close(): Promise<void>
}

interface PeakResult {
  encoding: UploadEncoding
  fileBytes: number
  rows: number
  rssBefore: number
  /** Peak RSS up to the store's `append`: receiving, parsing, staging. */
  peakBeforeAppend: number
  peakRss: number
}

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('Run with node --expose-gc so retained memory is exact')
  }
  const largePath = await salesCsv(LARGE_ROWS)
  const retainedPath = await salesCsv(RETAINED_ROWS)
  const server = await startServer()
  try {
    // The peak comes first: the process's maximum RSS only ever grows, so
    // it measures this upload only while nothing bigger ran before.
    const peak = await measurePeak(server, largePath, LARGE_ROWS, 'raw')
    await server.app.sales.clear()
    const retained = await measureRetained(server, retainedPath)
    return report(peak, retained)
  } finally {
    await server.close()
  }
}

async function startServer(): Promise<Server> {
  const app = await createApp({
    jwtSecret: SECRET,
    logger: silentLogger,
    maxUploadBytes: 256 * MIB,
  })
  const http = createHttpServer(app.handler)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  const admin = await app.users.create({
    username: 'bench-admin',
    role: 'admin',
    passwordHash: 'no-login',
  })
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    token: (await app.tokens.issue(admin)).token,
    close: () => {
      http.closeAllConnections()
      return closeGracefully(http)
    },
  }
}

async function measurePeak(
  server: Server,
  path: string,
  rows: number,
  encoding: UploadEncoding,
): Promise<PeakResult> {
  const sales = server.app.sales
  const append = sales.append
  let peakBeforeAppend = 0
  sales.append = (batch) => {
    peakBeforeAppend = maxRss()
    return append.call(sales, batch)
  }

  fullGc()
  const rssBefore = process.memoryUsage.rss()
  try {
    await expectUpload(server, path, rows, encoding)
  } finally {
    sales.append = append
  }
  return {
    encoding,
    fileBytes: statSync(path).size,
    rows,
    rssBefore,
    peakBeforeAppend,
    peakRss: maxRss(),
  }
}

async function measureRetained(
  server: Server,
  path: string,
): Promise<{ before: number, after: number }> {
  fullGc()
  const before = retainedBytes()
  await expectUpload(server, path, RETAINED_ROWS, 'raw')
  fullGc()
  return { before, after: retainedBytes() }
}

async function expectUpload(
  server: Server,
  path: string,
  rows: number,
  encoding: UploadEncoding,
): Promise<void> {
  const response = await uploadFile(server.url, server.token, path, encoding)
  if (response.status !== 201 || response.body.rows_inserted !== rows) {
    throw new Error(`Upload of ${path} failed: ${response.status} ` +
      JSON.stringify(response.body).slice(0, 300))
  }
}

// The process's peak RSS so far; resourceUsage reports it in KiB.
function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024
}

function retainedBytes(): number {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

// Several passes, so objects freed by finalizers of the first are gone.
function fullGc(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.()
}

function report(
  peak: PeakResult,
  retained: { before: number, after: number },
): string {
  const perRow = (retained.after - retained.before) / RETAINED_ROWS
  const growth = peak.peakRss - peak.rssBefore
  const streamingGrowth = peak.peakBeforeAppend - peak.rssBefore
  const share = (bytes: number) =>
    `${formatNumber(bytes / peak.fileBytes * 100)}%`
  const mib = (bytes: number) => `${formatNumber(bytes / MIB, 1)} MiB`
  return [
    '## Upload memory',
    '',
    'The server runs in the benchmark process with `--expose-gc`; the ' +
      'client streams the file from disk over 127.0.0.1.',
    '',
    markdownTable(['measure', 'value'], [
      [`rows uploaded (retained run)`, formatNumber(RETAINED_ROWS)],
      ['heap + array buffers before', mib(retained.before)],
      ['heap + array buffers after, full GC', mib(retained.after)],
      ['retained per row', `${formatNumber(perRow, 1)} B`],
      [`large file (${peak.encoding})`,
        `${mib(peak.fileBytes)}, ${formatNumber(peak.rows)} rows`],
      ['RSS before the large upload', mib(peak.rssBefore)],
      ['peak RSS growth while receiving, parsing and staging',
        `${mib(streamingGrowth)} (${share(streamingGrowth)} of the file)`],
      ['peak RSS growth including the store\'s append',
        `${mib(growth)} (${share(growth)} of the file)`],
    ]),
    '',
    targetAtMost('retained bytes per stored row', perRow,
      RETAINED_TARGET_BYTES, 'B'),
    targetAtMost('peak RSS growth while a ~100 MB upload streams in, ' +
      'share of the file', streamingGrowth / peak.fileBytes * 100,
      PEAK_TARGET_PERCENT, '%'),
    targetAtMost('peak RSS growth over the whole ~100 MB upload, share of ' +
      'the file', growth / peak.fileBytes * 100, PEAK_TARGET_PERCENT, '%'),
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${await main()}\n`)
  } finally {
    removeScratch()
  }
}
