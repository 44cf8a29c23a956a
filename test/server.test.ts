import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { describe, test, type TestContext } from 'node:test'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SECRET = 'server-test-secret-of-at-least-32-bytes'
const PASSWORD = 'process password 1'

interface ServerProcess {
  child: ChildProcess
  /** Every stdout line so far. */
  lines: string[]
  /** Resolves with the first line, old or new, that `match` accepts. */
  waitForLine(match: (line: string) => boolean): Promise<string>
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
}

/**
 * Runs `npm start`'s command with `env` on top of a minimal environment and
 * kills it when the test ends if it is still running.
 */
function spawnServer(
  t: TestContext,
  env: Record<string, string>,
): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid as number, 'SIGKILL')
    }
  })

  const lines: string[] = []
  const waiters: Array<{
    match: (line: string) => boolean
    resolve: (line: string) => void
  }> = []
  let pending = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    pending += chunk
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      for (const waiter of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(line)
      }
    }
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)

  function waitForLine(match: (line: string) => boolean): Promise<string> {
    const seen = lines.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      waiters.push({ match, resolve })
      void exited.then(() => reject(new Error(
        `The server exited before printing the line. Output:\n${lines.join('\n')}`)))
    })
  }

  return { child, lines, waitForLine, exited }
}

function parse(line: string): Record<string, any> {
  return JSON.parse(line) as Record<string, any>
}

async function listeningUrl(server: ServerProcess): Promise<string> {
  const line = await server.waitForLine((l) => parse(l).message === 'listening')
  return parse(line).url as string
}

describe('server process', () => {
  test('rejects a short JWT_SECRET', async (t) => {
    const server = spawnServer(t, { JWT_SECRET: 'tiny-secret-value' })

    const code = await server.exited
    const output = server.lines.join('\n')

    assert.notEqual(code, 0)
    assert.match(output, /JWT_SECRET must be at least 32 bytes \(got 17\)/)
    assert.ok(!output.includes('tiny-secret-value'))
    assert.ok(!output.includes('listening'))
  })

  test('warns when JWT_SECRET is missing', async (t) => {
    const server = spawnServer(t, {})

    await listeningUrl(server)
    const warning = server.lines.map(parse).find((r) => r.level === 'warn')

    assert.ok(warning, server.lines.join('\n'))
    assert.match(warning.message, /JWT_SECRET is not set/)
    assert.match(warning.message, /will not survive a restart/)
  })

  test('listens on the port it logs', async (t) => {
    const server = spawnServer(t, { JWT_SECRET: SECRET })
    const url = await listeningUrl(server)

    const response = await fetch(`${url}/health`)

    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.notEqual(url.endsWith(':0'), true)
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { status: 'ok' })
  })

  test('finishes a request in flight on SIGTERM', async (t) => {
    const server = spawnServer(t, { JWT_SECRET: SECRET })
    const url = new URL(await listeningUrl(server))
    const body = JSON.stringify({ username: 'inflight', password: PASSWORD })

    // `Expect: 100-continue` makes the server confirm that it has parsed the
    // headers and started the handler before the body is sent.
    const pending = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/register',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      },
    })
    const response = once(pending, 'response')
    pending.flushHeaders()
    await once(pending, 'continue')

    server.child.kill('SIGTERM')
    await server.waitForLine((l) => parse(l).message === 'stopping')
    pending.end(body)
    const [res] = await response
    let text = ''
    for await (const chunk of res) text += chunk

    assert.equal(res.statusCode, 201)
    assert.equal(res.headers.connection, 'close')
    assert.equal(JSON.parse(text).username, 'inflight')
    assert.equal(await server.exited, 0)
    assert.ok(server.lines.some((l) => parse(l).message === 'stopped'))
  })

  test('logs each request as JSON without secrets', async (t) => {
    const server = spawnServer(t, { JWT_SECRET: SECRET })
    const url = await listeningUrl(server)

    const registered = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'logged', password: PASSWORD }),
    })
    const user = await registered.json() as { id: string }
    const login = await fetch(`${url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'logged', password: PASSWORD }),
    })
    const { access_token: token } = await login.json() as { access_token: string }
    const profile = await fetch(`${url}/profile`,
      { headers: { authorization: `Bearer ${token}` } })
    const failed = await fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'logged', password: 'wrong password' }),
    })
    await fetch(`${url}/health?access_token=${token}`, {
      headers: { 'x-request-id': 'client-chosen-id' },
    })
    server.child.kill('SIGTERM')
    assert.equal(await server.exited, 0)

    const records = server.lines.map(parse)
    const requests = records.filter((r) => r.request_id !== undefined)
    const byId = (id: string | null) => requests.find((r) => r.request_id === id)
    const output = server.lines.join('\n')

    assert.equal(requests.length, 5)
    for (const record of requests) {
      assert.equal(typeof record.time, 'string')
      assert.equal(record.level, 'info')
      assert.equal(typeof record.method, 'string')
      assert.equal(typeof record.path, 'string')
      assert.equal(typeof record.status, 'number')
      assert.equal(typeof record.duration_ms, 'number')
      assert.ok(record.duration_ms >= 0)
    }
    assert.deepEqual(
      requests.map((r) => [r.method, r.path, r.status]),
      [['POST', '/register', 201], ['POST', '/login', 200],
        ['GET', '/profile', 200], ['POST', '/login', 401],
        ['GET', '/health', 200]])
    assert.equal(byId(login.headers.get('x-request-id'))?.user_id, user.id)
    assert.equal(byId(profile.headers.get('x-request-id'))?.user_id, user.id)
    assert.equal(byId(failed.headers.get('x-request-id'))?.user_id, undefined)
    assert.ok(byId('client-chosen-id'))
    assert.ok(!output.includes(PASSWORD), 'no password in the log')
    assert.ok(!output.includes('wrong password'), 'no failed password')
    assert.ok(!output.includes(token), 'no token in the log')
    assert.ok(!output.includes(token.split('.')[2] as string), 'no signature')
    assert.ok(!output.includes(SECRET), 'no JWT secret in the log')
    assert.ok(!output.includes('$scrypt$'), 'no password hash in the log')
  })
})
