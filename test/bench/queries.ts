import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'
import { MemorySalesStore } from '../../src/sales/memory-store.ts'
import { parseIsoDay } from '../../src/sales/calendar.ts'
import type { DayRange, SalesBatch } from '../../src/sales/types.ts'
import { generateSalesCsv } from '../support/generate-sales.ts'
import {
  collectGarbage,
  DATA_SEED,
  formatNumber,
  formatRatio,
  machineDescription,
  markdownTable,
  median,
  targetAtMost,
} from './harness.ts'

/**
 * Times the sales store's queries in process, without HTTP, at 10,000 and
 * 1,000,000 generated rows (2022-2024, about 5,000 customers), and reports
 * microseconds per call with the ratio between the two sizes. Also reports
 * the cost of loading the rows and the memory they keep.
 */

const SIZES = [10_000, 1_000_000] as const
const ROUNDS = 7
// Each timed call lasts at least this long in total per round, so that a
// sub-microsecond call is timed over many repetitions.
const MIN_ROUND_MS = 20
const MAX_TARGET_US = 50
const MAX_TARGET_RATIO = 2

interface QueryCase {
  name: string
  /** Whether the 50 us and 2x targets apply to this query. */
  target: boolean
  run(store: MemorySalesStore, call: number): Promise<unknown>
}

const MONTHS: DayRange[] = Array.from({ length: 36 }, (_, i) => {
  const year = 2022 + Math.floor(i / 12)
  const month = String(i % 12 + 1).padStart(2, '0')
  const from = parseIsoDay(`${year}-${month}-01`) as number
  const next = new Date(Date.UTC(year, i % 12 + 1, 1)).getTime() / 86_400_000
  return { from, to: next - 1 }
})

const monthOf = (call: number) => MONTHS[call % MONTHS.length] as DayRange

const CASES: QueryCase[] = [
  {
    name: 'summary, all rows',
    target: true,
    run: (store) => store.summary({}),
  },
  {
    name: 'range total, one month',
    target: true,
    run: (store, call) => store.summary(monthOf(call)),
  },
  {
    name: 'top-10, cached ranking',
    target: true,
    run: (store) => store.topCustomers(10, {}),
  },
  {
    name: 'by-date page of 100 rows, one month',
    target: false,
    run: (store, call) => store.page(monthOf(call), (call * 37) % 200, 100),
  },
  {
    name: 'top-10, one month range',
    target: false,
    run: (store, call) => store.topCustomers(10, monthOf(call)),
  },
]

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  const small = await loadStore(SIZES[0])
  const large = await loadStore(SIZES[1])
  const times = await timeQueries([small.store, large.store])
  const smallTimes = times[0] as Map<string, number>
  const largeTimes = times[1] as Map<string, number>
  const loads = [small.load, large.load]
  const rows = CASES.map((query) => {
    const atSmall = smallTimes.get(query.name) as number
    const atLarge = largeTimes.get(query.name) as number
    return [
      query.name,
      formatNumber(atSmall, 2),
      formatNumber(atLarge, 2),
      formatRatio(atLarge / atSmall),
    ]
  })
  const targets = CASES.filter((query) => query.target)
    .flatMap((query) => checkTargets(query.name, smallTimes, largeTimes))

  return [
    '## Queries in process',
    '',
    `${machineDescription()}. Store methods called directly on generated ` +
      `rows (seed ${DATA_SEED}), median of ${ROUNDS} rounds that ` +
      'alternate between the two stores.',
    '',
    markdownTable(
      ['query', 'us/call at 10k', 'us/call at 1M', '1M / 10k'], rows),
    '',
    'The one-month top-10 totals the rows of the month (about 2.8% of ' +
      'the rows here), so it grows with the data, unlike the cached one.',
    '',
    markdownTable(
      ['rows', 'load in one append (ms)', 'append 10k more (ms)',
        'bytes kept per row'],
      loads),
    '',
    ...targets,
    '',
  ].join('\n')
}

function checkTargets(
  name: string,
  small: Map<string, number>,
  large: Map<string, number>,
): string[] {
  const atLarge = large.get(name) as number
  const ratio = atLarge / (small.get(name) as number)
  return [
    targetAtMost(`${name} at 1M rows`, atLarge, MAX_TARGET_US, 'us'),
    targetAtMost(`${name}, 1M rows against 10k`, ratio, MAX_TARGET_RATIO),
  ]
}

interface TimingPlan {
  store: MemorySalesStore
  query: QueryCase
  /** Calls per round. */
  count: number
  /** Microseconds per call, one entry per round. */
  times: number[]
}

/**
 * Returns the median microseconds per call of each query on each store.
 * Each round times every query on every store in turn, so a slow spell of
 * the machine hits both sizes alike.
 */
async function timeQueries(
  stores: readonly MemorySalesStore[],
): Promise<Array<Map<string, number>>> {
  const plans: TimingPlan[] = []
  for (const store of stores) {
    for (const query of CASES) {
      const count = await calibrate(store, query)
      plans.push({ store, query, count, times: [] })
    }
  }

  for (let round = 0; round < ROUNDS; round++) {
    for (const plan of plans) {
      const started = performance.now()
      for (let call = 0; call < plan.count; call++) {
        await plan.query.run(plan.store, call)
      }
      plan.times.push((performance.now() - started) * 1000 / plan.count)
    }
  }
  return stores.map((store) => new Map(plans
    .filter((plan) => plan.store === store)
    .map((plan) => [plan.query.name, median(plan.times)])))
}

/** Returns how many calls fill one round, after warming the query up. */
async function calibrate(
  store: MemorySalesStore,
  query: QueryCase,
): Promise<number> {
  let count = 16
  for (;;) {
    const started = performance.now()
    for (let call = 0; call < count; call++) await query.run(store, call)
    if (performance.now() - started >= MIN_ROUND_MS) return count
    count *= 2
  }
}

/**
 * Loads `size` generated rows into a new store in one append, then times
 * one more append of 10,000 rows. The memory kept is the growth of heap
 * and array buffers from before the batch is built to after it is
 * released, both after full collections. It includes the customer names
 * and is only reported when node runs with `--expose-gc`.
 */
async function loadStore(
  size: number,
): Promise<{ store: MemorySalesStore, load: string[] }> {
  const store = new MemorySalesStore()
  await collectFully()
  const before = retainedBytes()

  const loadMs = await appendGenerated(store, size, DATA_SEED)
  await collectFully()
  const perRow = (retainedBytes() - before) / size
  const appendMs = await appendGenerated(store, 10_000, DATA_SEED + 1)

  const kept = globalThis.gc ? formatNumber(perRow, 1) : 'not measured'
  const load = [formatNumber(size), formatNumber(loadMs, 1),
    formatNumber(appendMs, 1), kept]
  return { store, load }
}

/** Appends generated rows in one batch and returns the append's time. */
async function appendGenerated(
  store: MemorySalesStore,
  rows: number,
  seed: number,
): Promise<number> {
  const batch = batchOfGenerated(rows, seed)
  const started = performance.now()
  await store.append(batch)
  return performance.now() - started
}

/**
 * Runs full collections around a pause. Node frees the memory of dead
 * array buffers some time after the collection that finds them, so
 * `arrayBuffers` drops only after the pause.
 */
async function collectFully(): Promise<void> {
  collectGarbage()
  await delay(100)
  collectGarbage()
}

function retainedBytes(): number {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

/**
 * Builds the batch an upload would hand to the store from the generated
 * CSV. The generator writes the date and amount last, neither containing
 * a comma, so the name is everything before them.
 */
function batchOfGenerated(rows: number, seed: number): SalesBatch {
  const batch: SalesBatch = {
    length: 0,
    days: new Int32Array(rows),
    units: new Float64Array(rows),
    customerIndex: new Uint32Array(rows),
    customerNames: [],
  }
  const names = new Map<string, number>()
  let header = true
  for (const chunk of generateSalesCsv(rows, { seed })) {
    for (const line of chunk.split('\n')) {
      if (header || line === '') {
        header = false
        continue
      }
      addLine(batch, names, line)
    }
  }
  return batch
}

function addLine(
  batch: SalesBatch,
  names: Map<string, number>,
  line: string,
): void {
  const dateComma = line.lastIndexOf(',')
  const amountComma = line.lastIndexOf(',', dateComma - 1)
  const field = line.slice(0, amountComma)
  const name = field.startsWith('"')
    ? field.slice(1, -1).replaceAll('""', '"')
    : field
  const [whole = '0', fraction = ''] =
    line.slice(amountComma + 1, dateComma).split('.')

  let id = names.get(name)
  if (id === undefined) {
    id = batch.customerNames.push(name) - 1
    names.set(name, id)
  }
  const row = batch.length++
  batch.customerIndex[row] = id
  batch.units[row] = Number(whole) * 10_000 + Number(fraction.padEnd(4, '0'))
  batch.days[row] = parseIsoDay(line.slice(dateComma + 1)) as number
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(await main())
}
