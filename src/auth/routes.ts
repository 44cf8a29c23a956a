import type { Reply, RequestContext, Route } from '../http/context.ts'
import { readFields, readJson, requireObject } from '../http/read-body.ts'
import type { AppServices } from '../services.ts'
import { clientAddressKey } from './client-address.ts'
import { parseLogin, parseRegistration } from './credentials.ts'
import { logIn } from './login.ts'
import { LoginThrottle } from './login-throttle.ts'
import { loginDoc, profileDoc, registerDoc } from './route-docs.ts'
import { registerUser } from './registration.ts'
import type { User } from './user-store.ts'

// Responses that carry a token or account data must not be cached
// (RFC 6749, section 5.1, for the token response).
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

/** `POST /register`, `POST /login` and `GET /profile`. */
export function authRoutes(services: AppServices): Route[] {
  const throttle = new LoginThrottle({ now: services.now })
  const loginServices = { ...services, throttle }
  const maxBytes = services.config.maxJsonBytes

  async function register(context: RequestContext): Promise<Reply> {
    const body = requireObject(await readJson(context.req, maxBytes))
    const registration = parseRegistration(body)
    const user = await registerUser(services, registration, context)
    return { status: 201, body: publicUser(user) }
  }

  async function login(context: RequestContext): Promise<Reply> {
    const credentials = parseLogin(await readFields(context.req, maxBytes))
    const address = clientAddressKey(context.req.socket.remoteAddress)
    const { user, issued } = await logIn(loginServices, credentials, address)
    context.userId = user.id
    return {
      status: 200,
      headers: NO_STORE,
      body: {
        access_token: issued.token,
        token_type: 'bearer',
        expires_in: issued.expiresIn,
      },
    }
  }

  async function profile(context: RequestContext): Promise<Reply> {
    const user = await services.guards.requireUser(context)
    return { status: 200, headers: NO_STORE, body: publicUser(user) }
  }

  return [
    { method: 'POST', path: '/register', handler: register, doc: registerDoc },
    { method: 'POST', path: '/login', handler: login, doc: loginDoc },
    { method: 'GET', path: '/profile', handler: profile, doc: profileDoc },
  ]
}

function publicUser(user: User): Record<string, string> {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    created_at: user.createdAt,
  }
}
