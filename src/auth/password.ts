import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { serviceUnavailable } from '../http/errors.ts'
import { QueueFullError, Semaphore } from './semaphore.ts'

/** Password length limits, in Unicode code points. */
export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 128

interface ScryptParams {
  /** log2 of the cost N. */
  ln: number
  r: number
  p: number
}

interface ScryptHash extends ScryptParams {
  salt: Buffer
  key: Buffer
}

const DEFAULT_PARAMS: ScryptParams = { ln: 14, r: 8, p: 1 }
const SALT_BYTES = 16
const KEY_BYTES = 32

// Upper bound on the memory one stored string may make scrypt use, so a
// corrupt or hostile hash cannot exhaust the process. N=2^14, r=8 needs
// 16 MiB.
const MAX_MEMORY_BYTES = 64 * 1024 * 1024

// One hash at N=2^14 keeps a core busy for about 36 ms (measured on a
// 2-core machine with Node 20). Hashes run on the libuv pool, but they still
// compete with the event loop for cores, so at most one core less than the
// machine has (one to two) hash at a time. The queue bound turns a flood of
// logins into quick 503s instead of a growing backlog.
const HASH_SLOTS = Math.min(2, Math.max(1, availableParallelism() - 1))
const hashSlots = new Semaphore(HASH_SLOTS, 64)

// `$scrypt$ln=14,r=8,p=1$<salt>$<key>`, both in base64 without padding.
const PHC_PATTERN =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{22,88})$/

// Unknown users are checked against this so that their login costs the same
// as a wrong password. No password matches it, because the result is ignored.
const DUMMY_HASH: ScryptHash = {
  ...DEFAULT_PARAMS,
  salt: randomBytes(SALT_BYTES),
  key: randomBytes(KEY_BYTES),
}

// In a `u` regex a surrogate pair is one code point, so this matches only a
// surrogate without its partner.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * Hashes a password with scrypt and a fresh 16-byte salt, and returns a
 * PHC-style string that stores the parameters. The password is NFKC
 * normalised first. Throws a 503 `HttpError` when too many hashes wait, and
 * `TypeError` for a password that was not validated first.
 */
export async function hashPassword(password: string): Promise<string> {
  if (!isAcceptableLength(password)) {
    throw new TypeError('The password length must be checked before hashing')
  }
  if (!isWellFormedUnicode(password)) {
    throw new TypeError('A password with a lone surrogate cannot be hashed')
  }

  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, DEFAULT_PARAMS, salt, KEY_BYTES)
  return formatHash({ ...DEFAULT_PARAMS, salt, key })
}

/**
 * Returns whether `password` matches the stored PHC string. A missing or
 * unreadable `stored` runs the same work against a dummy hash and returns
 * false. A password over the maximum length, or with a lone surrogate,
 * returns false without hashing.
 */
export async function verifyPassword(
  password: string,
  stored: string | undefined,
): Promise<boolean> {
  if (countCodePoints(password) > MAX_PASSWORD_LENGTH) return false
  if (!isWellFormedUnicode(password)) return false

  const parsed = stored === undefined ? undefined : parseHash(stored)
  const target = parsed ?? DUMMY_HASH
  const key = await derive(password, target, target.salt, target.key.byteLength)
  return parsed !== undefined && timingSafeEqual(key, parsed.key)
}

/** Counts the Unicode code points of `text`, stopping past `limit`. */
export function countCodePoints(text: string, limit = Infinity): number {
  let count = 0
  for (const _ of text) {
    count++
    if (count > limit) break
  }
  return count
}

/**
 * Returns whether `text` is well-formed UTF-16, with no lone surrogate.
 * scrypt encodes its input as UTF-8, which turns every lone surrogate into
 * U+FFFD, so passwords that differ only in them would verify as each other.
 */
export function isWellFormedUnicode(text: string): boolean {
  return !LONE_SURROGATE.test(text)
}

function isAcceptableLength(password: string): boolean {
  const length = countCodePoints(password, MAX_PASSWORD_LENGTH)
  return length >= MIN_PASSWORD_LENGTH && length <= MAX_PASSWORD_LENGTH
}

function formatHash(hash: ScryptHash): string {
  const params = `ln=${hash.ln},r=${hash.r},p=${hash.p}`
  return `$scrypt$${params}$${unpadded(hash.salt)}$${unpadded(hash.key)}`
}

function parseHash(stored: string): ScryptHash | undefined {
  const match = PHC_PATTERN.exec(stored)
  if (!match) return undefined

  const [, ln, r, p, salt, key] = match as unknown as string[]
  const hash: ScryptHash = {
    ln: Number(ln),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt as string, 'base64'),
    key: Buffer.from(key as string, 'base64'),
  }
  if (hash.ln < 1 || hash.r < 1 || hash.p < 1) return undefined
  if (scryptMemory(hash) > MAX_MEMORY_BYTES) return undefined
  return hash
}

// Bytes OpenSSL's scrypt allocates, which its `maxmem` check compares
// against: 128 * r * (N + p + 2).
function scryptMemory(params: ScryptParams): number {
  return 128 * params.r * (2 ** params.ln + params.p + 2)
}

function unpadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '')
}

async function derive(
  password: string,
  params: ScryptParams,
  salt: Buffer,
  keyBytes: number,
): Promise<Buffer> {
  const input = password.normalize('NFKC')
  try {
    return await hashSlots.run(() => scryptAsync(input, params, salt, keyBytes))
  } catch (error) {
    if (!(error instanceof QueueFullError)) throw error
    throw serviceUnavailable('AUTH_BUSY',
      'Too many sign-ins are being processed; retry shortly', 1)
  }
}

function scryptAsync(
  input: string,
  params: ScryptParams,
  salt: Buffer,
  keyBytes: number,
): Promise<Buffer> {
  const options = {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
    maxmem: MAX_MEMORY_BYTES,
  }
  return new Promise((resolve, reject) => {
    scrypt(input, salt, keyBytes, options, (error, key) => {
      if (error) reject(error)
      else resolve(key)
    })
  })
}
