import { unauthorized } from '../http/errors.ts'
import type { LoginCredentials } from './credentials.ts'
import type { LoginThrottle } from './login-throttle.ts'
import { verifyPassword } from './password.ts'
import type { IssuedToken, TokenService } from './tokens.ts'
import type { User, UserStore } from './user-store.ts'
import { usernameKey } from './username.ts'

export interface LoginServices {
  users: UserStore
  tokens: TokenService
  throttle: LoginThrottle
}

// Valid names are at most 32 code points, so a longer key belongs to a name
// that cannot exist. Cutting such keys keeps throttle memory small.
const MAX_THROTTLE_KEY_LENGTH = 64

/**
 * Checks the password and issues an access token. A wrong password and an
 * unknown username both throw the same 401 after the same scrypt work. A
 * throttled username or address throws 429 before any hashing.
 */
export async function logIn(
  services: LoginServices,
  credentials: LoginCredentials,
  addressKey: string,
): Promise<{ user: User, issued: IssuedToken }> {
  const { users, tokens, throttle } = services
  const nameKey = usernameKey(credentials.username)
    .slice(0, MAX_THROTTLE_KEY_LENGTH)
  throttle.startAttempt(nameKey, addressKey)

  let user: User | undefined
  let valid: boolean
  try {
    user = await users.findByUsername(credentials.username)
    valid = await verifyPassword(credentials.password, user?.passwordHash)
  } catch (error) {
    throttle.cancelled(nameKey, addressKey)
    throw error
  }
  if (!user || !valid) {
    throttle.failed(nameKey, addressKey)
    throw unauthorized('AUTH_CREDENTIALS_INVALID',
      'The username or password is incorrect')
  }

  throttle.succeeded(nameKey, addressKey)
  return { user, issued: await tokens.issue(user) }
}
