import assert from 'node:assert/strict'
import { randomBytes, scryptSync } from 'node:crypto'
import { describe, test } from 'node:test'
import { clientAddressKey } from '../src/auth/client-address.ts'
import { LoginThrottle } from '../src/auth/login-throttle.ts'
import { hashPassword, verifyPassword } from '../src/auth/password.ts'
import { QueueFullError, Semaphore } from '../src/auth/semaphore.ts'
import { MemoryUserStore } from '../src/auth/user-store.ts'
import { ConfigError } from '../src/config.ts'
import {
  bearer,
  createUserWithToken,
  jsonBody,
  startServer,
} from './support/server.ts'

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'
const PASSWORD = 'correct horse battery'

function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

function postRaw(
  url: string,
  body: string | Uint8Array,
  contentType: string | undefined,
): Promise<Response> {
  const headers: Record<string, string> = {}
  if (contentType !== undefined) headers['content-type'] = contentType
  return fetch(url, { method: 'POST', headers, body })
}

async function registerOk(
  url: string,
  username: string,
  role: 'admin' | 'user' = 'user',
  headers: Record<string, string> = {},
): Promise<any> {
  const response = await postJson(`${url}/register`,
    { username, password: PASSWORD, role }, headers)
  assert.equal(response.status, 201, `register ${username}`)
  return jsonBody(response)
}

async function loginToken(url: string, username: string): Promise<string> {
  const response = await postJson(`${url}/login`,
    { username, password: PASSWORD })
  assert.equal(response.status, 200, `login ${username}`)
  return (await jsonBody(response)).access_token
}

async function assertProblem(
  response: Response,
  status: number,
  code: string,
): Promise<any> {
  const body = await jsonBody(response)
  assert.equal(response.status, status, JSON.stringify(body))
  assert.equal(response.headers.get('content-type'), PROBLEM_TYPE)
  assert.equal(body.status, status)
  assert.equal(body.code, code)
  return body
}

/**
 * A user store that can hold username lookups until `release`, so a test
 * can keep logins in progress. Only the number of lookups given to
 * `holdNext` wait, so an unexpected extra login finishes instead of hanging.
 */
class HoldingUserStore extends MemoryUserStore {
  readonly #held: Array<() => void> = []
  #toHold = 0
  #onHeld = () => {}

  override async findByUsername(username: string) {
    if (this.#toHold > 0) {
      this.#toHold--
      await new Promise<void>((resolve) => {
        this.#held.push(resolve)
        this.#onHeld()
      })
    }
    return super.findByUsername(username)
  }

  holdNext(count: number): void {
    this.#toHold = count
  }

  /** Resolves once `count` lookups are waiting. */
  async waitForHeld(count: number): Promise<void> {
    while (this.#held.length < count) {
      await new Promise<void>((resolve) => { this.#onHeld = resolve })
    }
  }

  release(): void {
    this.#toHold = 0
    for (const resume of this.#held.splice(0)) resume()
  }
}

describe('POST /register', () => {
  test('creates a user account', async (t) => {
    const { url } = await startServer(t)

    const response = await postJson(`${url}/register`,
      { username: 'alice', password: PASSWORD })
    const body = await jsonBody(response)

    assert.equal(response.status, 201)
    assert.equal(response.headers.get('content-type'), JSON_TYPE)
    assert.deepEqual(Object.keys(body).sort(),
      ['created_at', 'id', 'role', 'username'])
    assert.equal(body.username, 'alice')
    assert.equal(body.role, 'user')
    assert.match(body.id, /^[0-9a-f-]{36}$/)
    assert.ok(!Number.isNaN(Date.parse(body.created_at)))
  })

  test('stores a scrypt PHC string, never the password', async (t) => {
    const { url, app } = await startServer(t)

    await registerOk(url, 'alice')
    const stored = await app.users.findByUsername('alice')

    assert.match(stored?.passwordHash ?? '',
      /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    assert.ok(!stored?.passwordHash.includes(PASSWORD))
  })

  test('gives each password its own salt', async (t) => {
    const { url, app } = await startServer(t)

    await registerOk(url, 'alice')
    await registerOk(url, 'bobby')
    const first = await app.users.findByUsername('alice')
    const second = await app.users.findByUsername('bobby')

    assert.notEqual(first?.passwordHash.split('$')[3],
      second?.passwordHash.split('$')[3])
  })

  test('takes created_at from the injected clock', async (t) => {
    const now = Date.UTC(2030, 0, 2, 3, 4, 5)
    const { url } = await startServer(t, { now: () => now })

    const body = await registerOk(url, 'alice')

    assert.equal(body.created_at, '2030-01-02T03:04:05.000Z')
  })

  test('stores the NFKC form of the name', async (t) => {
    const { url } = await startServer(t)

    const body = await registerOk(url, 'ｂｏｂ_１')

    assert.equal(body.username, 'bob_1')
  })

  test('rejects invalid fields with 422', async (t) => {
    const { url } = await startServer(t)
    const cases: Array<[string, Record<string, unknown>]> = [
      // username missing
      ['username', { password: PASSWORD }],
      // username a number
      ['username', { username: 12345, password: PASSWORD }],
      // username an object
      ['username', { username: { $gt: '' }, password: PASSWORD }],
      // username an array
      ['username', { username: ['alice'], password: PASSWORD }],
      // username null
      ['username', { username: null, password: PASSWORD }],
      // username too short
      ['username', { username: 'ab', password: PASSWORD }],
      // username too long (33 characters)
      ['username', { username: 'a'.repeat(33), password: PASSWORD }],
      // username with a space
      ['username', { username: 'al ice', password: PASSWORD }],
      // username with a control character (BEL)
      ['username', { username: 'ali\u0007ce', password: PASSWORD }],
      // username with a NUL
      ['username', { username: 'ali\u0000ce', password: PASSWORD }],
      // username with a newline, which could split a log line
      ['username', { username: 'alice\nroot', password: PASSWORD }],
      // username with a zero-width space
      ['username', { username: 'ali\u200bce', password: PASSWORD }],
      // username with a zero-width joiner
      ['username', { username: 'ali\u200dce', password: PASSWORD }],
      // username with a right-to-left override
      ['username', { username: '\u202ealice', password: PASSWORD }],
      // username with a byte order mark
      ['username', { username: '\ufeffalice', password: PASSWORD }],
      // username with a lone surrogate
      ['username', { username: 'ali\ud800ce', password: PASSWORD }],
      // username with punctuation outside . _ -
      ['username', { username: 'alice@example', password: PASSWORD }],
      // password missing
      ['password', { username: 'alice' }],
      // password a number
      ['password', { username: 'alice', password: 12345678 }],
      // password an object
      ['password', { username: 'alice', password: { toString: 'x' } }],
      // password true
      ['password', { username: 'alice', password: true }],
      // password too short (7 characters)
      ['password', { username: 'alice', password: '1234567' }],
      // password too long (129 characters)
      ['password', { username: 'alice', password: 'p'.repeat(129) }],
      // password of 129 emoji, each one character
      ['password', { username: 'alice', password: '😀'.repeat(129) }],
      // password of lone high surrogates, which UTF-8 turns into U+FFFD
      ['password', { username: 'alice', password: '\ud800'.repeat(8) }],
      // password ending in a lone low surrogate
      ['password', { username: 'alice', password: 'password\udfff' }],
      // password with a surrogate pair in reverse order
      ['password', { username: 'alice', password: 'password\udc00\ud83d' }],
      // role outside admin/user
      ['role', { username: 'alice', password: PASSWORD, role: 'root' }],
      // role in another case
      ['role', { username: 'alice', password: PASSWORD, role: 'ADMIN' }],
      // role null
      ['role', { username: 'alice', password: PASSWORD, role: null }],
      // role an array
      ['role', { username: 'alice', password: PASSWORD, role: ['admin'] }],
      // role a number
      ['role', { username: 'alice', password: PASSWORD, role: 1 }],
    ]

    for (const [field, body] of cases) {
      const response = await postJson(`${url}/register`, body)
      const problem = await jsonBody(response)
      const message = JSON.stringify(body)

      assert.equal(response.status, 422, message)
      assert.equal(response.headers.get('content-type'), PROBLEM_TYPE, message)
      assert.equal(problem.code, 'AUTH_REGISTRATION_INVALID', message)
      assert.deepEqual(problem.errors.map((e: any) => e.field), [field], message)
      assert.equal(typeof problem.errors[0].message, 'string', message)
    }
  })

  test('accepts passwords at the length limits', async (t) => {
    const { url } = await startServer(t)

    const shortest = await postJson(`${url}/register`,
      { username: 'alice', password: '12345678' })
    const longest = await postJson(`${url}/register`,
      { username: 'bobby', password: '😀'.repeat(128) })

    assert.equal(shortest.status, 201)
    assert.equal(longest.status, 201)
  })

  test('lists every invalid field at once', async (t) => {
    const { url } = await startServer(t)

    const response = await postJson(`${url}/register`,
      { username: 'a', password: 5, role: 'root' })
    const body = await assertProblem(response, 422, 'AUTH_REGISTRATION_INVALID')

    assert.deepEqual(body.errors.map((e: any) => e.field),
      ['username', 'password', 'role'])
  })

  test('rejects a body that is not JSON with 400', async (t) => {
    const { url } = await startServer(t)
    const cases: Array<string | Uint8Array> = [
      // plain text
      'username=alice',
      // truncated object
      '{"username":"alice","password":',
      // trailing comma
      '{"username":"alice",}',
      // single quotes
      "{'username':'alice'}",
      // empty body
      '',
      // bytes that are not UTF-8
      new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    ]

    for (const body of cases) {
      const response = await postRaw(`${url}/register`, body, 'application/json')
      await assertProblem(response, 400, 'HTTP_BODY_INVALID')
    }
  })

  test('rejects JSON that is not an object with 400', async (t) => {
    const { url } = await startServer(t)
    // An array, a number, null, a string and a boolean are valid JSON.
    const cases = ['[]', '[{"username":"alice"}]', '42', 'null', '"alice"', 'true']

    for (const body of cases) {
      const response = await postRaw(`${url}/register`, body, 'application/json')
      await assertProblem(response, 400, 'HTTP_BODY_NOT_OBJECT')
    }
  })

  test('rejects other content types with 415', async (t) => {
    const { url } = await startServer(t)
    const body = JSON.stringify({ username: 'alice', password: PASSWORD })
    // Missing, plain text, form, and a JSON look-alike.
    const types = [undefined, 'text/plain', 'application/x-www-form-urlencoded',
      'application/json-patch+json']

    for (const type of types) {
      const response = await postRaw(`${url}/register`, body, type)
      await assertProblem(response, 415, 'HTTP_UNSUPPORTED_MEDIA_TYPE')
    }
  })

  test('accepts a charset parameter on the content type', async (t) => {
    const { url } = await startServer(t)

    const response = await postRaw(`${url}/register`,
      JSON.stringify({ username: 'alice', password: PASSWORD }),
      'Application/JSON; charset=utf-8')

    assert.equal(response.status, 201)
  })

  test('answers a 1 MB password with 413', async (t) => {
    const { url, app } = await startServer(t)

    const response = await postJson(`${url}/register`,
      { username: 'alice', password: 'p'.repeat(1024 * 1024) })

    await assertProblem(response, 413, 'HTTP_BODY_TOO_LARGE')
    assert.equal(await app.users.findByUsername('alice'), undefined)
  })

  test('rejects look-alike names with 409', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')
    await registerOk(url, 'strasse')
    await registerOk(url, 'kelvin')
    const lookAlikes = [
      'ALICE', // upper case
      'Alice', // mixed case
      'ａｌｉｃｅ', // fullwidth letters
      'ＡＬＩＣＥ', // fullwidth capitals
      'STRAẞE', // capital sharp s, which folds to "ss"
      'Straße', // sharp s
      '\u212aelvin', // Kelvin sign, NFKC maps it to K
    ]

    for (const username of lookAlikes) {
      const response = await postJson(`${url}/register`,
        { username, password: PASSWORD })
      await assertProblem(response, 409, 'AUTH_USERNAME_TAKEN')
    }
  })

  test('lets one of ten parallel registrations win', async (t) => {
    const { url, app } = await startServer(t)

    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      postJson(`${url}/register`,
        { username: i % 2 ? 'Racer' : 'racer', password: PASSWORD })))
    const statuses = responses.map((response) => response.status).sort()

    assert.deepEqual(statuses, [201, ...Array(9).fill(409)])
    assert.ok(await app.users.findByUsername('racer'))
  })

  test('lets anyone create the first admin', async (t) => {
    const { url } = await startServer(t)

    const body = await registerOk(url, 'root', 'admin')

    assert.equal(body.role, 'admin')
  })

  test('lets one of parallel bootstrap admins win', async (t) => {
    const { url } = await startServer(t)

    const responses = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      postJson(`${url}/register`,
        { username: `boss${i}`, password: PASSWORD, role: 'admin' })))
    const statuses = responses.map((response) => response.status).sort()

    assert.deepEqual(statuses, [201, 403, 403, 403, 403, 403])
    for (const response of responses) {
      if (response.status !== 403) continue
      assert.equal((await jsonBody(response)).code, 'AUTH_ADMIN_REQUIRED')
    }
  })

  test('needs an admin token once an admin exists', async (t) => {
    const { url, app } = await startServer(t)
    await registerOk(url, 'root', 'admin')
    const { token: userToken } = await createUserWithToken(app, 'user')

    const anonymous = await postJson(`${url}/register`,
      { username: 'second', password: PASSWORD, role: 'admin' })
    const asUser = await postJson(`${url}/register`,
      { username: 'second', password: PASSWORD, role: 'admin' },
      bearer(userToken))

    await assertProblem(anonymous, 403, 'AUTH_ADMIN_REQUIRED')
    await assertProblem(asUser, 403, 'AUTH_ADMIN_REQUIRED')
    assert.equal(await app.users.findByUsername('second'), undefined)
  })

  test('creates an admin for an admin caller', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'root', 'admin')
    const token = await loginToken(url, 'root')

    const body = await registerOk(url, 'second', 'admin', bearer(token))

    assert.equal(body.role, 'admin')
  })

  test('rejects an invalid token on an admin request', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'root', 'admin')

    const response = await postJson(`${url}/register`,
      { username: 'second', password: PASSWORD, role: 'admin' },
      bearer('not-a-token'))

    await assertProblem(response, 401, 'AUTH_TOKEN_INVALID')
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /)
  })

  test('still lets anyone create a plain user', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'root', 'admin')

    const body = await registerOk(url, 'plain')

    assert.equal(body.role, 'user')
  })

  test('lets anyone create admins when signup is open', async (t) => {
    const { url } = await startServer(t, { adminSignup: 'open' })
    await registerOk(url, 'root', 'admin')

    const body = await registerOk(url, 'second', 'admin')

    assert.equal(body.role, 'admin')
  })

  test('ignores unknown fields and stores none of them', async (t) => {
    const { url, app } = await startServer(t)
    await registerOk(url, 'root', 'admin')
    const text = '{"username":"mallory","password":"' + PASSWORD + '",' +
      '"isAdmin":true,"roles":["admin"],"id":"00000000-0000-0000-0000-000000000000",' +
      '"created_at":"1999-01-01T00:00:00.000Z","passwordHash":"x",' +
      '"__proto__":{"role":"admin","isAdmin":true},' +
      '"constructor":{"prototype":{"role":"admin"}}}'

    const response = await postRaw(`${url}/register`, text, 'application/json')
    const body = await jsonBody(response)
    const stored = await app.users.findByUsername('mallory')

    assert.equal(response.status, 201)
    assert.equal(body.role, 'user')
    assert.notEqual(body.id, '00000000-0000-0000-0000-000000000000')
    assert.notEqual(body.created_at, '1999-01-01T00:00:00.000Z')
    assert.deepEqual(Object.keys(stored ?? {}).sort(),
      ['createdAt', 'id', 'passwordHash', 'role', 'username'])
    assert.equal(stored?.role, 'user')
    assert.match(stored?.passwordHash ?? '', /^\$scrypt\$/)
    assert.equal(({} as Record<string, unknown>).role, undefined)
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined)
  })

  test('grants nothing through ignored fields', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'root', 'admin')
    await postRaw(`${url}/register`, '{"username":"mallory","password":"' +
      PASSWORD + '","__proto__":{"role":"admin"},"isAdmin":true}',
    'application/json')
    const token = await loginToken(url, 'mallory')

    const profile = await jsonBody(await fetch(`${url}/profile`,
      { headers: bearer(token) }))
    const escalate = await postJson(`${url}/register`,
      { username: 'second', password: PASSWORD, role: 'admin' }, bearer(token))

    assert.equal(profile.role, 'user')
    await assertProblem(escalate, 403, 'AUTH_ADMIN_REQUIRED')
  })
})

describe('POST /login', () => {
  test('returns a bearer token for JSON', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')

    const response = await postJson(`${url}/login`,
      { username: 'alice', password: PASSWORD })
    const body = await jsonBody(response)

    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), JSON_TYPE)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(Object.keys(body).sort(),
      ['access_token', 'expires_in', 'token_type'])
    assert.equal(body.token_type, 'bearer')
    assert.equal(body.expires_in, 3600)
    assert.match(body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
  })

  test('accepts the OAuth 2.0 password form', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')
    const form = new URLSearchParams({
      grant_type: 'password',
      username: 'alice',
      password: PASSWORD,
    })

    const response = await fetch(`${url}/login`, { method: 'POST', body: form })
    const body = await jsonBody(response)

    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(body.token_type, 'bearer')
  })

  test('issues a token that opens /profile', async (t) => {
    const { url } = await startServer(t)
    const account = await registerOk(url, 'alice')
    const token = await loginToken(url, 'alice')

    const response = await fetch(`${url}/profile`, { headers: bearer(token) })

    assert.equal(response.status, 200)
    assert.deepEqual(await jsonBody(response), account)
  })

  test('matches the name case-insensitively after NFKC', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')

    const upper = await postJson(`${url}/login`,
      { username: 'ALICE', password: PASSWORD })
    const fullwidth = await postJson(`${url}/login`,
      { username: 'ａｌｉｃｅ', password: PASSWORD })

    assert.equal(upper.status, 200)
    assert.equal(fullwidth.status, 200)
  })

  test('answers a wrong password like an unknown user', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')

    const wrong = await postJson(`${url}/login`,
      { username: 'alice', password: 'wrong password' })
    const unknown = await postJson(`${url}/login`,
      { username: 'nobody', password: 'wrong password' })
    const wrongBody = await assertProblem(wrong, 401, 'AUTH_CREDENTIALS_INVALID')
    const unknownBody = await assertProblem(unknown, 401,
      'AUTH_CREDENTIALS_INVALID')

    assert.deepEqual(wrongBody, unknownBody)
    assert.equal(wrong.headers.get('www-authenticate'),
      unknown.headers.get('www-authenticate'))
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer /)
  })

  test('rejects a user whose hash cannot log in', async (t) => {
    const { url, app } = await startServer(t)
    const { user } = await createUserWithToken(app, 'user', 'nologin')

    const response = await postJson(`${url}/login`,
      { username: user.username, password: 'no-login' })

    await assertProblem(response, 401, 'AUTH_CREDENTIALS_INVALID')
  })

  test('answers bad fields alike for known and unknown users', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')
    const badFields: Array<Record<string, unknown>> = [
      // password a number
      { password: 12345678 },
      // password an object
      { password: { $ne: null } },
      // password an array
      { password: [PASSWORD] },
      // password null
      { password: null },
      // password missing
      {},
      // password empty
      { password: '' },
      // password too long
      { password: 'p'.repeat(129) },
    ]

    for (const fields of badFields) {
      const known = await postJson(`${url}/login`, { username: 'alice', ...fields })
      const unknown = await postJson(`${url}/login`,
        { username: 'nobody', ...fields })
      const message = JSON.stringify(fields)
      const knownBody = await assertProblem(known, 422, 'AUTH_LOGIN_INVALID')
      const unknownBody = await assertProblem(unknown, 422, 'AUTH_LOGIN_INVALID')

      assert.deepEqual(knownBody, unknownBody, message)
      assert.deepEqual(knownBody.errors.map((e: any) => e.field), ['password'],
        message)
    }
  })

  test('keeps U+FFFD apart from lone surrogates', async (t) => {
    const { url } = await startServer(t)
    const replacement = '\ufffd'.repeat(8)
    await postJson(`${url}/register`, { username: 'alice', password: replacement })
    const surrogates = ['\ud800'.repeat(8), '\udfff'.repeat(8)]

    for (const password of surrogates) {
      const response = await postJson(`${url}/login`,
        { username: 'alice', password })
      const body = await assertProblem(response, 422, 'AUTH_LOGIN_INVALID')
      assert.deepEqual(body.errors.map((e: any) => e.field), ['password'])
    }
    const login = await postJson(`${url}/login`,
      { username: 'alice', password: replacement })
    assert.equal(login.status, 200)
  })

  test('rejects lone surrogates alike for any user', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')
    const cases: Array<[string, Record<string, unknown>]> = [
      // password of lone high surrogates
      ['password', { username: 'alice', password: '\ud800'.repeat(8) }],
      // password of lone low surrogates
      ['password', { username: 'alice', password: '\udfff'.repeat(8) }],
      // password with one lone surrogate among valid characters
      ['password', { username: 'alice', password: `${PASSWORD}\udbff` }],
      // username with a lone surrogate
      ['username', { username: 'alice\ud800', password: PASSWORD }],
    ]

    for (const [field, fields] of cases) {
      const known = await postJson(`${url}/login`, fields)
      const unknown = await postJson(`${url}/login`,
        { ...fields, username: `nobody${fields.username}` })
      const message = JSON.stringify(fields)
      const knownBody = await assertProblem(known, 422, 'AUTH_LOGIN_INVALID')
      const unknownBody = await assertProblem(unknown, 422, 'AUTH_LOGIN_INVALID')

      assert.deepEqual(knownBody, unknownBody, message)
      assert.deepEqual(knownBody.errors.map((e: any) => e.field), [field],
        message)
    }
  })

  test('rejects a username that is not a string', async (t) => {
    const { url } = await startServer(t)
    // A number, an object, an array, null, a missing field and an empty one.
    const usernames = [42, { $gt: '' }, ['alice'], null, undefined, '']

    for (const username of usernames) {
      const response = await postJson(`${url}/login`,
        { username, password: PASSWORD })
      const body = await assertProblem(response, 422, 'AUTH_LOGIN_INVALID')
      assert.deepEqual(body.errors.map((e: any) => e.field), ['username'],
        String(username))
    }
  })

  test('rejects malformed bodies with 400', async (t) => {
    const { url } = await startServer(t)
    const cases: Array<[string, string, string]> = [
      // truncated JSON
      ['application/json', '{"username":"alice"', 'HTTP_BODY_INVALID'],
      // not JSON at all
      ['application/json', 'username=alice', 'HTTP_BODY_INVALID'],
      // a JSON array
      ['application/json', '["alice","secret"]', 'HTTP_BODY_NOT_OBJECT'],
      // JSON null
      ['application/json', 'null', 'HTTP_BODY_NOT_OBJECT'],
      // a JSON number
      ['application/json', '7', 'HTTP_BODY_NOT_OBJECT'],
      // a form field given twice
      ['application/x-www-form-urlencoded',
        'username=alice&username=root&password=x', 'HTTP_BODY_INVALID'],
    ]

    for (const [type, body, code] of cases) {
      const response = await postRaw(`${url}/login`, body, type)
      await assertProblem(response, 400, code)
    }
  })

  test('rejects other content types with 415', async (t) => {
    const { url } = await startServer(t)

    const response = await postRaw(`${url}/login`,
      'username=alice&password=x', 'text/plain')

    await assertProblem(response, 415, 'HTTP_UNSUPPORTED_MEDIA_TYPE')
    assert.equal(response.headers.get('accept'),
      'application/json, application/x-www-form-urlencoded')
  })

  test('answers a 1 MB password with 413', async (t) => {
    const { url } = await startServer(t)
    await registerOk(url, 'alice')

    const response = await postJson(`${url}/login`,
      { username: 'alice', password: 'p'.repeat(1024 * 1024) })

    await assertProblem(response, 413, 'HTTP_BODY_TOO_LARGE')
  })
})

describe('login throttling', () => {
  test('locks a username after five failures', async (t) => {
    let now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    await registerOk(url, 'alice')

    for (let i = 0; i < 5; i++) {
      const response = await postJson(`${url}/login`,
        { username: 'alice', password: `wrong ${i}` })
      assert.equal(response.status, 401, `attempt ${i + 1}`)
    }
    const locked = await postJson(`${url}/login`,
      { username: 'alice', password: PASSWORD })
    const body = await assertProblem(locked, 429, 'AUTH_TOO_MANY_ATTEMPTS')

    assert.equal(locked.headers.get('retry-after'), '30')
    assert.equal(typeof body.detail, 'string')

    now += 30_000
    const after = await postJson(`${url}/login`,
      { username: 'alice', password: PASSWORD })
    assert.equal(after.status, 200)
  })

  test('locks a look-alike of the same username', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    await registerOk(url, 'alice')

    for (let i = 0; i < 5; i++) {
      await postJson(`${url}/login`, { username: 'alice', password: 'wrong' })
    }
    const response = await postJson(`${url}/login`,
      { username: 'ＡＬＩＣＥ', password: PASSWORD })

    await assertProblem(response, 429, 'AUTH_TOO_MANY_ATTEMPTS')
  })

  test('locks unknown names like known ones', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    await registerOk(url, 'alice')

    const answers: Array<[number, string | null]> = []
    for (const username of ['alice', 'nobody']) {
      for (let i = 0; i < 6; i++) {
        const response = await postJson(`${url}/login`,
          { username, password: 'wrong' })
        answers.push([response.status, response.headers.get('retry-after')])
      }
    }

    const expected: Array<[number, string | null]> = [
      ...Array(5).fill([401, null]),
      [429, '30'],
    ]
    assert.deepEqual(answers, [...expected, ...expected])
  })

  test('doubles the lockout with each further failure', async (t) => {
    let now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    const attempt = () => postJson(`${url}/login`,
      { username: 'alice', password: 'wrong' })

    for (let i = 0; i < 5; i++) await attempt()
    now += 30_000
    assert.equal((await attempt()).status, 401)
    const second = await attempt()

    assert.equal(second.status, 429)
    assert.equal(second.headers.get('retry-after'), '60')
  })

  test('clears a username after a successful login', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    await registerOk(url, 'alice')
    const fail = () => postJson(`${url}/login`,
      { username: 'alice', password: 'wrong' })

    for (let i = 0; i < 4; i++) assert.equal((await fail()).status, 401)
    await loginToken(url, 'alice')
    for (let i = 0; i < 4; i++) assert.equal((await fail()).status, 401)

    await loginToken(url, 'alice')
  })

  test('forgets failures after an hour without one', async (t) => {
    let now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    const fail = () => postJson(`${url}/login`,
      { username: 'alice', password: 'wrong' })

    for (let i = 0; i < 4; i++) await fail()
    now += 60 * 60_000
    for (let i = 0; i < 5; i++) {
      assert.equal((await fail()).status, 401, `attempt ${i + 1}`)
    }
  })

  test('locks a client address after twenty failures', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    await registerOk(url, 'alice')

    // Four names with five failures each stay under the username limit.
    for (let i = 0; i < 20; i++) {
      const response = await postJson(`${url}/login`,
        { username: `guess${i % 4}`, password: 'wrong' })
      assert.equal(response.status, 401, `attempt ${i + 1}`)
    }
    const locked = await postJson(`${url}/login`,
      { username: 'alice', password: PASSWORD })

    await assertProblem(locked, 429, 'AUTH_TOO_MANY_ATTEMPTS')
    assert.equal(locked.headers.get('retry-after'), '30')
  })

  test('tells logins in progress from a lockout', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const users = new HoldingUserStore(() => now)
    const { url } = await startServer(t, { now: () => now, users })
    await registerOk(url, 'alice')
    const login = () => postJson(`${url}/login`,
      { username: 'alice', password: PASSWORD })

    users.holdNext(5)
    const inProgress = Array.from({ length: 5 }, login)
    await users.waitForHeld(5)
    const sixth = await login()
    const body = await assertProblem(sixth, 429, 'AUTH_TOO_MANY_ATTEMPTS')
    users.release()
    const statuses = await Promise.all(inProgress.map(async (pending) =>
      (await pending).status))

    assert.equal(sixth.headers.get('retry-after'), '1')
    assert.match(body.detail, /in progress/)
    assert.match(body.detail, /account/)
    assert.deepEqual(statuses, [200, 200, 200, 200, 200])
    assert.equal((await login()).status, 200)
  })

  test('counts logins in progress per address', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const users = new HoldingUserStore(() => now)
    const { url } = await startServer(t, { now: () => now, users })
    await registerOk(url, 'alice')
    const alice = () => postJson(`${url}/login`,
      { username: 'alice', password: PASSWORD })

    // Four names with five attempts each stay under the username limit.
    users.holdNext(20)
    const guesses = Array.from({ length: 20 }, (_, i) =>
      postJson(`${url}/login`, { username: `guess${i % 4}`, password: 'wrong' }))
    await users.waitForHeld(20)
    const waiting = await alice()
    const waitingBody = await assertProblem(waiting, 429,
      'AUTH_TOO_MANY_ATTEMPTS')
    users.release()
    const statuses = await Promise.all(guesses.map(async (pending) =>
      (await pending).status))
    const locked = await alice()
    const lockedBody = await assertProblem(locked, 429, 'AUTH_TOO_MANY_ATTEMPTS')

    assert.equal(waiting.headers.get('retry-after'), '1')
    assert.match(waitingBody.detail, /in progress/)
    assert.match(waitingBody.detail, /address/)
    assert.deepEqual(statuses, Array(20).fill(401))
    assert.equal(locked.headers.get('retry-after'), '30')
    assert.doesNotMatch(lockedBody.detail, /in progress/)
  })

  test('lets many sequential logins through', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    await registerOk(url, 'alice')

    // More than both the username limit and the address limit.
    for (let i = 0; i < 25; i++) {
      const response = await postJson(`${url}/login`,
        { username: 'alice', password: PASSWORD })
      assert.equal(response.status, 200, `login ${i + 1}`)
    }
  })

  test('does not count invalid requests', async (t) => {
    const now = Date.UTC(2030, 0, 1)
    const { url } = await startServer(t, { now: () => now })
    await registerOk(url, 'alice')

    for (let i = 0; i < 10; i++) {
      const response = await postJson(`${url}/login`,
        { username: 'alice', password: 12345 })
      assert.equal(response.status, 422)
    }

    await loginToken(url, 'alice')
  })
})

describe('GET /profile', () => {
  test('returns the signed-in account', async (t) => {
    const { url, app } = await startServer(t)
    const { user, token } = await createUserWithToken(app, 'admin')

    const response = await fetch(`${url}/profile`, { headers: bearer(token) })

    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), JSON_TYPE)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(await jsonBody(response), {
      id: user.id,
      username: user.username,
      role: 'admin',
      created_at: user.createdAt,
    })
  })

  test('needs a bearer token', async (t) => {
    const { url } = await startServer(t)

    const response = await fetch(`${url}/profile`)

    await assertProblem(response, 401, 'AUTH_TOKEN_MISSING')
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="sales"')
  })

  test('is documented in openapi.json', async (t) => {
    const { url } = await startServer(t)

    const document = await jsonBody(await fetch(`${url}/openapi.json`))

    assert.ok(document.paths['/register']?.post)
    assert.ok(document.paths['/login']?.post)
    assert.ok(document.paths['/profile']?.get)
  })
})

describe('configured admin', () => {
  test('is created at start and can log in', async (t) => {
    const { url } = await startServer(t,
      { adminUsername: 'root', adminPassword: PASSWORD })
    const token = await loginToken(url, 'root')

    const profile = await jsonBody(await fetch(`${url}/profile`,
      { headers: bearer(token) }))

    assert.equal(profile.username, 'root')
    assert.equal(profile.role, 'admin')
  })

  test('closes the bootstrap for other admins', async (t) => {
    const { url } = await startServer(t,
      { adminUsername: 'root', adminPassword: PASSWORD })

    const response = await postJson(`${url}/register`,
      { username: 'second', password: PASSWORD, role: 'admin' })

    await assertProblem(response, 403, 'AUTH_ADMIN_REQUIRED')
  })

  test('is skipped when the name exists', async (t) => {
    const users = new MemoryUserStore()
    const existing = await users.create(
      { username: 'Root', role: 'user', passwordHash: 'kept' })

    await startServer(t,
      { users, adminUsername: 'root', adminPassword: PASSWORD })
    const stored = await users.findByUsername('root')

    assert.equal(stored?.id, existing.id)
    assert.equal(stored?.role, 'user')
    assert.equal(stored?.passwordHash, 'kept')
    assert.equal(await users.hasAdmin(), false)
  })

  test('rejects invalid settings with ConfigError', async (t) => {
    const cases: Array<Record<string, string>> = [
      // name without password
      { adminUsername: 'root' },
      // password without name
      { adminPassword: PASSWORD },
      // name with a space
      { adminUsername: 'the root', adminPassword: PASSWORD },
      // password too short
      { adminUsername: 'root', adminPassword: 'short' },
      // password of lone surrogates
      { adminUsername: 'root', adminPassword: '\ud800'.repeat(8) },
    ]

    for (const options of cases) {
      await assert.rejects(startServer(t, options), ConfigError,
        JSON.stringify(options))
    }
  })

  test('keeps the password out of the error', async (t) => {
    const error = await startServer(t,
      { adminUsername: 'x', adminPassword: 'secret-password-1' })
      .then(() => undefined, (caught: unknown) => caught)

    assert.ok(error instanceof ConfigError)
    assert.ok(!error.message.includes('secret-password-1'))
  })
})

describe('password hashing', () => {
  test('verifies the right password only', async () => {
    const stored = await hashPassword(PASSWORD)

    assert.equal(await verifyPassword(PASSWORD, stored), true)
    assert.equal(await verifyPassword(`${PASSWORD} `, stored), false)
    assert.equal(await verifyPassword('', stored), false)
  })

  test('reads the parameters from the stored string', async () => {
    const salt = randomBytes(16)
    const key = scryptSync(PASSWORD, salt, 32, { N: 2 ** 10, r: 4, p: 2 })
    const unpadded = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '')
    const stored = `$scrypt$ln=10,r=4,p=2$${unpadded(salt)}$${unpadded(key)}`

    assert.equal(await verifyPassword(PASSWORD, stored), true)
    assert.equal(await verifyPassword('another password', stored), false)
  })

  test('treats NFKC-equal passwords as one', async () => {
    const stored = await hashPassword('ｐａｓｓｗｏｒｄ１')

    assert.equal(await verifyPassword('password1', stored), true)
  })

  test('returns false for unreadable hashes', async () => {
    const stored = await hashPassword(PASSWORD)
    const [, , , salt, key] = stored.split('$')
    const unreadable = [
      undefined, // no user
      '', // empty
      'no-login', // not a PHC string
      stored.replace('$scrypt$', '$argon2id$'), // another algorithm
      `$scrypt$ln=30,r=8,p=1$${salt}$${key}`, // cost needs 128 GiB
      `$scrypt$ln=14,r=999,p=1$${salt}$${key}`, // block size too large
      `$scrypt$ln=0,r=8,p=1$${salt}$${key}`, // cost below 2
      `$scrypt$ln=14,r=8,p=1$${salt}$`, // no key
      `$scrypt$ln=14,r=8,p=1$${salt}$${key}$extra`, // extra part
    ]

    for (const hash of unreadable) {
      assert.equal(await verifyPassword(PASSWORD, hash), false, String(hash))
    }
  })

  test('rejects lone surrogates without hashing', async () => {
    const stored = await hashPassword('\ufffd'.repeat(8))

    assert.equal(await verifyPassword('\ud800'.repeat(8), stored), false)
    assert.equal(await verifyPassword('\ufffd'.repeat(8), stored), true)
    await assert.rejects(hashPassword('\ud800'.repeat(8)), TypeError)
  })

  test('rejects an over-long password without hashing', async () => {
    const stored = await hashPassword(PASSWORD)

    assert.equal(await verifyPassword('p'.repeat(129), stored), false)
    await assert.rejects(hashPassword('p'.repeat(129)), TypeError)
    await assert.rejects(hashPassword('short'), TypeError)
  })
})

describe('Semaphore', () => {
  test('runs at most two tasks at once', async () => {
    const slots = new Semaphore(2, 10)
    let running = 0
    let peak = 0
    const task = async () => {
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setImmediate(resolve))
      running--
    }

    await Promise.all(Array.from({ length: 8 }, () => slots.run(task)))

    assert.equal(peak, 2)
    assert.equal(running, 0)
  })

  test('starts waiting tasks in arrival order', async () => {
    const slots = new Semaphore(1, 10)
    const order: number[] = []

    await Promise.all([1, 2, 3, 4].map((n) => slots.run(async () => {
      order.push(n)
    })))

    assert.deepEqual(order, [1, 2, 3, 4])
  })

  test('rejects a task when the queue is full', async () => {
    const slots = new Semaphore(1, 1)
    let release = () => {}
    const blocker = slots.run(() => new Promise<void>((resolve) => {
      release = resolve
    }))
    const waiting = slots.run(async () => 'ran')

    await assert.rejects(slots.run(async () => 'never'), QueueFullError)
    release()
    await blocker
    assert.equal(await waiting, 'ran')
  })

  test('frees the slot when a task throws', async () => {
    const slots = new Semaphore(1, 1)

    await assert.rejects(slots.run(async () => { throw new Error('boom') }))

    assert.equal(await slots.run(async () => 'next'), 'next')
  })
})

describe('LoginThrottle', () => {
  test('keeps at most maxEntries keys', () => {
    let now = 0
    const throttle = new LoginThrottle({ now: () => now, maxEntries: 3 })

    // Five failures lock "first", then three other names push it out.
    for (let i = 0; i < 5; i++) {
      throttle.startAttempt('first', `a${i}`)
      throttle.failed('first', `a${i}`)
    }
    assert.throws(() => throttle.startAttempt('first', 'b'),
      { status: 429, headers: { 'retry-after': '30' } })
    for (const name of ['n1', 'n2', 'n3']) {
      now += 1
      throttle.startAttempt(name, `c-${name}`)
    }

    assert.doesNotThrow(() => throttle.startAttempt('first', 'd'))
  })

  test('caps the lockout at fifteen minutes', () => {
    let now = 0
    const throttle = new LoginThrottle({ now: () => now })

    let retryAfter = ''
    for (let i = 0; i < 30; i++) {
      try {
        throttle.startAttempt('alice', `address-${i}`)
        throttle.failed('alice', `address-${i}`)
      } catch (error) {
        retryAfter = (error as { headers: Record<string, string> })
          .headers['retry-after'] ?? ''
        now += 15 * 60_000
      }
    }

    assert.equal(retryAfter, '900')
  })

  test('adds attempts in progress to failures', () => {
    const throttle = new LoginThrottle({ now: () => 0 })
    const start = (address: string) => () =>
      throttle.startAttempt('alice', address)

    // Four failures and one attempt in progress reach the limit of five.
    for (let i = 0; i < 4; i++) {
      throttle.startAttempt('alice', `a${i}`)
      throttle.failed('alice', `a${i}`)
    }
    throttle.startAttempt('alice', 'b')

    assert.throws(start('c'), { status: 429, headers: { 'retry-after': '1' } })
    throttle.cancelled('alice', 'b')
    assert.doesNotThrow(start('d'))
    throttle.failed('alice', 'd')
    assert.throws(start('e'), { status: 429, headers: { 'retry-after': '30' } })
  })

  test('frees the slot of a successful attempt', () => {
    const throttle = new LoginThrottle({ now: () => 0 })

    for (let i = 0; i < 30; i++) {
      throttle.startAttempt('alice', '127.0.0.1')
      throttle.succeeded('alice', '127.0.0.1')
    }

    assert.doesNotThrow(() => throttle.startAttempt('alice', '127.0.0.1'))
  })

  test('takes back a cancelled attempt', () => {
    const throttle = new LoginThrottle({ now: () => 0 })

    for (let i = 0; i < 10; i++) {
      throttle.startAttempt('alice', '127.0.0.1')
      throttle.cancelled('alice', '127.0.0.1')
    }

    assert.doesNotThrow(() => throttle.startAttempt('alice', '127.0.0.1'))
  })
})

describe('clientAddressKey', () => {
  test('groups IPv6 by /64 and unwraps mapped IPv4', () => {
    const cases: Array<[string | undefined, string]> = [
      ['127.0.0.1', '127.0.0.1'],
      ['::ffff:10.0.0.1', '10.0.0.1'], // IPv4-mapped IPv6
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
      ['2001:0DB8:0001:0002::9', '2001:db8:1:2::/64'], // zeros and case
      ['2001:db8::1', '2001:db8:0:0::/64'], // compressed groups
      ['fe80::1%eth0', 'fe80:0:0:0::/64'], // zone index
      [undefined, 'unknown'], // socket already closed
    ]

    for (const [address, key] of cases) {
      assert.equal(clientAddressKey(address), key, String(address))
    }
  })
})
