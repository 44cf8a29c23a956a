import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { createApp, type App, type CreateAppOptions } from '../../src/app.ts'
import type { Role, User } from '../../src/auth/user-store.ts'
import { closeGracefully, createHttpServer } from '../../src/http/server.ts'
import { silentLogger } from '../../src/logger.ts'

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long'

export interface TestServer {
  app: App
  /** Base URL such as `http://127.0.0.1:41234`, without a trailing slash. */
  url: string
}

/**
 * Starts the app on an ephemeral port of 127.0.0.1 and closes it when the
 * test ends.
 */
export async function startServer(
  t: TestContext,
  options: CreateAppOptions = {},
): Promise<TestServer> {
  const app = await createApp({
    logger: silentLogger,
    jwtSecret: TEST_SECRET,
    ...options,
  })
  const server = createHttpServer(app.handler, {
    logger: options.logger ?? silentLogger,
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    server.closeAllConnections()
    await closeGracefully(server)
  })
  const { port } = server.address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}` }
}

/**
 * Adds a user straight to the store and returns it with a valid token, for
 * tests that need a signed-in caller but do not test registration. The
 * password hash is not a valid scrypt string, so this user cannot log in.
 */
export async function createUserWithToken(
  app: App,
  role: Role,
  username = `${role}-${Math.random().toString(36).slice(2, 10)}`,
): Promise<{ user: User, token: string }> {
  const user = await app.users.create({
    username,
    role,
    passwordHash: 'no-login',
  })
  const { token } = await app.tokens.issue(user)
  return { user, token }
}

/** Parses a response body as JSON, typed loosely for assertions. */
export async function jsonBody(response: Response): Promise<any> {
  return response.json()
}

/** Returns `Authorization` headers for `token`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}
