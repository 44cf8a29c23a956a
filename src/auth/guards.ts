import type { RequestContext } from '../http/context.ts'
import { forbidden, unauthorized } from '../http/errors.ts'
import { readBearerToken } from './authorization-header.ts'
import type { TokenService } from './tokens.ts'
import type { User, UserStore } from './user-store.ts'

export interface Guards {
  /** Returns the signed-in user or throws 401. */
  requireUser(context: RequestContext): Promise<User>
  /** Returns the signed-in admin; throws 401 without a user, 403 otherwise. */
  requireAdmin(context: RequestContext): Promise<User>
  /** Returns the signed-in user, `undefined` without a header, 401 if bad. */
  optionalUser(context: RequestContext): Promise<User | undefined>
}

/**
 * Builds the role guards. The token only names the user: the user must
 * still exist, and the role checked is the stored one, not the token's.
 */
export function createGuards(tokens: TokenService, users: UserStore): Guards {
  async function optionalUser(
    context: RequestContext,
  ): Promise<User | undefined> {
    const token = readBearerToken(context.req)
    if (token === undefined) return undefined

    const userId = await tokens.verify(token)
    const user = await users.findById(userId)
    if (!user) {
      throw unauthorized('AUTH_TOKEN_INVALID', 'The access token is invalid')
    }
    context.userId = user.id
    return user
  }

  async function requireUser(context: RequestContext): Promise<User> {
    const user = await optionalUser(context)
    if (!user) {
      throw unauthorized('AUTH_TOKEN_MISSING',
        'This endpoint needs an Authorization: Bearer <token> header')
    }
    return user
  }

  async function requireAdmin(context: RequestContext): Promise<User> {
    const user = await requireUser(context)
    if (user.role !== 'admin') {
      throw forbidden('AUTH_ADMIN_REQUIRED', 'This endpoint is for admins only')
    }
    return user
  }

  return { requireUser, requireAdmin, optionalUser }
}
