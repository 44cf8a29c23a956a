import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { parseForm, requireObject } from '../src/http/read-body.ts'
import { Router } from '../src/http/router.ts'
import { jsonLogger, type Logger } from '../src/logger.ts'
import { bearer, jsonBody, startServer } from './support/server.ts'

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'
const PASSWORD = 'logged password 1'

/** Creates a logger that keeps each record, for assertions on the log. */
function recordingLogger(): { logger: Logger, records: Record<string, any>[] } {
  const records: Record<string, any>[] = []
  const keep = (record: Record<string, unknown>) => { records.push(record) }
  return { logger: { info: keep, warn: keep, error: keep }, records }
}

/**
 * Sends a POST with node:http and resolves with the status and headers, so a
 * response that arrives before the body is fully written is still seen.
 */
function postPartly(
  url: string,
  headers: Record<string, string | number>,
  body: Buffer,
): Promise<{ status: number, headers: Record<string, unknown>, text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false
    const req = request(url, { method: 'POST', headers }, async (res) => {
      answered = true
      let text = ''
      for await (const chunk of res) text += chunk
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text })
    })
    // The server may close the socket after a 413 while the body is still
    // being written, so a write error is expected. Only a missing response
    // fails the request.
    req.on('error', () => {})
    req.on('close', () => {
      if (!answered) reject(new Error('The connection closed without a response'))
    })
    req.end(body)
  })
}

const noop = async () => ({ status: 200, body: {} })

describe('Router', () => {
  test('matches literal and parameter segments', () => {
    const router = new Router()
    router.add('GET', '/users/:id', noop)

    const match = router.match('GET', '/users/a%20b')

    assert.equal(match.kind, 'found')
    assert.deepEqual(match.kind === 'found' && match.params, { id: 'a b' })
  })

  test('tells an unknown path from a wrong method', () => {
    const router = new Router()
    router.add('POST', '/login', noop)

    assert.equal(router.match('POST', '/nope').kind, 'not-found')
    assert.deepEqual(router.match('GET', '/login'),
      { kind: 'method-not-allowed', allow: ['POST'] })
  })

  test('serves HEAD from a GET route', () => {
    const router = new Router()
    router.add('GET', '/health', noop)

    assert.equal(router.match('HEAD', '/health').kind, 'found')
  })

  test('rejects a duplicate route', () => {
    const router = new Router()
    router.add('GET', '/a', noop)

    assert.throws(() => router.add('get', '/a', noop), TypeError)
  })
})

describe('HTTP basics', () => {
  test('GET /health returns ok', async (t) => {
    const { url } = await startServer(t)

    const response = await fetch(`${url}/health`)

    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'),
      'application/json; charset=utf-8')
    assert.deepEqual(await response.json(), { status: 'ok' })
  })

  test('unknown route is a 404 problem', async (t) => {
    const { url } = await startServer(t)

    const response = await fetch(`${url}/no-such-route`)
    const body = await jsonBody(response)

    assert.equal(response.status, 404)
    assert.equal(response.headers.get('content-type'),
      'application/problem+json; charset=utf-8')
    assert.equal(body.status, 404)
    assert.equal(body.code, 'HTTP_NOT_FOUND')
    assert.equal(typeof body.type, 'string')
    assert.equal(typeof body.title, 'string')
    assert.equal(typeof body.detail, 'string')
  })

  test('wrong method is a 405 with Allow', async (t) => {
    const { url } = await startServer(t)

    const response = await fetch(`${url}/health`, { method: 'DELETE' })

    assert.equal(response.status, 405)
    assert.equal(response.headers.get('allow'), 'GET, HEAD')
    assert.equal((await jsonBody(response)).code, 'HTTP_METHOD_NOT_ALLOWED')
  })

  test('X-Request-Id is echoed when sane', async (t) => {
    const { url } = await startServer(t)

    const given = await fetch(`${url}/health`,
      { headers: { 'x-request-id': 'abc-123' } })
    const insane = await fetch(`${url}/health`,
      { headers: { 'x-request-id': 'bad id with spaces' } })
    const missing = await fetch(`${url}/health`)

    assert.equal(given.headers.get('x-request-id'), 'abc-123')
    assert.match(insane.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
    assert.match(missing.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
  })

  test('openapi.json lists every route', async (t) => {
    const { url, app } = await startServer(t)

    const document = await jsonBody(await fetch(`${url}/openapi.json`))

    assert.equal(document.openapi, '3.1.0')
    for (const route of app.routes) {
      const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}')
      assert.ok(document.paths[path]?.[route.method.toLowerCase()],
        `${route.method} ${route.path} is documented`)
    }
  })
})

describe('readFields helpers', () => {
  test('parseForm decodes plus and percent escapes', () => {
    const fields = parseForm(Buffer.from('username=a+b&password=%C3%A9%26x'))

    assert.equal(fields.username, 'a b')
    assert.equal(fields.password, 'é&x')
  })

  test('parseForm keeps __proto__ as plain data', () => {
    const fields = parseForm(Buffer.from('__proto__=admin&role=user'))

    assert.equal(Object.getPrototypeOf(fields), null)
    assert.equal(fields.__proto__, 'admin')
    assert.equal(({} as Record<string, unknown>).role, undefined)
  })

  test('parseForm rejects a repeated name', () => {
    assert.throws(() => parseForm(Buffer.from('a=1&a=2')),
      { status: 400, code: 'HTTP_BODY_INVALID' })
  })

  test('parseForm rejects bytes that are not UTF-8', () => {
    assert.throws(() => parseForm(Buffer.from([0x61, 0x3d, 0xff])),
      { status: 400, code: 'HTTP_BODY_INVALID' })
  })

  test('requireObject rejects non-objects', () => {
    // Each is valid JSON but not an object.
    for (const value of [[], 0, null, 'text', true]) {
      assert.throws(() => requireObject(value),
        { status: 400, code: 'HTTP_BODY_NOT_OBJECT' }, JSON.stringify(value))
    }
  })
})

describe('request body limits', () => {
  test('rejects a declared length over the limit', async (t) => {
    const { url } = await startServer(t, { maxJsonBytes: 1024 })
    const body = Buffer.from(JSON.stringify({
      username: 'alice',
      password: 'p'.repeat(2048),
    }))

    const response = await postPartly(`${url}/register`, {
      'content-type': 'application/json',
      'content-length': body.byteLength,
    }, body)

    assert.equal(response.status, 413)
    assert.equal(response.headers['content-type'], PROBLEM_TYPE)
    assert.equal(response.headers.connection, 'close')
    assert.equal(JSON.parse(response.text).code, 'HTTP_BODY_TOO_LARGE')
  })

  test('rejects a chunked body once it passes the limit', async (t) => {
    const { url, app } = await startServer(t, { maxJsonBytes: 1024 })
    const body = Buffer.from(JSON.stringify({
      username: 'alice',
      password: 'p'.repeat(2048),
    }))

    const response = await postPartly(`${url}/register`, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    }, body)

    assert.equal(response.status, 413)
    assert.equal(JSON.parse(response.text).code, 'HTTP_BODY_TOO_LARGE')
    assert.equal(await app.users.findByUsername('alice'), undefined)
  })

  test('accepts a body of exactly the limit', async (t) => {
    const { url } = await startServer(t, { maxJsonBytes: 1024 })
    const text = JSON.stringify({ username: 'alice', password: PASSWORD })
    const body = text + ' '.repeat(1024 - text.length)

    const response = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })

    assert.equal(response.status, 201)
  })

  test('limits register and login to 16 KiB by default', async (t) => {
    const { url } = await startServer(t)
    const body = JSON.stringify({ username: 'alice', password: 'p' })
      + ' '.repeat(16 * 1024)

    for (const path of ['/register', '/login']) {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      assert.equal(response.status, 413, path)
      assert.equal((await jsonBody(response)).code, 'HTTP_BODY_TOO_LARGE')
    }
  })
})

describe('request content types', () => {
  test('rejects an unsupported content type with 415', async (t) => {
    const { url } = await startServer(t)
    const body = JSON.stringify({ username: 'alice', password: PASSWORD })
    // No type, text, XML, multipart and a JSON-like vendor type.
    const types = [undefined, 'text/plain', 'application/xml',
      'multipart/form-data; boundary=x', 'application/vnd.api+json']

    for (const type of types) {
      const headers: Record<string, string> = {}
      if (type) headers['content-type'] = type
      const response = await fetch(`${url}/register`,
        { method: 'POST', headers, body })
      const problem = await jsonBody(response)

      assert.equal(response.status, 415, String(type))
      assert.equal(response.headers.get('content-type'), PROBLEM_TYPE)
      assert.equal(response.headers.get('accept'), 'application/json')
      assert.equal(problem.code, 'HTTP_UNSUPPORTED_MEDIA_TYPE')
    }
  })

  test('rejects bad JSON with a generic 400', async (t) => {
    const { url } = await startServer(t)
    // Truncated, a bare word, and a body with the password in it.
    const bodies = ['{"username":', 'hello', '{"password":"hunter22" oops}']

    for (const body of bodies) {
      const response = await fetch(`${url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      const problem = await jsonBody(response)

      assert.equal(response.status, 400, body)
      assert.equal(problem.code, 'HTTP_BODY_INVALID')
      assert.equal(problem.detail, 'The body is not valid JSON')
      assert.ok(!JSON.stringify(problem).includes('hunter22'))
    }
  })
})

describe('request log', () => {
  test('writes one record per request', async (t) => {
    const { logger, records } = recordingLogger()
    const { url } = await startServer(t, { logger })

    const response = await fetch(`${url}/health`)
    await response.arrayBuffer()

    assert.equal(records.length, 1)
    const [record] = records
    assert.equal(record?.request_id, response.headers.get('x-request-id'))
    assert.equal(record?.method, 'GET')
    assert.equal(record?.path, '/health')
    assert.equal(record?.status, 200)
    assert.equal(typeof record?.duration_ms, 'number')
    assert.equal(record?.user_id, undefined)
  })

  test('leaves the query string out of the path', async (t) => {
    const { logger, records } = recordingLogger()
    const { url } = await startServer(t, { logger })

    await (await fetch(`${url}/health?access_token=leaked-value`)).arrayBuffer()

    assert.equal(records[0]?.path, '/health')
    assert.ok(!JSON.stringify(records).includes('leaked-value'))
  })

  test('names the user and never the secrets', async (t) => {
    const { logger, records } = recordingLogger()
    const { url } = await startServer(t, { logger })
    const register = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'logged', password: PASSWORD }),
    })
    const { id } = await jsonBody(register)
    const login = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'logged', password: PASSWORD }),
    })
    const { access_token: token } = await jsonBody(login)

    const profile = await fetch(`${url}/profile`, { headers: bearer(token) })
    await profile.arrayBuffer()
    const text = JSON.stringify(records)

    assert.deepEqual(records.map((r) => r.user_id), [undefined, id, id])
    assert.ok(!text.includes(PASSWORD))
    assert.ok(!text.includes(token))
    assert.ok(!text.includes('$scrypt$'))
  })

  test('logs a client error without an error record', async (t) => {
    const { logger, records } = recordingLogger()
    const { url } = await startServer(t, { logger })

    await (await fetch(`${url}/profile`)).arrayBuffer()
    await (await fetch(`${url}/nowhere`)).arrayBuffer()

    assert.deepEqual(records.map((r) => r.status), [401, 404])
    assert.ok(records.every((r) => r.error === undefined))
  })

  test('jsonLogger writes one JSON line per record', () => {
    const lines: string[] = []
    const logger = jsonLogger((line) => lines.push(line), () => 0)

    logger.info({ message: 'a "quoted"\nvalue' })
    logger.error({ message: 'b' })

    assert.equal(lines.length, 2)
    assert.ok(lines.every((line) => line.endsWith('\n')))
    assert.ok(lines.every((line) => !line.slice(0, -1).includes('\n')))
    assert.deepEqual(JSON.parse(lines[0] as string), {
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      message: 'a "quoted"\nvalue',
    })
    assert.equal(JSON.parse(lines[1] as string).level, 'error')
  })
})

/** Writes raw bytes to the server and resolves with all it sends back. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('end', () => resolve(received))
    socket.on('error', reject)
    socket.write(bytes)
  })
}

describe('HTTP edge cases', () => {
  // Each body is well-formed JSON in a form the server will not decode.
  const undecodable = [
    ['gzip content coding', { 'content-encoding': 'gzip' },
      'HTTP_CONTENT_ENCODING_UNSUPPORTED'],
    ['a Latin-1 charset',
      { 'content-type': 'application/json; charset=iso-8859-1' },
      'HTTP_CHARSET_UNSUPPORTED'],
  ] as const
  test('rejects bodies it cannot decode with 415', async (t) => {
    const { url } = await startServer(t)

    for (const [defect, headers, code] of undecodable) {
      const response = await fetch(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"username":"alice","password":"x"}',
      })

      assert.equal(response.status, 415, defect)
      assert.equal((await jsonBody(response)).code, code, defect)
    }
  })

  test('accepts an explicit UTF-8 charset', async (t) => {
    const { url } = await startServer(t)

    const response = await fetch(`${url}/compress-string`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset="UTF-8"' },
      body: '{"text":"aab"}',
    })

    assert.equal(response.status, 200)
  })

  test('rejects JSON nested deeper than 64 levels', async (t) => {
    const { url } = await startServer(t)
    const post = (value: string) => fetch(`${url}/compress-string`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"text":"a","extra":${value}}`,
    })

    const deep = await post('['.repeat(100_000) + ']'.repeat(100_000))
    const shallow = await post('['.repeat(60) + ']'.repeat(60))
    const bracketsInText = await post(`"${'['.repeat(1000)}"`)

    assert.equal(deep.status, 400)
    assert.match((await jsonBody(deep)).detail, /deeper than 64/)
    assert.equal(shallow.status, 200)
    assert.equal(bracketsInText.status, 200)
  })

  test('reads a leading double slash as a path', async (t) => {
    const { url } = await startServer(t)

    const response = await rawExchange(url,
      'GET //health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')

    assert.match(response, /^HTTP\/1\.1 200 /)
    assert.match(response, /\{"status":"ok"\}/)
  })

  test('answers a target that is not a URL with a problem', async (t) => {
    const { logger, records } = recordingLogger()
    const { url } = await startServer(t, { logger })

    const response = await rawExchange(url,
      'GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')

    assert.match(response, /^HTTP\/1\.1 400 /)
    assert.match(response, /x-request-id: /i)
    assert.match(response, /"code":"HTTP_URL_INVALID"/)
    assert.equal(records.filter((r) => r.status === 400).length, 1)
  })

  // Each of these is rejected by Node's HTTP parser before any route runs.
  const malformed = [
    ['an unknown method', 'FOO /health HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a header without a colon', 'GET /health HTTP/1.1\r\nBroken\r\n\r\n', 400],
    ['headers over 16 KiB',
      `GET /health HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ] as const
  test('answers parser errors with a problem document', async (t) => {
    const { logger, records } = recordingLogger()
    const { url } = await startServer(t, { logger })

    for (const [defect, bytes, status] of malformed) {
      const response = await rawExchange(url, bytes)

      assert.match(response, new RegExp(`^HTTP/1\\.1 ${status} `), defect)
      assert.match(response, /application\/problem\+json/, defect)
      assert.match(response, /"code":"HTTP_REQUEST_MALFORMED"/, defect)
      assert.match(response, /x-request-id: [0-9a-f-]{36}/i, defect)
    }
    assert.equal(records.length, malformed.length)
  })

  test('logs a request whose client hung up', { timeout: 10_000 },
    async (t) => {
      const { logger, records } = recordingLogger()
      const { url } = await startServer(t, { logger })
      const { hostname, port } = new URL(url)

      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write('POST /login HTTP/1.1\r\nHost: x\r\n' +
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"us')
          setImmediate(() => socket.destroy())
        })
        socket.on('close', () => resolve())
      })
      while (!records.some((r) => r.path === '/login')) {
        await new Promise((resolve) => setImmediate(resolve))
      }

      const line = records.find((r) => r.path === '/login')
      assert.equal(line?.aborted, true)
      assert.equal(records.some((r) => r.message === 'request failed'), false)
    })
})
