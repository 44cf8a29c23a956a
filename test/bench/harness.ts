import autocannon from 'autocannon'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Agent, get } from 'node:http'
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { writeSalesCsv } from '../support/generate-sales.ts'

/**
 * Shared helpers of `npm run bench`: timing, generated data, servers in
 * child processes, HTTP load with autocannon and Markdown output. Every
 * server started here is tracked by pid so `stopAllServers` can end it.
 */

export const DATA_SEED = 42
const READY_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 5_000

// ---------------------------------------------------------------- timing

/** Runs a full garbage collection when node runs with `--expose-gc`. */
export function collectGarbage(): void {
  globalThis.gc?.()
}

/** Runs `work` once after a full GC and returns its wall time in ms. */
export async function timeOnce(work: () => Promise<unknown>): Promise<number> {
  collectGarbage()
  const started = performance.now()
  await work()
  return performance.now() - started
}

/** Returns the median of `values`, which must not be empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length % 2 === 1) return sorted[middle] as number
  return ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** Returns the `fraction` quantile (0-1) of `values` by nearest rank. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil(fraction * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number
}

/** One timed case; `prepare`, if given, runs untimed before each run. */
export interface TimedCase {
  name: string
  run: () => Promise<unknown>
  prepare?: () => Promise<unknown>
}

/**
 * Times each case `rounds` times, round-robin, so that a slow spell of a
 * shared machine hits every case alike. Returns the times in ms per case.
 */
export async function timeRoundRobin(
  cases: readonly TimedCase[],
  rounds: number,
): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const { name, run, prepare } of cases) {
      await prepare?.()
      times.get(name)?.push(await timeOnce(run))
    }
  }
  return times
}

// ----------------------------------------------------------------- data

const SCRATCH_VARIABLE = 'BENCH_SCRATCH_DIR'
let ownScratch: string | undefined
const csvFiles = new Map<number, Promise<string>>()

/**
 * Returns the run's scratch folder under the system temp folder. The first
 * process to ask creates it and passes it on to its children through the
 * `BENCH_SCRATCH_DIR` environment variable, so sections share one folder.
 */
export function scratchDirectory(): string {
  const inherited = process.env[SCRATCH_VARIABLE]
  if (inherited) return inherited
  ownScratch = mkdtempSync(join(tmpdir(), 'sales-bench-'))
  process.env[SCRATCH_VARIABLE] = ownScratch
  return ownScratch
}

/**
 * Returns the path of a generated sales CSV with `rows` rows (seed
 * `DATA_SEED`), writing it on first use and reusing it for the rest of
 * the run, also across the processes that share the scratch folder.
 */
export function salesCsv(rows: number): Promise<string> {
  let file = csvFiles.get(rows)
  if (!file) {
    file = writeOnce(join(scratchDirectory(), `sales-${rows}.csv`), rows)
    csvFiles.set(rows, file)
  }
  return file
}

async function writeOnce(path: string, rows: number): Promise<string> {
  if (existsSync(path)) return path
  // Written under a temporary name and renamed, so that no reader opens a
  // half-written file.
  const partial = `${path}.${process.pid}.partial`
  await writeSalesCsv(partial, rows, { seed: DATA_SEED })
  renameSync(partial, path)
  return path
}

/** Deletes the scratch folder if this process created it. */
export function removeScratch(): void {
  if (!ownScratch) return
  rmSync(ownScratch, { recursive: true, force: true })
  delete process.env[SCRATCH_VARIABLE]
  ownScratch = undefined
  csvFiles.clear()
}

// -------------------------------------------------------------- servers

/** A server running in a child process, with what it sent when ready. */
export interface ChildServer<Info> {
  pid: number
  /** Base URL such as `http://127.0.0.1:41234`. */
  url: string
  info: Info
  /** Path of the file that receives the child's stdout and stderr. */
  logPath: string
  stop(): Promise<void>
}

interface ReadyMessage {
  ready: true
  port: number
  info: unknown
}

const liveChildren = new Map<number, ChildProcess>()

/**
 * Starts `script` (a TypeScript file in this folder) under tsx in a child
 * process and waits until it sends `{ready, port, info}` over IPC. Its
 * stdout and stderr go to a log file in the scratch folder, so request
 * logs cost the child a file write but never fill a pipe. The IPC channel
 * stays open: the child servers exit when it closes, so none outlives the
 * process that started it.
 */
export async function startChildServer<Info>(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ChildServer<Info>> {
  const scriptPath = fileURLToPath(new URL(script, import.meta.url))
  const logPath = join(scratchDirectory(),
    `${script.replace(/\W+/g, '-')}-${args.join('-')}-${Date.now()}.log`)
  const logFd = openSync(logPath, 'a')
  const child = spawn(process.execPath, ['--import', 'tsx', scriptPath, ...args], {
    stdio: ['ignore', logFd, logFd, 'ipc'],
    env: { ...process.env, ...env },
  })
  closeSync(logFd)
  if (child.pid === undefined) {
    throw new Error(`Failed to start ${script}: no pid`)
  }
  const pid = child.pid
  liveChildren.set(pid, child)
  child.once('exit', () => liveChildren.delete(pid))

  const ready = await waitForReady(child, script, logPath)
  return {
    pid,
    url: `http://127.0.0.1:${ready.port}`,
    info: ready.info as Info,
    logPath,
    stop: () => stopChild(pid),
  }
}

async function waitForReady(
  child: ChildProcess,
  script: string,
  logPath: string,
): Promise<ReadyMessage> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), READY_TIMEOUT_MS)
  try {
    const message = Promise.race([
      once(child, 'message', { signal: controller.signal }),
      once(child, 'exit', { signal: controller.signal }).then(([code]) => {
        throw new Error(`${script} exited with ${code} before it was ready` +
          `; its log ends with:\n${logTail(logPath)}`)
      }),
    ])
    const [value] = await message as [ReadyMessage]
    if (value?.ready !== true) throw new Error(`${script} sent no ready message`)
    return value
  } catch (error) {
    await stopChild(child.pid as number)
    if (controller.signal.aborted) {
      throw new Error(`${script} was not ready within ${READY_TIMEOUT_MS} ms` +
        `; its log ends with:\n${logTail(logPath)}`)
    }
    throw error
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
}

/** Returns the last lines of a child's log, for error messages. */
export function logTail(logPath: string, lines = 15): string {
  if (!existsSync(logPath)) return '(no log)'
  return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines)
    .join('\n')
}

/** Sends SIGTERM to one child by pid, then SIGKILL if it outlives the wait. */
export async function stopChild(pid: number): Promise<void> {
  const child = liveChildren.get(pid)
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  process.kill(pid, 'SIGTERM')
  const timer = setTimeout(() => {
    if (liveChildren.has(pid)) process.kill(pid, 'SIGKILL')
  }, STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

/** Stops every child server this process started and that still runs. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...liveChildren.keys()].map((pid) => stopChild(pid)))
}

/** Kills the remaining children at once; for `process.on('exit')`. */
export function killAllServersNow(): void {
  for (const pid of liveChildren.keys()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // The child has exited between the listing and the kill.
    }
  }
}

// ------------------------------------------------------------ HTTP load

export interface LoadOptions {
  connections?: number
  durationSeconds?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
}

export interface LoadResult {
  requestsPerSecond: number
  p99Ms: number
  p50Ms: number
  requests: number
}

/**
 * Drives `url` with autocannon and returns req/s and latency. Only
 * 127.0.0.1 is accepted as a target. Throws when any request failed or
 * got a status other than 2xx, because such a run measures the errors.
 */
export async function loadTest(
  url: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  requireLoopback(url)
  const result = await autocannon({
    url,
    connections: options.connections ?? 10,
    duration: options.durationSeconds ?? 10,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
  })
  const failures = result.errors + result.timeouts + result.non2xx
  if (failures > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} ` +
      `timeouts and ${result.non2xx} non-2xx responses under load`)
  }
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    requests: result.requests.total,
  }
}

export interface LatencyProbe {
  requests: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

/**
 * Sends GET requests to `url` one at a time over one keep-alive
 * connection for `durationMs` (at most `maxRequests`) and returns latency
 * percentiles at sub-millisecond resolution, which autocannon lacks.
 * Throws on any status but 200.
 */
export async function probeLatency(
  url: string,
  durationMs: number,
  maxRequests = 200_000,
): Promise<LatencyProbe> {
  requireLoopback(url)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const samples: number[] = []
  const deadline = performance.now() + durationMs
  try {
    while (performance.now() < deadline && samples.length < maxRequests) {
      const started = performance.now()
      const status = await getStatus(url, agent)
      samples.push(performance.now() - started)
      if (status !== 200) throw new Error(`GET ${url} returned ${status}`)
    }
  } finally {
    agent.destroy()
  }
  return {
    requests: samples.length,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    maxMs: Math.max(...samples),
  }
}

function getStatus(url: string, agent: Agent): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent }, (response) => {
      response.resume()
      response.once('end', () => resolve(response.statusCode))
      response.once('error', reject)
    })
    request.once('error', reject)
  })
}

function requireLoopback(url: string): void {
  if (new URL(url).hostname !== '127.0.0.1') {
    throw new Error(`Benchmarks send traffic to 127.0.0.1 only, not ${url}`)
  }
}

// -------------------------------------------------------------- Markdown

/** Formats a Markdown table; numeric-looking cells are right-aligned. */
export function markdownTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly (string | number)[]>,
): string {
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every(
    (row) => /^[\d.,x%+-]+\s*\S*$/.test(String(row[column] ?? ''))))
  const align = numeric.map((right) => (right ? '---:' : '---'))
  return [
    `| ${headers.join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(String).join(' | ')} |`),
  ].join('\n')
}

/** Formats a number with thousands separators and `digits` decimals. */
export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
}

/** Formats a ratio such as `4.25x`. */
export function formatRatio(value: number): string {
  return `${value.toFixed(2)}x`
}

// --------------------------------------------------------------- targets

/** One goal of the issue, checked against numbers from this run. */
export interface TargetCheck {
  goal: string
  passed: boolean
  /** The measured value and the margin, such as `4.6x (15% above 4x)`. */
  detail: string
}

const targets: TargetCheck[] = []

/** Records a goal met when `actual >= goal`; returns its Markdown line. */
export function targetAtLeast(
  goal: string,
  actual: number,
  minimum: number,
  unit = 'x',
): string {
  const margin = (actual / minimum - 1) * 100
  return recordTarget({
    goal,
    passed: actual >= minimum,
    detail: `${describe(actual, unit)} (${Math.abs(margin).toFixed(0)}% ` +
      `${margin >= 0 ? 'above' : 'below'} ${describe(minimum, unit)})`,
  })
}

/** Records a goal met when `actual <= goal`; returns its Markdown line. */
export function targetAtMost(
  goal: string,
  actual: number,
  maximum: number,
  unit = 'x',
): string {
  const margin = (actual / maximum - 1) * 100
  return recordTarget({
    goal,
    passed: actual <= maximum,
    detail: `${describe(actual, unit)} (${Math.abs(margin).toFixed(0)}% ` +
      `${margin <= 0 ? 'under' : 'over'} ${describe(maximum, unit)})`,
  })
}

function describe(value: number, unit: string): string {
  if (unit === 'x') return formatRatio(value)
  return `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`
}

/** Records a checked goal and returns it as a Markdown list item. */
export function recordTarget(check: TargetCheck): string {
  targets.push(check)
  return formatTarget(check)
}

/** Formats one checked goal as a Markdown list item. */
export function formatTarget(check: TargetCheck): string {
  return `- **${check.passed ? 'pass' : 'MISS'}**: ${check.goal}: ${check.detail}`
}

/** Returns every goal recorded so far in this run. */
export function recordedTargets(): readonly TargetCheck[] {
  return targets
}

// --------------------------------------------------------------- machine

/** Date, Node version, CPU model and core count, for the report header. */
export function machineDescription(): string {
  const cores = cpus()
  const model = cores[0]?.model.trim() ?? 'unknown CPU'
  return `${new Date().toISOString()}, Node ${process.version}, ` +
    `${model}, ${cores.length} cores`
}
