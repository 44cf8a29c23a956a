import type { RequestContext } from '../http/context.ts'
import { conflict, forbidden, type HttpError } from '../http/errors.ts'
import type { AppServices } from '../services.ts'
import type { Registration } from './credentials.ts'
import { hashPassword } from './password.ts'
import {
  AdminExistsError,
  UsernameTakenError,
  type User,
} from './user-store.ts'

type RegistrationServices = Pick<AppServices, 'config' | 'guards' | 'users'>

/**
 * Creates the account. An admin account needs an admin's bearer token
 * unless no admin exists yet or `adminSignup` is `'open'`. The store checks
 * for an admin and inserts in one step, so two racing bootstrap requests
 * cannot both create an admin. Throws 401 for a bad token, 403 when an
 * admin is required and 409 for a taken name.
 */
export async function registerUser(
  services: RegistrationServices,
  registration: Registration,
  context: RequestContext,
): Promise<User> {
  const { users } = services
  const onlyIfNoAdmin = registration.role === 'admin' &&
    !(await mayCreateAdmin(services, context))

  // `create` repeats both checks. Running them first saves a hash.
  if (onlyIfNoAdmin && await users.hasAdmin()) throw adminRequired()
  if (await users.findByUsername(registration.username)) throw usernameTaken()

  const passwordHash = await hashPassword(registration.password)
  try {
    return await users.create({
      username: registration.username,
      role: registration.role,
      passwordHash,
    }, { onlyIfNoAdmin })
  } catch (error) {
    if (error instanceof UsernameTakenError) throw usernameTaken()
    if (error instanceof AdminExistsError) throw adminRequired()
    throw error
  }
}

async function mayCreateAdmin(
  services: RegistrationServices,
  context: RequestContext,
): Promise<boolean> {
  if (services.config.adminSignup === 'open') return true
  const caller = await services.guards.optionalUser(context)
  return caller?.role === 'admin'
}

function adminRequired(): HttpError {
  return forbidden('AUTH_ADMIN_REQUIRED',
    'An admin account already exists, so creating another one needs an ' +
    "admin's bearer token")
}

function usernameTaken(): HttpError {
  return conflict('AUTH_USERNAME_TAKEN', 'This username is already taken')
}
