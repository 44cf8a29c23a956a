import { createWriteStream } from 'node:fs'
import { once } from 'node:events'

/**
 * Deterministic sales CSV data for tests and benchmarks: a few thousand
 * customers with skewed popularity, some names quoted because they contain
 * commas or double quotes, two-decimal amounts and unsorted dates in
 * 2022-2024. The same rows and seed always give the same bytes.
 */

const GIVEN = ['Ada', 'Bruno', 'Chen', 'Dana', 'Élodie', 'Farid', 'Grace',
  'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Mateo', 'Nia', 'Oskar', 'Priya',
  'Quinn', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Viktor', 'Wen', 'Ximena', 'Yusuf',
  'Zoë']
const FAMILY = ['Abbott', 'Baker', 'Castillo', 'Dubois', 'Eriksen', 'Fischer',
  'García', 'Haddad', 'Ivanova', 'Jensen', "O'Neill", 'Kowalczyk', 'Lindqvist',
  'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Rossi', 'Schmidt', 'Tanaka',
  'Van Dijk', 'Weber', 'Yilmaz', 'Zhang']
const COMPANY = ['Northwind', 'Bluebird', 'Copperleaf', 'Driftwood', 'Evergreen',
  'Foxglove', 'Granite', 'Harbor', 'Ironbark', 'Juniper', 'Kestrel', 'Lantern']
const TRADE = ['Traders', 'Supplies', 'Bakery', 'Logistics', 'Studio', 'Foods']
const FORM = ['Inc.', 'Ltd.', 'LLC', 'GmbH', 'S.A.']

const FIRST_DAY = Date.UTC(2022, 0, 1) / 86_400_000
const DAY_COUNT = 1096

/** A seeded 32-bit generator (xorshift32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = (seed >>> 0) || 0x9e3779b9
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state / 0x1_0000_0000
  }
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

function makeCustomerName(random: () => number, serial: number): string {
  const kind = random()
  if (kind < 0.06) return `${pick(random, FAMILY)}, ${pick(random, GIVEN)} #${serial}`
  if (kind < 0.1) {
    return `${pick(random, COMPANY)} ${pick(random, TRADE)}, ` +
      `${pick(random, FORM)} ${serial}`
  }
  if (kind < 0.11) {
    return `${pick(random, GIVEN)} "Ace" ${pick(random, FAMILY)} ${serial}`
  }
  return `${pick(random, GIVEN)} ${pick(random, FAMILY)} ${serial}`
}

/** Quotes a field when RFC 4180 requires it, doubling inner quotes. */
export function csvField(value: string): string {
  if (!/[",\r\n]/.test(value)) return value
  return `"${value.replaceAll('"', '""')}"`
}

/** A standard normal draw (Box-Muller). */
function normal(random: () => number): number {
  const u = 1 - random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

function formatDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10)
}

function formatCents(cents: number): string {
  const whole = Math.floor(cents / 100)
  const fraction = String(cents % 100).padStart(2, '0')
  return `${whole}.${fraction}`
}

export interface GenerateOptions {
  seed?: number
  customers?: number
}

/** Yields the CSV text in chunks of about 64 KiB, header first. */
export function* generateSalesCsv(
  rows: number,
  options: GenerateOptions = {},
): Generator<string> {
  const random = seededRandom(options.seed ?? 42)
  const customerCount = options.customers ?? 5000
  const names = Array.from({ length: customerCount },
    (_, i) => csvField(makeCustomerName(random, i + 1)))
  const dates = Array.from({ length: DAY_COUNT },
    (_, i) => formatDay(FIRST_DAY + i))

  let chunk = 'customer_name,amount,date\n'
  for (let i = 0; i < rows; i++) {
    // Squaring a uniform draw favours low indices: a few customers buy a lot.
    const customer = Math.floor(random() * random() * customerCount)
    const cents = Math.max(50, Math.round(Math.exp(8.3 + 1.1 * normal(random))))
    const line = `${names[customer]},${formatCents(Math.min(cents, 999_999))},` +
      `${dates[Math.floor(random() * DAY_COUNT)]}\n`
    chunk += line
    if (chunk.length >= 65_536) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk !== '') yield chunk
}

/** Returns the whole generated CSV as one string (small sizes only). */
export function generateSalesCsvText(
  rows: number,
  options: GenerateOptions = {},
): string {
  return [...generateSalesCsv(rows, options)].join('')
}

/** Writes the generated CSV to `path`, honouring stream back-pressure. */
export async function writeSalesCsv(
  path: string,
  rows: number,
  options: GenerateOptions = {},
): Promise<void> {
  const output = createWriteStream(path)
  for (const chunk of generateSalesCsv(rows, options)) {
    if (!output.write(chunk)) await once(output, 'drain')
  }
  output.end()
  await once(output, 'finish')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [rows, path, seed] = process.argv.slice(2)
  if (!rows || !path) {
    process.stderr.write('usage: tsx test/support/generate-sales.ts ROWS PATH [SEED]\n')
    process.exit(2)
  }
  await writeSalesCsv(path, Number(rows), { seed: Number(seed ?? 42) })
}
