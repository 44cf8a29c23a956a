import { compress, decompress } from '../../src/compress/rle.ts'
import {
  ZLIB_ALGORITHMS,
  zlibCompress,
  zlibDecompress,
} from '../../src/compress/zlib-codecs.ts'
import { countCodePoints } from '../../src/compress/code-points.ts'
import { seededRandom } from '../support/generate-sales.ts'
import {
  DATA_SEED,
  formatNumber,
  machineDescription,
  markdownTable,
  median,
  targetAtMost,
  timeRoundRobin,
} from './harness.ts'

/**
 * Times the string compression codecs in process, without HTTP: encoding
 * and decoding 1 MiB of generated mixed text with rle, gzip, deflate and
 * brotli. MB/s is 10^6 bytes of UTF-8 text per second. Also times rle at
 * 4 MiB, to show that its cost grows linearly.
 */

const MIB = 1024 * 1024
const ROUNDS = 7
// Untimed calls before the rounds, so the JIT has compiled the codecs and
// the first size timed is not the one that pays for it.
const WARMUP_CALLS = 3
// A linear codec takes 4 times as long for 4 times the text and a
// quadratic one 16 times, so 6 leaves room for noise but not for that.
const MAX_SCALING = 6

// Words, numbers, backslashes and characters of every UTF-8 width.
const PIECES = [
  'sales', 'Customer', 'total', 'the', 'and', '250.75', '2024', '1000',
  'Élodie', 'García', 'Zoë', '北京', '東京', '😀', '🚀', '👍🏽', 'e\u0301',
  '\\', 'C:\\path', '€', ' ', ' ', ' ', ', ', '.\n',
]

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  const text = mixedText(MIB, DATA_SEED)
  const bytes = Buffer.byteLength(text)
  const rows = []
  for (const algorithm of ['rle', ...ZLIB_ALGORITHMS] as const) {
    rows.push(await measure(algorithm, text, bytes))
  }
  const scaling = await measureScaling(text, mixedText(4 * MIB, DATA_SEED))

  return [
    '## String compression',
    '',
    `${machineDescription()}. In process, without HTTP: ` +
      `${formatNumber(bytes)} bytes ` +
      `(${formatNumber(countCodePoints(text))} code points) of generated ` +
      `mixed text (seed ${DATA_SEED}) with words, digits, backslashes, ` +
      'accented, CJK and emoji characters and runs of 2-40. MB/s is 10^6 ' +
      `bytes of text per second, median of ${ROUNDS} rounds after ` +
      `${WARMUP_CALLS} untimed calls. Ratio is compressed length over ` +
      'original length in code points, as the API reports it, and zlib ' +
      'output is base64. Brotli runs at quality 5.',
    '',
    markdownTable(
      ['algorithm', 'encode MB/s', 'decode MB/s', 'compressed length',
        'ratio'],
      rows),
    '',
    markdownTable(['rle step', 'ms at 1 MiB', 'ms at 4 MiB', '4 MiB / 1 MiB'],
      scaling.rows),
    '',
    ...scaling.targets,
    '',
  ].join('\n')
}

async function measure(
  algorithm: 'rle' | typeof ZLIB_ALGORITHMS[number],
  text: string,
  bytes: number,
): Promise<string[]> {
  const encode = algorithm === 'rle'
    ? async () => compress(text)
    : () => zlibCompress(algorithm, text)
  const encoded = await encode()
  const decode = algorithm === 'rle'
    ? async () => decompress(encoded, { maxBytes: bytes })
    : () => zlibDecompress(algorithm, encoded, { maxBytes: bytes })
  if (await decode() !== text) {
    throw new Error(`${algorithm} did not decode back to the text`)
  }

  const times = await timeWarm([
    { name: 'encode', run: encode },
    { name: 'decode', run: decode },
  ])
  const megabytesPerSecond = (name: string) =>
    formatNumber(bytes / 1e6 / (median(times.get(name) ?? []) / 1000), 1)
  const length = countCodePoints(encoded)
  return [
    algorithm,
    megabytesPerSecond('encode'),
    megabytesPerSecond('decode'),
    formatNumber(length),
    (length / countCodePoints(text)).toFixed(3),
  ]
}

async function measureScaling(
  small: string,
  large: string,
): Promise<{ rows: string[][], targets: string[] }> {
  const smallEncoded = compress(small)
  const largeEncoded = compress(large)
  const maxBytes = Buffer.byteLength(large)
  const times = await timeWarm([
    { name: 'encode small', run: async () => compress(small) },
    { name: 'encode large', run: async () => compress(large) },
    {
      name: 'decode small',
      run: async () => decompress(smallEncoded, { maxBytes }),
    },
    {
      name: 'decode large',
      run: async () => decompress(largeEncoded, { maxBytes }),
    },
  ])

  const rows: string[][] = []
  const targets: string[] = []
  for (const step of ['encode', 'decode']) {
    const atSmall = median(times.get(`${step} small`) ?? [])
    const atLarge = median(times.get(`${step} large`) ?? [])
    const ratio = atLarge / atSmall
    rows.push([step, formatNumber(atSmall, 2), formatNumber(atLarge, 2),
      `${ratio.toFixed(2)}x`])
    targets.push(targetAtMost(`rle ${step}, 4 times the text`, ratio,
      MAX_SCALING))
  }
  return { rows, targets }
}

async function timeWarm(
  cases: Array<{ name: string, run: () => Promise<unknown> }>,
): Promise<Map<string, number[]>> {
  for (const { run } of cases) {
    for (let i = 0; i < WARMUP_CALLS; i++) await run()
  }
  return timeRoundRobin(cases, ROUNDS)
}

/**
 * Builds `bytes` bytes of UTF-8 from random pieces and runs, padded with
 * spaces to the exact size. The same size and seed give the same text.
 */
function mixedText(bytes: number, seed: number): string {
  const random = seededRandom(seed)
  const parts: string[] = []
  let size = 0
  for (;;) {
    const piece = nextPiece(random)
    const pieceBytes = Buffer.byteLength(piece)
    if (size + pieceBytes > bytes) break
    parts.push(piece)
    size += pieceBytes
  }
  parts.push(' '.repeat(bytes - size))
  return parts.join('')
}

function nextPiece(random: () => number): string {
  const piece = PIECES[Math.floor(random() * PIECES.length)] as string
  if (random() >= 0.1) return piece

  const character = [...piece][0] as string
  return character.repeat(2 + Math.floor(random() * 39))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(await main())
}
