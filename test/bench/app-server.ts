import type { AddressInfo } from 'node:net'
import { createApp } from '../../src/app.ts'
import { closeGracefully, createHttpServer } from '../../src/http/server.ts'
import { jsonLogger, silentLogger } from '../../src/logger.ts'

/**
 * Child process entry that runs the product on an ephemeral port of
 * 127.0.0.1 for the benchmarks. It adds an admin and a user straight to
 * the store and sends `{ready, port, info: {adminToken, userToken}}` over
 * IPC. Request logs go to stdout as in production unless `--quiet` is
 * given. Exits on SIGTERM after the requests in flight finish, and at once
 * when the IPC channel to the benchmark process closes.
 */

/** What the child sends once ready; import it with `import type` only. */
export interface AppServerInfo {
  adminToken: string
  userToken: string
}

const BENCH_SECRET = 'bench-secret-that-is-at-least-32-bytes-long'

const quiet = process.argv.includes('--quiet')
const app = await createApp({
  jwtSecret: BENCH_SECRET,
  logger: quiet ? silentLogger : jsonLogger(),
})

async function issueToken(role: 'admin' | 'user'): Promise<string> {
  const user = await app.users.create({
    username: `bench-${role}`,
    role,
    passwordHash: 'no-login',
  })
  return (await app.tokens.issue(user)).token
}

const info: AppServerInfo = {
  adminToken: await issueToken('admin'),
  userToken: await issueToken('user'),
}

const server = createHttpServer(app.handler)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo
process.send?.({ ready: true, port, info })

// The channel closes when the benchmark process exits, even by a crash.
process.once('disconnect', () => process.exit(0))
process.once('SIGTERM', () => {
  closeGracefully(server).then(() => process.exit(0), () => process.exit(1))
})
