import { ConfigError, type AppConfig } from '../config.ts'
import { HttpError } from '../http/errors.ts'
import type { Logger } from '../logger.ts'
import { parseRegistration } from './credentials.ts'
import { hashPassword } from './password.ts'
import { UsernameTakenError, type UserStore } from './user-store.ts'

type SeedConfig = Pick<AppConfig, 'adminUsername' | 'adminPassword'>

/**
 * Creates the admin named by `adminUsername` and `adminPassword` unless an
 * account of that name exists. Throws `ConfigError` when only one of them
 * is set or they break the registration rules.
 */
export async function createConfiguredAdmin(
  config: SeedConfig,
  users: UserStore,
  logger: Logger,
): Promise<void> {
  const { adminUsername, adminPassword } = config
  if (adminUsername === undefined && adminPassword === undefined) return
  if (adminUsername === undefined || adminPassword === undefined) {
    throw new ConfigError(
      'ADMIN_USERNAME and ADMIN_PASSWORD must be set together')
  }

  const registration = validRegistration(adminUsername, adminPassword)
  const existing = await users.findByUsername(registration.username)
  if (existing) {
    const record = {
      message: 'ADMIN_USERNAME already exists, so no admin was created',
      username: existing.username,
      role: existing.role,
    }
    // A plain user of that name stays a plain user, which is worth a warning.
    if (existing.role === 'admin') logger.info(record)
    else logger.warn(record)
    return
  }

  const passwordHash = await hashPassword(registration.password)
  try {
    const user = await users.create({ ...registration, passwordHash })
    logger.info({
      message: 'admin created',
      username: user.username,
      user_id: user.id,
    })
  } catch (error) {
    if (!(error instanceof UsernameTakenError)) throw error
  }
}

function validRegistration(username: string, password: string) {
  try {
    return parseRegistration({ username, password, role: 'admin' })
  } catch (error) {
    if (!(error instanceof HttpError)) throw error
    const reasons = (error.errors ?? []).map((item) => item.message)
    throw new ConfigError(
      `ADMIN_USERNAME or ADMIN_PASSWORD is invalid: ${reasons.join('; ')}`)
  }
}
