import { randomUUID } from 'node:crypto'
import { usernameKey } from './username.ts'

export type Role = 'admin' | 'user'

export interface User {
  id: string
  /** The NFKC form of the name as registered. */
  username: string
  role: Role
  /** PHC-style scrypt string; never leaves the server. */
  passwordHash: string
  /** ISO 8601 timestamp in UTC. */
  createdAt: string
}

export interface NewUser {
  username: string
  role: Role
  passwordHash: string
}

export interface CreateUserOptions {
  /** Reject with `AdminExistsError` when an admin already exists. */
  onlyIfNoAdmin?: boolean
}

/** Thrown by `create` when the name, compared by `usernameKey`, is taken. */
export class UsernameTakenError extends Error {
  override name = 'UsernameTakenError'
}

/** Thrown by `create` with `onlyIfNoAdmin` once an admin exists. */
export class AdminExistsError extends Error {
  override name = 'AdminExistsError'
}

/**
 * Storage of user accounts. `create` checks and inserts in one step, so two
 * concurrent registrations of one name never both succeed.
 */
export interface UserStore {
  create(user: NewUser, options?: CreateUserOptions): Promise<User>
  findById(id: string): Promise<User | undefined>
  findByUsername(username: string): Promise<User | undefined>
  hasAdmin(): Promise<boolean>
}

/** A `UserStore` kept in process memory. */
export class MemoryUserStore implements UserStore {
  readonly #byId = new Map<string, User>()
  readonly #idByKey = new Map<string, string>()
  #adminCount = 0

  constructor(private readonly now: () => number = Date.now) {}

  async create(user: NewUser, options: CreateUserOptions = {}): Promise<User> {
    const key = usernameKey(user.username)
    if (this.#idByKey.has(key)) {
      throw new UsernameTakenError(`Username ${user.username} is taken`)
    }
    if (options.onlyIfNoAdmin && this.#adminCount > 0) {
      throw new AdminExistsError('An admin account already exists')
    }

    const stored: User = {
      id: randomUUID(),
      username: user.username,
      role: user.role,
      passwordHash: user.passwordHash,
      createdAt: new Date(this.now()).toISOString(),
    }
    this.#byId.set(stored.id, stored)
    this.#idByKey.set(key, stored.id)
    if (stored.role === 'admin') this.#adminCount++
    return { ...stored }
  }

  async findById(id: string): Promise<User | undefined> {
    const user = this.#byId.get(id)
    return user && { ...user }
  }

  async findByUsername(username: string): Promise<User | undefined> {
    const id = this.#idByKey.get(usernameKey(username))
    return id === undefined ? undefined : this.findById(id)
  }

  async hasAdmin(): Promise<boolean> {
    return this.#adminCount > 0
  }
}
