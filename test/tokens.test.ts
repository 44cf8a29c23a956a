import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, test } from 'node:test'
import {
  decodeJwt,
  decodeProtectedHeader,
  SignJWT,
  UnsecuredJWT,
  type JWTPayload,
} from 'jose'
import { MemoryUserStore, type User } from '../src/auth/user-store.ts'
import {
  bearer,
  createUserWithToken,
  jsonBody,
  startServer,
  TEST_SECRET,
  type TestServer,
} from './support/server.ts'

const NOW = Date.UTC(2030, 0, 1)
const NOW_SECONDS = NOW / 1000
const ISSUER = 'sales-analytics'
const AUDIENCE = 'sales-analytics-api'
const SECRET = new TextEncoder().encode(TEST_SECRET)
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'

interface ForgeOptions {
  alg?: string
  secret?: Uint8Array
  claims?: JWTPayload
  omit?: Array<'exp' | 'iat' | 'sub' | 'iss' | 'aud'>
}

/** Signs a token the way the server does, with parts changed or left out. */
function forge(user: Pick<User, 'id' | 'role'>, options: ForgeOptions = {}) {
  const claims: JWTPayload = {
    sub: user.id,
    role: user.role,
    iss: ISSUER,
    aud: AUDIENCE,
    iat: NOW_SECONDS,
    exp: NOW_SECONDS + 3600,
    ...options.claims,
  }
  for (const name of options.omit ?? []) delete claims[name]
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .sign(options.secret ?? SECRET)
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

async function profileWith(
  server: TestServer,
  authorization: string,
): Promise<Response> {
  return fetch(`${server.url}/profile`, { headers: { authorization } })
}

interface RawResponse {
  status: number
  challenge: string | undefined
  body: any
}

/**
 * Sends `GET /profile` with each value as its own `Authorization` line.
 * `fetch` cannot do this, because it joins repeated headers into one.
 */
function profileWithLines(
  server: TestServer,
  values: string[],
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Raw header form: name, value, name, value. Node adds no Host header
    // to a raw list, and HTTP/1.1 requires one.
    const headers = [
      'host', new URL(server.url).host,
      ...values.flatMap((value) => ['authorization', value]),
    ]
    const options = { headers }
    const req = request(`${server.url}/profile`, options, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        challenge: res.headers['www-authenticate'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

async function assertRejected(
  response: Response,
  message: string,
): Promise<void> {
  const body = await jsonBody(response)
  assert.equal(response.status, 401, message)
  assert.equal(response.headers.get('content-type'), PROBLEM_TYPE, message)
  assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /,
    message)
  assert.match(body.code, /^AUTH_TOKEN_/, message)
  assert.equal(body.status, 401, message)
}

/** A user store whose users can be deleted, as a database row could be. */
class DeletableUserStore extends MemoryUserStore {
  readonly deleted = new Set<string>()

  override async findById(id: string): Promise<User | undefined> {
    if (this.deleted.has(id)) return undefined
    return super.findById(id)
  }
}

describe('TokenService.issue', () => {
  test('signs HS256 with the required claims', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    const { user, token } = await createUserWithToken(server.app, 'admin')

    const header = decodeProtectedHeader(token)
    const claims = decodeJwt(token)

    assert.equal(header.alg, 'HS256')
    assert.equal(claims.sub, user.id)
    assert.equal(claims.role, 'admin')
    assert.equal(claims.iss, ISSUER)
    assert.equal(claims.aud, AUDIENCE)
    assert.equal(claims.iat, NOW_SECONDS)
    assert.equal(claims.exp, NOW_SECONDS + 3600)
  })

  test('uses the configured lifetime', async (t) => {
    const server = await startServer(t, { now: () => NOW, tokenTtlSeconds: 60 })

    const issued = await server.app.tokens.issue({ id: 'u1', role: 'user' })

    assert.equal(issued.expiresIn, 60)
    assert.equal(decodeJwt(issued.token).exp, NOW_SECONDS + 60)
  })
})

describe('bearer token verification', () => {
  test('accepts a token it issued', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    const { token } = await createUserWithToken(server.app, 'user')

    const response = await profileWith(server, `Bearer ${token}`)

    assert.equal(response.status, 200)
  })

  test('accepts an unchanged forged token', async (t) => {
    // The forged cases below differ from this one in a single part each.
    const server = await startServer(t, { now: () => NOW })
    const { user } = await createUserWithToken(server.app, 'user')

    const response = await profileWith(server, `Bearer ${await forge(user)}`)

    assert.equal(response.status, 200)
  })

  test('rejects forged and broken tokens with 401', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    const { user, token } = await createUserWithToken(server.app, 'user')
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const claims = decodeJwt(token)
    const cases: Array<[string, string]> = [
      ['alg none', new UnsecuredJWT({ ...claims }).encode()],
      ['alg none with the original signature',
        `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`],
      ['another secret', await forge(user,
        { secret: new TextEncoder().encode('another-secret-of-at-least-32-bytes!') })],
      ['HS512 with the right secret', await forge(user, { alg: 'HS512' })],
      ['HS384 with the right secret', await forge(user, { alg: 'HS384' })],
      ['expired', await forge(user, { claims: { exp: NOW_SECONDS - 1 } })],
      ['expired long ago', await forge(user,
        { claims: { iat: NOW_SECONDS - 7200, exp: NOW_SECONDS - 3600 } })],
      ['no exp', await forge(user, { omit: ['exp'] })],
      ['no iat', await forge(user, { omit: ['iat'] })],
      ['no sub', await forge(user, { omit: ['sub'] })],
      ['exp as a string', await forge(user,
        { claims: { exp: String(NOW_SECONDS + 3600) as unknown as number } })],
      ['nbf in the future', await forge(user,
        { claims: { nbf: NOW_SECONDS + 600 } })],
      ['wrong issuer', await forge(user, { claims: { iss: 'someone-else' } })],
      ['no issuer', await forge(user, { omit: ['iss'] })],
      ['wrong audience', await forge(user, { claims: { aud: 'other-api' } })],
      ['no audience', await forge(user, { omit: ['aud'] })],
      ['changed payload', `${header}.${base64url({
        ...claims, role: 'admin' })}.${signature}`],
      ['payload of another user', `${header}.${base64url({
        ...claims, sub: '00000000-0000-0000-0000-000000000000' })}.${signature}`],
      ['signature removed', `${header}.${payload}.`],
      ['signature of another token', `${header}.${payload}.${
        (await forge(user, { claims: { exp: NOW_SECONDS + 10 } })).split('.')[2]}`],
      ['unknown sub', await forge({ id: 'no-such-user', role: 'admin' })],
      ['sub as a number', await forge(user,
        { claims: { sub: 42 as unknown as string } })],
      ['garbage word', 'garbage'],
      ['three dots', '...'],
      ['empty segments', 'a..b'],
      ['base64 of nothing useful', 'eyJ.eyJ.eyJ'],
      ['header that is not JSON',
        `${Buffer.from('{').toString('base64url')}.${payload}.${signature}`],
      ['long random string', 'A'.repeat(4000)],
      ['JSON instead of a JWT', `${base64url({ alg: 'HS256' })}`],
      ['five segments', `${token}.${payload}.${signature}`],
    ]

    for (const [name, value] of cases) {
      const response = await profileWith(server, `Bearer ${value}`)
      await assertRejected(response, name)
    }
  })

  test('tells an expired token apart by code', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    const { user } = await createUserWithToken(server.app, 'user')
    const expired = await forge(user, { claims: { exp: NOW_SECONDS - 1 } })

    const response = await profileWith(server, `Bearer ${expired}`)

    assert.equal((await jsonBody(response)).code, 'AUTH_TOKEN_EXPIRED')
    assert.equal(response.headers.get('www-authenticate'),
      'Bearer realm="sales", error="invalid_token"')
  })

  test('rechecks expiry of a cached token', async (t) => {
    let now = NOW
    const server = await startServer(t, { now: () => now, tokenTtlSeconds: 60 })
    const { token } = await createUserWithToken(server.app, 'user')

    const fresh = await profileWith(server, `Bearer ${token}`)
    now += 61_000
    const stale = await profileWith(server, `Bearer ${token}`)

    assert.equal(fresh.status, 200)
    assert.equal(stale.status, 401)
    assert.equal((await jsonBody(stale)).code, 'AUTH_TOKEN_EXPIRED')
  })

  test('rejects a token of a deleted user', async (t) => {
    const users = new DeletableUserStore(() => NOW)
    const server = await startServer(t, { now: () => NOW, users })
    const { user, token } = await createUserWithToken(server.app, 'admin')

    const before = await profileWith(server, `Bearer ${token}`)
    users.deleted.add(user.id)
    const after = await profileWith(server, `Bearer ${token}`)

    assert.equal(before.status, 200)
    await assertRejected(after, 'deleted user')
  })

  test('takes the role from the store, not the token', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    await createUserWithToken(server.app, 'admin')
    const { user } = await createUserWithToken(server.app, 'user')
    const claimsAdmin = await forge({ id: user.id, role: 'admin' })

    const profile = await profileWith(server, `Bearer ${claimsAdmin}`)
    const escalate = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(claimsAdmin) },
      body: JSON.stringify(
        { username: 'second', password: 'long enough', role: 'admin' }),
    })

    assert.equal((await jsonBody(profile)).role, 'user')
    assert.equal(escalate.status, 403)
    assert.equal((await jsonBody(escalate)).code, 'AUTH_ADMIN_REQUIRED')
  })
})

describe('Authorization header', () => {
  test('accepts the scheme in any case and extra spaces', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    const { token } = await createUserWithToken(server.app, 'user')
    const forms = [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`,
      `Bearer   ${token}`]

    for (const form of forms) {
      const response = await profileWith(server, form)
      assert.equal(response.status, 200, form.replace(token, 'T'))
    }
  })

  test('rejects malformed bearer credentials', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    const { token } = await createUserWithToken(server.app, 'user')
    const forms = [
      'Bearer', // no token
      'Bearer ', // no token after the space
      `Bearer ${token} ${token}`, // two tokens
      `Bearer "${token}"`, // a quoted token
      `Bearer ${token}, Bearer ${token}`, // two credentials in one line
    ]

    for (const form of forms) {
      const response = await profileWith(server, form)
      const message = form.replaceAll(token, 'T')
      await assertRejected(response, message)
      assert.equal(response.headers.get('www-authenticate'),
        'Bearer realm="sales", error="invalid_token"', message)
    }
  })

  test('challenges other schemes without an error', async (t) => {
    // RFC 6750, section 3.1: a request without a bearer token gets a
    // challenge with no error code.
    const server = await startServer(t, { now: () => NOW })
    const { token } = await createUserWithToken(server.app, 'user')
    const forms = [
      `Basic ${token}`, // another scheme
      'Basic YWxpY2U6c2VjcmV0', // Basic with a user and password
      token, // no scheme
      `Bearer${token}`, // no space, so the scheme is one long word
      `Token ${token}`, // an unknown scheme
      '', // an empty header
    ]

    for (const form of forms) {
      const response = await profileWith(server, form)
      const body = await jsonBody(response)
      const message = form.replaceAll(token, 'T') || 'empty'

      assert.equal(response.status, 401, message)
      assert.equal(response.headers.get('content-type'), PROBLEM_TYPE, message)
      assert.equal(body.code, 'AUTH_SCHEME_UNSUPPORTED', message)
      assert.equal(response.headers.get('www-authenticate'),
        'Bearer realm="sales"', message)
    }
  })

  test('rejects a repeated header', async (t) => {
    const server = await startServer(t, { now: () => NOW })
    const { token } = await createUserWithToken(server.app, 'user')
    const rejected = 'Bearer realm="sales", error="invalid_token"'
    const cases: Array<[string, string[], string, string]> = [
      ['a valid token, then garbage', [`Bearer ${token}`, 'garbage'],
        'AUTH_TOKEN_INVALID', rejected],
      ['garbage, then a valid token', ['garbage', `Bearer ${token}`],
        'AUTH_TOKEN_INVALID', rejected],
      ['the same valid token twice', [`Bearer ${token}`, `Bearer ${token}`],
        'AUTH_TOKEN_INVALID', rejected],
      // No bearer token at all, so the challenge has no error code.
      ['two Basic headers', ['Basic YQ==', 'Basic Yg=='],
        'AUTH_SCHEME_UNSUPPORTED', 'Bearer realm="sales"'],
    ]

    const single = await profileWithLines(server, [`Bearer ${token}`])
    assert.equal(single.status, 200)
    for (const [name, values, code, challenge] of cases) {
      const response = await profileWithLines(server, values)

      assert.equal(response.status, 401, name)
      assert.equal(response.body.code, code, name)
      assert.equal(response.challenge, challenge, name)
    }
  })
})
