import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BatchBuilder } from '../src/sales/batch-builder.ts'
import { MemorySalesStore } from '../src/sales/memory-store.ts'
import { parseIsoDay } from '../src/sales/calendar.ts'
import type { DayRange, SalesBatch } from '../src/sales/types.ts'
import { seededRandom } from './support/generate-sales.ts'

interface Row {
  name: string
  units: number
  day: number
}

/** Builds a batch the way the CSV upload does: names interned in order. */
function batchOf(rows: Row[], extraNames: string[] = []): SalesBatch {
  const names: string[] = []
  const index = new Map<string, number>()
  const customerIndex = new Uint32Array(rows.length)
  rows.forEach((row, i) => {
    let k = index.get(row.name)
    if (k === undefined) {
      k = names.push(row.name) - 1
      index.set(row.name, k)
    }
    customerIndex[i] = k
  })
  return {
    length: rows.length,
    days: Int32Array.from(rows, (row) => row.day),
    units: Float64Array.from(rows, (row) => row.units),
    customerIndex,
    customerNames: [...names, ...extraNames],
  }
}

function day(text: string): number {
  const value = parseIsoDay(text)
  assert.ok(value !== undefined, text)
  return value
}

const ADA = { name: 'Ada', units: 1_000_000, day: day('2024-01-02') }
const BO = { name: 'Bo', units: 50_000, day: day('2024-01-01') }
const CY = { name: 'Cy', units: 70_000, day: day('2024-01-03') }

/** Computes a top-N by scanning plain rows, as the model to compare to. */
function naiveTop(rows: Row[], range: DayRange, limit: number) {
  const totals = new Map<string, { units: number, count: number }>()
  for (const row of inRange(rows, range)) {
    const total = totals.get(row.name) ?? { units: 0, count: 0 }
    total.units += row.units
    total.count++
    totals.set(row.name, total)
  }
  return [...totals]
    .map(([customerName, t]) => ({
      customerName,
      totalUnits: t.units,
      count: t.count,
    }))
    .sort((a, b) => b.totalUnits - a.totalUnits ||
      (a.customerName < b.customerName ? -1 : 1))
    .slice(0, limit)
}

function inRange(rows: Row[], range: DayRange): Row[] {
  return rows.filter((row) =>
    (range.from === undefined || row.day >= range.from) &&
    (range.to === undefined || row.day <= range.to))
}

/** Draws rows of 40 customers on days `firstDay + [0, daySpan)`. */
function randomRows(
  count: number,
  seed: number,
  firstDay = 19_000,
  daySpan = 60,
): Row[] {
  const random = seededRandom(seed)
  return Array.from({ length: count }, () => ({
    name: `Customer ${Math.floor(random() * 40)}`,
    units: Math.floor(random() * 100) * 100,
    day: firstDay + Math.floor(random() * daySpan),
  }))
}

/** Collects what every query returns, for comparing two stores. */
async function answers(store: MemorySalesStore, range: DayRange) {
  const { count } = await store.summary({})
  return {
    summary: await store.summary(range),
    days: await store.days({}),
    page: await store.page({}, 0, count),
    top: await store.topCustomers(10, {}),
    topOfRange: await store.topCustomers(10, range),
  }
}

type Column = Int32Array | Float64Array | Uint32Array
type ColumnType = new (buffer: ArrayBuffer, offset: number, length?: number) =>
  Column

interface ResizableBuffer extends ArrayBuffer {
  resize(byteLength: number): void
}

const Resizable = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableBuffer

const ROWS_OF_SPARE_CAPACITY = 100

/** Copies a column onto a resizable buffer of its own, with spare room. */
function onOwnBuffer(column: Column, fixedLength: boolean): Column {
  const View = column.constructor as ColumnType
  const byteOffset = fixedLength ? 8 : 0
  const bytes = byteOffset +
    (column.length + ROWS_OF_SPARE_CAPACITY) * column.BYTES_PER_ELEMENT
  const buffer = new Resizable(bytes, { maxByteLength: 2 * bytes })
  const copy = fixedLength
    ? new View(buffer, byteOffset, column.length)
    : new View(buffer, byteOffset)
  copy.set(column)
  return copy
}

/** Copies the three columns onto one shared resizable buffer. */
function onSharedBuffer(batch: SalesBatch): SalesBatch {
  const { length } = batch
  const buffer = new Resizable(16 * length, { maxByteLength: 32 * length })
  const units = new Float64Array(buffer, 0, length)
  const days = new Int32Array(buffer, 8 * length, length)
  const customerIndex = new Uint32Array(buffer, 12 * length, length)
  units.set(batch.units)
  days.set(batch.days)
  customerIndex.set(batch.customerIndex)
  return { ...batch, days, units, customerIndex }
}

function columnsOf(batch: SalesBatch): Column[] {
  return [batch.days, batch.units, batch.customerIndex]
}

describe('MemorySalesStore', () => {
  test('empty store returns zeros', async () => {
    const store = new MemorySalesStore()

    assert.deepEqual(await store.summary({}), { totalUnits: 0, count: 0 })
    assert.deepEqual(await store.topCustomers(3, {}), [])
    assert.deepEqual(await store.page({}, 0, 10), [])
    assert.deepEqual(await store.days({}), [])
  })

  test('append reports rows and running total', async () => {
    const store = new MemorySalesStore()

    const first = await store.append(batchOf([ADA, BO]))
    const second = await store.append(batchOf([CY]))

    assert.equal(first.rowsInserted, 2)
    assert.equal(first.totalTransactions, 2)
    assert.equal(second.rowsInserted, 1)
    assert.equal(second.totalTransactions, 3)
    assert.notEqual(first.uploadId, second.uploadId)
  })

  test('summary sums all rows and a range', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([ADA, BO, CY]))

    assert.deepEqual(await store.summary({}),
      { totalUnits: 1_120_000, count: 3 })
    assert.deepEqual(await store.summary({ from: ADA.day }),
      { totalUnits: 1_070_000, count: 2 })
    assert.deepEqual(await store.summary({ to: ADA.day }),
      { totalUnits: 1_050_000, count: 2 })
    assert.deepEqual(await store.summary({ from: ADA.day, to: ADA.day }),
      { totalUnits: 1_000_000, count: 1 })
    assert.deepEqual(await store.summary({ from: CY.day + 1 }),
      { totalUnits: 0, count: 0 })
    assert.deepEqual(await store.summary({ from: CY.day, to: BO.day }),
      { totalUnits: 0, count: 0 })
  })

  test('page returns rows by day, older uploads first', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([CY, { ...BO, name: 'First' }]))
    await store.append(batchOf([{ ...BO, name: 'Second' }, ADA]))

    const names = (await store.page({}, 0, 10)).map((r) => r.customerName)
    const page = await store.page({ from: BO.day }, 1, 2)

    assert.deepEqual(names, ['First', 'Second', 'Ada', 'Cy'])
    assert.deepEqual(page, [
      { customerName: 'Second', units: BO.units, day: BO.day },
      { customerName: 'Ada', units: ADA.units, day: ADA.day },
    ])
    assert.deepEqual(await store.page({}, 4, 10), [])
    assert.deepEqual(await store.page({}, 99, 10), [])
  })

  test('days totals each day in order', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([CY, ADA, { ...ADA, units: 5 }]))
    await store.append(batchOf([BO, { ...CY, units: 1 }]))

    assert.deepEqual(await store.days({}), [
      { day: BO.day, totalUnits: 50_000, count: 1 },
      { day: ADA.day, totalUnits: 1_000_005, count: 2 },
      { day: CY.day, totalUnits: 70_001, count: 2 },
    ])
    assert.deepEqual(await store.days({ from: CY.day }), [
      { day: CY.day, totalUnits: 70_001, count: 2 },
    ])
  })

  test('topCustomers breaks ties by name', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([
      { name: 'Zed', units: 100, day: 1 },
      { name: 'Amy', units: 100, day: 2 },
      { name: 'Max', units: 300, day: 3 },
      { name: 'Bea', units: 40, day: 4 },
      { name: 'Bea', units: 60, day: 5 },
    ]))

    const top = await store.topCustomers(10, {})

    assert.deepEqual(top.map((c) => c.customerName),
      ['Max', 'Amy', 'Bea', 'Zed'])
    assert.deepEqual(top[2], { customerName: 'Bea', totalUnits: 100, count: 2 })
    assert.equal((await store.topCustomers(2, {})).length, 2)
  })

  test('topCustomers ranking follows each append', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([ADA, BO]))
    const before = await store.topCustomers(1, {})

    await store.append(batchOf([{ ...BO, units: 2_000_000 }]))
    const after = await store.topCustomers(1, {})

    assert.equal(before[0]?.customerName, 'Ada')
    assert.deepEqual(after[0], {
      customerName: 'Bo',
      totalUnits: 2_050_000,
      count: 2,
    })
  })

  test('topCustomers with a range totals only its rows', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([ADA, BO, CY, { ...BO, day: CY.day }]))

    const top = await store.topCustomers(5, { from: CY.day })

    assert.deepEqual(top, [
      { customerName: 'Cy', totalUnits: 70_000, count: 1 },
      { customerName: 'Bo', totalUnits: 50_000, count: 1 },
    ])
  })

  test('names are stored once across uploads', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([ADA, BO]))
    await store.append(batchOf([BO, ADA]))

    const top = await store.topCustomers(10, {})

    assert.deepEqual(top.map((c) => [c.customerName, c.count]),
      [['Ada', 2], ['Bo', 2]])
  })

  test('batch names without rows are not ranked', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([ADA], ['Ghost']))

    const top = await store.topCustomers(10, {})

    assert.deepEqual(top.map((c) => c.customerName), ['Ada'])
  })

  test('batch arrays may be longer than length', async () => {
    const store = new MemorySalesStore()
    const batch = batchOf([ADA, BO, CY])

    await store.append({ ...batch, length: 2 })

    assert.deepEqual(await store.summary({}),
      { totalUnits: 1_050_000, count: 2 })
  })

  test('empty batch changes nothing', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([ADA]))

    const result = await store.append(batchOf([]))

    assert.equal(result.rowsInserted, 0)
    assert.equal(result.totalTransactions, 1)
    assert.deepEqual(await store.summary({}),
      { totalUnits: 1_000_000, count: 1 })
  })

  test('days centuries apart sort correctly', async () => {
    const store = new MemorySalesStore()
    const far = day('9999-12-31')
    const near = day('0001-01-01')
    await store.append(batchOf([
      { name: 'Late', units: 1, day: far },
      { name: 'Early', units: 2, day: near },
      { name: 'Mid', units: 3, day: 0 },
    ]))

    const page = await store.page({}, 0, 10)

    assert.deepEqual(page.map((r) => r.customerName), ['Early', 'Mid', 'Late'])
    assert.deepEqual(await store.summary({ from: 0 }),
      { totalUnits: 4, count: 2 })
  })

  test('clear removes rows and names', async () => {
    const store = new MemorySalesStore()
    await store.append(batchOf([ADA, BO]))
    await store.topCustomers(3, {})

    await store.clear()
    await store.append(batchOf([CY]))

    assert.deepEqual(await store.summary({}), { totalUnits: 70_000, count: 1 })
    const top = await store.topCustomers(3, {})
    assert.deepEqual(top.map((c) => c.customerName), ['Cy'])
  })

  test('rejects a total past the safe range', async () => {
    const store = new MemorySalesStore()
    const half = Math.floor(Number.MAX_SAFE_INTEGER / 2)
    await store.append(batchOf([{ ...ADA, units: half }]))

    const tooMuch = batchOf([BO, { ...CY, units: half }, { ...CY, units: 2 }])
    await assert.rejects(store.append(tooMuch),
      { status: 422, code: 'SALES_TOTAL_TOO_LARGE' })

    assert.deepEqual(await store.summary({}), { totalUnits: half, count: 1 })
    const top = await store.topCustomers(5, {})
    assert.deepEqual(top.map((c) => c.customerName), ['Ada'])
  })

  test('accepts a total of exactly the safe maximum', async () => {
    const store = new MemorySalesStore()
    const half = Math.floor(Number.MAX_SAFE_INTEGER / 2)

    await store.append(batchOf([ADA, { ...CY, units: half }]))
    await store.append(batchOf([
      { ...BO, units: Number.MAX_SAFE_INTEGER - half - ADA.units },
    ]))

    const summary = await store.summary({})
    assert.equal(summary.totalUnits, Number.MAX_SAFE_INTEGER)
  })

  test('rejects a single batch past the safe range', async () => {
    const store = new MemorySalesStore()
    const max = Number.MAX_SAFE_INTEGER

    await assert.rejects(store.append(batchOf([
      { ...ADA, units: max },
      { ...BO, units: 1 },
    ])), { status: 422, code: 'SALES_TOTAL_TOO_LARGE' })

    assert.deepEqual(await store.summary({}), { totalUnits: 0, count: 0 })
  })

  test('rejects a malformed batch with TypeError', async () => {
    const store = new MemorySalesStore()
    const good = batchOf([ADA])
    const bad: Array<[string, SalesBatch]> = [
      ['length past the columns', { ...good, length: 2 }],
      ['negative length', { ...good, length: -1 }],
      ['fractional units', { ...good, units: Float64Array.of(1.5) }],
      ['negative units', { ...good, units: Float64Array.of(-1) }],
      ['NaN units', { ...good, units: Float64Array.of(Number.NaN) }],
      ['unknown customer', { ...good, customerIndex: Uint32Array.of(1) }],
    ]

    for (const [defect, batch] of bad) {
      await assert.rejects(store.append(batch), TypeError, defect)
    }
    assert.deepEqual(await store.summary({}), { totalUnits: 0, count: 0 })
  })

  test('append into empty and filled stores agrees', async () => {
    const cases: Array<[string, Row[]]> = [
      ['days within two months', randomRows(3000, 11)],
      // Too spread out for one counter per day, so days are ranked.
      ['days over centuries', randomRows(3000, 12, -700_000, 3_000_000)],
    ]
    for (const [spread, rows] of cases) {
      const whole = new MemorySalesStore()
      const parts = new MemorySalesStore()
      const range = { from: rows[0]!.day, to: rows[0]!.day + 20 }

      await whole.append(batchOf(rows))
      await parts.append(batchOf(rows.slice(0, 1800)))
      await parts.append(batchOf(rows.slice(1800)))

      assert.deepEqual(await parts.summary({}),
        { totalUnits: rows.reduce((sum, row) => sum + row.units, 0),
          count: rows.length }, spread)
      assert.deepEqual(await parts.summary(range),
        (await answers(whole, range)).summary, spread)
      assert.deepEqual(await answers(parts, range),
        await answers(whole, range), spread)
    }
  })

  test('append frees resizable batch buffers', async () => {
    // More rows than one step of freeing, so the buffers shrink in steps.
    const rows = randomRows(150_000, 21, 19_000, 400)
    const range = { from: 19_100, to: 19_180 }
    const expected = new MemorySalesStore()
    await expected.append(batchOf(rows))
    const plain = batchOf(rows)
    const layouts: Array<[string, SalesBatch, boolean]> = [
      ['length-tracking views', {
        ...plain,
        days: onOwnBuffer(plain.days, false) as Int32Array,
        units: onOwnBuffer(plain.units, false) as Float64Array,
        customerIndex: onOwnBuffer(plain.customerIndex, false) as Uint32Array,
      }, true],
      ['fixed-length views past byte 0', {
        ...plain,
        days: onOwnBuffer(plain.days, true) as Int32Array,
        units: onOwnBuffer(plain.units, true) as Float64Array,
        customerIndex: onOwnBuffer(plain.customerIndex, true) as Uint32Array,
      }, true],
      // Shrinking one column's buffer would cut the other columns.
      ['columns on one shared buffer', onSharedBuffer(plain), false],
    ]

    for (const [layout, batch, freed] of layouts) {
      const store = new MemorySalesStore()
      // A freed buffer keeps only the bytes before its column.
      const bytesAfter = columnsOf(batch).map((column) =>
        freed ? column.byteOffset : column.buffer.byteLength)

      await store.append(batch)

      assert.deepEqual(await answers(store, range),
        await answers(expected, range), layout)
      columnsOf(batch).forEach((column, i) => {
        assert.equal(column.buffer.byteLength, bytesAfter[i], `${layout} ${i}`)
      })
    }
  })

  test('append frees a BatchBuilder batch', async () => {
    const builder = new BatchBuilder()
    builder.addRecord(['customer_name', 'amount', 'date'], 1)
    const rows = 140_000
    for (let i = 0; i < rows; i++) {
      builder.addRecord([`c${i % 9}`, '1.5', '2024-03-01'], i + 2)
    }
    const { batch } = builder.finish()
    const spare = batch.units.length - batch.length

    await new MemorySalesStore().append(batch)

    // Doubling would leave 122,144 rows of spare capacity here, and freeing
    // spare capacity first brings its pages into memory.
    assert.ok(spare <= 65_536, `spare capacity of ${spare} rows`)
    for (const column of columnsOf(batch)) {
      assert.equal(column.buffer.byteLength, 0)
    }
  })

  test('rejected batch changes neither store nor batch', async () => {
    const store = new MemorySalesStore()
    const half = Math.floor(Number.MAX_SAFE_INTEGER / 2)
    await store.append(batchOf([ADA, { ...BO, units: half }]))
    const before = await answers(store, { from: BO.day, to: ADA.day })
    const rows = randomRows(1000, 31)
    const tooLarge = batchOf([...rows, { ...CY, units: half }])
    const negative = batchOf([...rows, { ...CY, units: -1 }])
    const bad: Array<[string, SalesBatch, object]> = [
      ['total past the safe range', tooLarge,
        { status: 422, code: 'SALES_TOTAL_TOO_LARGE' }],
      ['negative units', negative, TypeError],
    ]

    for (const [defect, plain, error] of bad) {
      const batch = {
        ...plain,
        days: onOwnBuffer(plain.days, false) as Int32Array,
        units: onOwnBuffer(plain.units, false) as Float64Array,
        customerIndex: onOwnBuffer(plain.customerIndex, false) as Uint32Array,
      }

      await assert.rejects(store.append(batch), error, defect)

      assert.deepEqual(await answers(store, { from: BO.day, to: ADA.day }),
        before, defect)
      assert.deepEqual(batch.days.slice(0, batch.length), plain.days, defect)
      assert.deepEqual(batch.units.slice(0, batch.length), plain.units, defect)
      assert.deepEqual(batch.customerIndex.slice(0, batch.length),
        plain.customerIndex, defect)
    }
  })

  test('matches a row scan over random uploads', async () => {
    const random = seededRandom(7)
    const store = new MemorySalesStore()
    const all: Row[] = []
    for (let upload = 0; upload < 12; upload++) {
      const rows = Array.from({ length: Math.floor(random() * 300) }, () => ({
        name: `Customer ${Math.floor(random() * 40)}`,
        units: Math.floor(random() * 100) * 100,
        day: 19_000 + Math.floor(random() * 60),
      }))
      await store.append(batchOf(rows))
      all.push(...rows)
    }

    const sorted = [...all].sort((a, b) => a.day - b.day)
    for (let probe = 0; probe < 40; probe++) {
      const from = 18_995 + Math.floor(random() * 70)
      const range = { from, to: from + Math.floor(random() * 30) }
      const rows = inRange(all, range)
      const units = rows.reduce((sum, row) => sum + row.units, 0)
      const message = JSON.stringify(range)

      assert.deepEqual(await store.summary(range),
        { totalUnits: units, count: rows.length }, message)
      assert.deepEqual(await store.topCustomers(7, range),
        naiveTop(all, range, 7), message)
      const page = await store.page(range, 0, rows.length + 1)
      const expected = inRange(sorted, range).map((row) => ({
        customerName: row.name,
        units: row.units,
        day: row.day,
      }))
      assert.deepEqual(page, expected, message)
    }
    assert.deepEqual(await store.topCustomers(50, {}), naiveTop(all, {}, 50))
  })
})
