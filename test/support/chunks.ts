import type { CsvParser } from '../../src/sales/csv-parser.ts'

/**
 * Pushes `input` into `parser` in pieces whose sizes cycle through `sizes`,
 * then ends it, so tests can check that any split gives the same records.
 */
export function pushInChunks(
  parser: CsvParser,
  input: Uint8Array,
  sizes: number[],
): void {
  let offset = 0
  for (let i = 0; offset < input.length; i++) {
    const size = sizes[i % sizes.length] as number
    parser.push(input.subarray(offset, offset + size))
    offset += size
  }
  parser.end()
}
