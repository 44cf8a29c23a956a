import { parse as csvParse } from 'csv-parse'
import Papa from 'papaparse'
import { createReadStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import { inferSchema, initParser, type Parser } from 'udsv'
import { amountUnits, dayNumber, type RowSink } from './row-values.ts'

/**
 * The peer CSV parsers, each fed the file as a stream and turning every
 * row into the typed values of `RowSink`, plus the floor: reading the file
 * and counting newlines. All read with the same chunk size.
 */

/** Read size of every parser and the floor: 256 KiB. */
export const CHUNK_BYTES = 256 * 1024

/** Parses the CSV at `path` into `sink`. */
export type ParseFile = (path: string, sink: RowSink) => Promise<void>

interface Columns {
  name: number
  amount: number
  date: number
}

function headerColumns(header: readonly string[]): Columns {
  const names = header.map((field) => field.trim().toLowerCase())
  const columns = {
    name: names.indexOf('customer_name'),
    amount: names.indexOf('amount'),
    date: names.indexOf('date'),
  }
  if (columns.name < 0 || columns.amount < 0 || columns.date < 0) {
    throw new Error(`Header lacks a required column: ${header.join(',')}`)
  }
  return columns
}

function addRow(sink: RowSink, fields: readonly string[], columns: Columns) {
  const name = (fields[columns.name] ?? '').trim()
  const units = amountUnits(fields[columns.amount] ?? '')
  const day = dayNumber(fields[columns.date] ?? '')
  if (name === '' || units < 0 || Number.isNaN(day)) {
    throw new Error(`Invalid row: ${fields.join(',')}`)
  }
  sink.add(name, units, day)
}

/** `csv-parse` through its stream API, reading records on `readable`. */
export const parseWithCsvParse: ParseFile = async (path, sink) => {
  const input = createReadStream(path, { highWaterMark: CHUNK_BYTES })
  const parser = csvParse({ bom: true, skip_empty_lines: true })
  input.once('error', (error) => parser.destroy(error))
  let columns: Columns | undefined
  parser.on('readable', () => {
    let record: string[] | null
    while ((record = parser.read() as string[] | null) !== null) {
      if (columns) addRow(sink, record, columns)
      else columns = headerColumns(record)
    }
  })
  input.pipe(parser)
  await finished(parser)
}

/** `papaparse` with a Node stream as input and a `chunk` callback. */
export const parseWithPapaparse: ParseFile = (path, sink) => {
  // Decoding in the stream keeps a character split across chunks whole.
  const input = createReadStream(path, {
    highWaterMark: CHUNK_BYTES,
    encoding: 'utf8',
  })
  let columns: Columns | undefined
  return new Promise((resolve, reject) => {
    input.once('error', reject)
    Papa.parse<string[]>(input, {
      skipEmptyLines: true,
      chunk(results) {
        for (const row of results.data) {
          if (columns) addRow(sink, row, columns)
          else columns = headerColumns(row)
        }
      },
      complete: () => resolve(),
      error: (error: Error) => reject(error),
    })
  })
}

/** `udsv` fed string chunks through `parser.chunk` with a row callback. */
export const parseWithUdsv: ParseFile = async (path, sink) => {
  const input = createReadStream(path, {
    highWaterMark: CHUNK_BYTES,
    encoding: 'utf8',
  })
  let parser: Parser | undefined
  let columns: Columns | undefined
  const onRow = (row: string[]) => addRow(sink, row, columns as Columns)
  for await (const chunk of input as AsyncIterable<string>) {
    if (!parser) {
      // The quote is set, not inferred, because a first chunk without a
      // quoted name would make udsv treat quotes as plain characters.
      parser = initParser(inferSchema(chunk, { encl: '"' }))
      columns = headerColumns(parser.schema.cols.map((column) => column.name))
    }
    parser.chunk<string[]>(chunk, parser.stringArrs, onRow)
  }
  parser?.end()
}

/** Reads the file and counts LF bytes with `Buffer.indexOf`: the floor. */
export async function countLines(path: string): Promise<number> {
  let lines = 0
  const input = createReadStream(path, { highWaterMark: CHUNK_BYTES })
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let index = chunk.indexOf(10)
    while (index !== -1) {
      lines++
      index = chunk.indexOf(10, index + 1)
    }
  }
  return lines
}
