/** Admin registration policy once an admin exists: admins only, or anyone. */
export type AdminSignup = 'bootstrap' | 'open'

/** Settings of one app instance; every field has a default. */
export interface AppConfig {
  /** HS256 key, at least 32 bytes. Undefined means a random per-process key. */
  jwtSecret: Uint8Array | undefined
  tokenTtlSeconds: number
  maxUploadBytes: number
  maxTextBytes: number
  /** Limit for small JSON and form bodies (register, login). */
  maxJsonBytes: number
  adminSignup: AdminSignup
  adminUsername: string | undefined
  adminPassword: string | undefined
}

export interface ServerConfig {
  host: string
  port: number
}

export const MIN_SECRET_BYTES = 32

export const defaultConfig: AppConfig = {
  jwtSecret: undefined,
  tokenTtlSeconds: 3600,
  maxUploadBytes: 100 * 1024 * 1024,
  maxTextBytes: 1024 * 1024,
  maxJsonBytes: 16 * 1024,
  adminSignup: 'bootstrap',
  adminUsername: undefined,
  adminPassword: undefined,
}

/** An environment setting that cannot be used; the message names it. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Reads the server and app settings from environment variables. */
export function loadConfig(env: NodeJS.ProcessEnv): {
  server: ServerConfig
  app: AppConfig
} {
  const server: ServerConfig = {
    host: env.HOST || '127.0.0.1',
    port: integerSetting(env, 'PORT', 3000, 0, 65535),
  }
  const app: AppConfig = {
    jwtSecret: secretSetting(env.JWT_SECRET),
    tokenTtlSeconds: integerSetting(env, 'TOKEN_TTL', 3600, 1, 31 * 86400),
    maxUploadBytes: integerSetting(env, 'MAX_UPLOAD_BYTES',
      defaultConfig.maxUploadBytes, 1, Number.MAX_SAFE_INTEGER),
    maxTextBytes: integerSetting(env, 'MAX_TEXT_BYTES',
      defaultConfig.maxTextBytes, 1, 1024 * 1024 * 1024),
    maxJsonBytes: defaultConfig.maxJsonBytes,
    adminSignup: adminSignupSetting(env.ADMIN_SIGNUP),
    adminUsername: env.ADMIN_USERNAME || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
  }
  if (Boolean(app.adminUsername) !== Boolean(app.adminPassword)) {
    throw new ConfigError(
      'ADMIN_USERNAME and ADMIN_PASSWORD must be set together')
  }
  return { server, app }
}

/** Encodes a secret and checks its length; throws `ConfigError` if short. */
export function secretSetting(
  value: string | Uint8Array | undefined,
): Uint8Array | undefined {
  if (value === undefined || value === '') return undefined
  const bytes = typeof value === 'string'
    ? new TextEncoder().encode(value)
    : value
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes ` +
      `(got ${bytes.byteLength}); generate one with: openssl rand -hex 32`)
  }
  return bytes
}

function integerSetting(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(
      `${name} must be an integer from ${min} to ${max} (got "${raw}")`)
  }
  return value
}

function adminSignupSetting(raw: string | undefined): AdminSignup {
  if (raw === undefined || raw === '' || raw === 'bootstrap') return 'bootstrap'
  if (raw === 'open') return 'open'
  throw new ConfigError(
    `ADMIN_SIGNUP must be "open" or "bootstrap" (got "${raw}")`)
}
