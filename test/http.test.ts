import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Router } from '../src/http/router.ts'
import { jsonBody, startServer } from './support/server.ts'

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
