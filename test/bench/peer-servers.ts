import Fastify from 'fastify'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Child process entry of the peer servers of the request-path benchmark:
 * `bare` (plain `node:http`) or `fastify`, each answering `GET /profile`
 * with the same JSON the product returns, with no auth and no logging.
 * Sends `{ready, port}` over IPC once listening. Exits on SIGTERM, and when
 * the IPC channel to the benchmark process closes.
 */

const PROFILE = {
  id: '0b6f3c2e-8f4a-4d6b-9a43-6f1e2d3c4b5a',
  username: 'bench-user',
  role: 'user',
  created_at: '2024-01-01T00:00:00.000Z',
}

async function startBare(): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/profile') {
      res.writeHead(404).end()
      return
    }
    const body = JSON.stringify(PROFILE)
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  ready((server.address() as AddressInfo).port)
  return () => new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

async function startFastify(): Promise<() => Promise<void>> {
  const app = Fastify({ logger: false })
  app.get('/profile', async () => PROFILE)
  await app.listen({ port: 0, host: '127.0.0.1' })
  ready((app.server.address() as AddressInfo).port)
  return () => app.close()
}

function ready(port: number): void {
  process.send?.({ ready: true, port, info: {} })
}

const mode = process.argv[2]
if (mode !== 'bare' && mode !== 'fastify') {
  process.stderr.write('usage: peer-servers.ts bare|fastify\n')
  process.exit(2)
}
const close = await (mode === 'bare' ? startBare() : startFastify())
// The channel closes when the benchmark process exits, even by a crash.
process.once('disconnect', () => process.exit(0))
process.once('SIGTERM', () => {
  close().then(() => process.exit(0), () => process.exit(1))
})
