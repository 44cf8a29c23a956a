import { randomBytes } from 'node:crypto'
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import { unauthorized } from '../http/errors.ts'
import type { User } from './user-store.ts'

const ALGORITHM = 'HS256'
const ISSUER = 'sales-analytics'
const AUDIENCE = 'sales-analytics-api'
const CACHE_SIZE = 10_000

export interface TokenServiceOptions {
  /** HS256 key; a random one is made when undefined. */
  secret: Uint8Array | undefined
  ttlSeconds: number
  now: () => number
}

export interface IssuedToken {
  token: string
  expiresIn: number
}

interface VerifiedClaims {
  userId: string
  /** Expiry in seconds since the epoch. */
  expiresAt: number
}

/**
 * Issues and verifies HS256 access tokens. Verification pins the algorithm,
 * issuer and audience, and requires `sub`, `iat` and `exp`. Verified tokens
 * are cached (bounded, expiry re-checked on every hit) because `jwtVerify`
 * dominates the cost of an authenticated request.
 */
export class TokenService {
  readonly #secret: Uint8Array
  readonly #ttlSeconds: number
  readonly #now: () => number
  readonly #cache = new Map<string, VerifiedClaims>()
  readonly generatedSecret: boolean

  constructor(options: TokenServiceOptions) {
    this.generatedSecret = options.secret === undefined
    this.#secret = options.secret ?? new Uint8Array(randomBytes(32))
    this.#ttlSeconds = options.ttlSeconds
    this.#now = options.now
  }

  async issue(user: Pick<User, 'id' | 'role'>): Promise<IssuedToken> {
    const issuedAt = Math.floor(this.#now() / 1000)
    const token = await new SignJWT({ role: user.role })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.#ttlSeconds)
      .sign(this.#secret)
    return { token, expiresIn: this.#ttlSeconds }
  }

  /**
   * Returns the user id of a valid token. Throws a 401 `HttpError` whose code
   * distinguishes expired from otherwise invalid. The detail stays generic.
   */
  async verify(token: string): Promise<string> {
    const nowSeconds = this.#now() / 1000
    const cached = this.#cache.get(token)
    if (cached) {
      if (cached.expiresAt > nowSeconds) return cached.userId
      this.#cache.delete(token)
      throw unauthorized('AUTH_TOKEN_EXPIRED', 'The access token has expired')
    }

    const claims = await this.#verifyWithJose(token)
    this.#remember(token, claims)
    return claims.userId
  }

  async #verifyWithJose(token: string): Promise<VerifiedClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#secret, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'iat', 'exp'],
        currentDate: new Date(this.#now()),
      })
      return { userId: payload.sub as string, expiresAt: payload.exp as number }
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw unauthorized('AUTH_TOKEN_EXPIRED', 'The access token has expired')
      }
      throw unauthorized('AUTH_TOKEN_INVALID', 'The access token is invalid')
    }
  }

  #remember(token: string, claims: VerifiedClaims): void {
    if (this.#cache.size >= CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value as string
      this.#cache.delete(oldest)
    }
    this.#cache.set(token, claims)
  }
}
