import type {
  IncomingMessage,
  RequestListener,
  ServerResponse,
} from 'node:http'
import { performance } from 'node:perf_hooks'
import { analyticsRoutes } from './analytics/routes.ts'
import { createGuards } from './auth/guards.ts'
import { authRoutes } from './auth/routes.ts'
import { createConfiguredAdmin } from './auth/seed-admin.ts'
import { TokenService } from './auth/tokens.ts'
import { MemoryUserStore, type UserStore } from './auth/user-store.ts'
import { compressRoutes } from './compress/routes.ts'
import { defaultConfig, secretSetting, type AppConfig } from './config.ts'
import { healthRoutes } from './health-routes.ts'
import type { RequestContext, Route } from './http/context.ts'
import { badRequest, methodNotAllowed, notFound } from './http/errors.ts'
import { requestIdFor } from './http/request-id.ts'
import { sendJson, sendProblem } from './http/respond.ts'
import { Router } from './http/router.ts'
import { describeError, jsonLogger, type Logger } from './logger.ts'
import { buildOpenApi } from './openapi.ts'
import { MemorySalesStore } from './sales/memory-store.ts'
import { uploadRoutes } from './sales/upload-routes.ts'
import type { SalesStore } from './sales/types.ts'
import type { AppServices } from './services.ts'

export interface CreateAppOptions
  extends Partial<Omit<AppConfig, 'jwtSecret'>> {
  /** HS256 key of at least 32 bytes; random per process when left out. */
  jwtSecret?: string | Uint8Array
  /** Destination of request and error records; JSON lines on stdout by default. */
  logger?: Logger
  /** Clock in milliseconds since the epoch, for tokens and throttling. */
  now?: () => number
  users?: UserStore
  sales?: SalesStore
}

export interface App {
  /** The `node:http` request listener. */
  handler: RequestListener
  users: UserStore
  sales: SalesStore
  tokens: TokenService
  config: AppConfig
  routes: Route[]
}

/**
 * Creates the app: stores, auth and every route, behind one request
 * listener. Throws `ConfigError` for unusable settings.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<App> {
  const config: AppConfig = {
    ...defaultConfig,
    ...configOverrides(options),
    jwtSecret: secretSetting(options.jwtSecret),
  }
  const logger = options.logger ?? jsonLogger()
  const now = options.now ?? Date.now
  const users = options.users ?? new MemoryUserStore(now)
  const sales = options.sales ?? new MemorySalesStore()
  const tokens = new TokenService({
    secret: config.jwtSecret,
    ttlSeconds: config.tokenTtlSeconds,
    now,
  })
  if (tokens.generatedSecret) {
    logger.warn({
      message: 'JWT_SECRET is not set, so a random key is used; ' +
        'tokens will not survive a restart',
    })
  }

  const services: AppServices = {
    config,
    logger,
    now,
    users,
    tokens,
    guards: createGuards(tokens, users),
    sales,
  }
  await createConfiguredAdmin(config, users, logger)

  let openApi: unknown
  const routes: Route[] = [
    ...healthRoutes(() => (openApi ??= buildOpenApi(routes))),
    ...authRoutes(services),
    ...analyticsRoutes(services),
    ...compressRoutes(services),
    ...uploadRoutes(services),
  ]
  void services

  const router = new Router()
  for (const route of routes) router.add(route.method, route.path, route.handler)

  return {
    handler: createListener(router, logger),
    users,
    sales,
    tokens,
    config,
    routes,
  }
}

function createListener(router: Router, logger: Logger): RequestListener {
  return (req, res) => {
    void serve(router, logger, req, res)
  }
}

// Written without closures per request: tsx keeps function names by
// wrapping every named function it creates, which costs throughput.
async function serve(
  router: Router,
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now()
  const requestId = requestIdFor(req)
  const url = parseRequestUrl(req.url)
  const context: RequestContext = {
    req,
    res,
    url: url ?? new URL('http://localhost/'),
    params: {},
    requestId,
  }

  try {
    if (!url) throw badRequest('HTTP_URL_INVALID', 'The URL is not valid')
    await handle(router, context)
  } catch (error) {
    if (!isClientAbort(error, req)) {
      reportError(logger, context, error)
      sendProblem(res, error, { 'x-request-id': requestId })
    }
  }

  // Logged once the handler settled rather than from a response event,
  // because a listener per response costs about 8% of throughput. A client
  // that hung up makes the body read fail or leaves the response destroyed.
  logger.info({
    request_id: requestId,
    method: req.method,
    path: url ? url.pathname : null,
    status: res.statusCode,
    duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    ...(context.userId ? { user_id: context.userId } : {}),
    ...(res.destroyed ? { aborted: true } : {}),
  })
}

async function handle(router: Router, context: RequestContext): Promise<void> {
  const { req, res } = context
  const method = req.method ?? 'GET'
  const match = router.match(method, context.url.pathname)
  if (match.kind === 'not-found') {
    throw notFound(`No route for ${context.url.pathname}`)
  }
  if (match.kind === 'method-not-allowed') {
    throw methodNotAllowed(method, match.allow)
  }

  context.params = match.params
  const reply = await match.handler(context)
  sendJson(res, reply.status, reply.body, {
    ...reply.headers,
    'x-request-id': context.requestId,
  })
}

/**
 * Parses the request target. An origin-form target (`/path?query`) is
 * joined to a fixed origin as text, so `//host/path` stays a path instead
 * of naming a host. Returns `undefined` for a target that is not a URL.
 */
function parseRequestUrl(target: string | undefined): URL | undefined {
  const raw = target ?? '/'
  try {
    return raw.startsWith('/')
      ? new URL(`http://localhost${raw}`)
      : new URL(raw)
  } catch {
    return undefined
  }
}

const ABORT_CODES = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE'])

/** Tells a client that hung up mid-request apart from a server fault. */
function isClientAbort(error: unknown, req: IncomingMessage): boolean {
  if (!req.destroyed) return false
  const { code, message } = error as { code?: unknown, message?: unknown }
  return (typeof code === 'string' && ABORT_CODES.has(code)) ||
    message === 'aborted'
}

function reportError(
  logger: Logger,
  context: RequestContext,
  error: unknown,
): void {
  const status = (error as { status?: unknown }).status
  if (typeof status === 'number' && status < 500) return
  logger.error({
    message: 'request failed',
    request_id: context.requestId,
    path: context.url.pathname,
    error: describeError(error),
  })
}

function configOverrides(options: CreateAppOptions): Partial<AppConfig> {
  const overrides: Record<string, unknown> = {}
  for (const key of Object.keys(defaultConfig)) {
    const value = (options as Record<string, unknown>)[key]
    if (value !== undefined && key !== 'jwtSecret') overrides[key] = value
  }
  return overrides as Partial<AppConfig>
}
