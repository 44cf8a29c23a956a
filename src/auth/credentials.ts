import { unprocessable, type ProblemItem } from '../http/errors.ts'
import {
  countCodePoints,
  isWellFormedUnicode,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
} from './password.ts'
import type { Role } from './user-store.ts'
import {
  isValidUsername,
  MAX_USERNAME_LENGTH,
  MIN_USERNAME_LENGTH,
  normalizeUsername,
} from './username.ts'

/** A validated `POST /register` body; the username is NFKC normalised. */
export interface Registration {
  username: string
  password: string
  role: Role
}

/**
 * A `POST /login` body whose fields are well-formed strings of acceptable
 * length.
 */
export interface LoginCredentials {
  username: string
  password: string
}

/**
 * Validates the fields of a registration and ignores any others. Throws a
 * 422 `HttpError` whose `errors` lists every invalid field.
 */
export function parseRegistration(
  fields: Record<string, unknown>,
): Registration {
  const errors: ProblemItem[] = []
  const username = checkUsername(fields.username, errors)
  const password = checkPassword(fields.password, errors, MIN_PASSWORD_LENGTH)
  const role = checkRole(fields.role, errors)
  if (errors.length > 0) {
    throw unprocessable('AUTH_REGISTRATION_INVALID',
      'Some fields of the registration are invalid', { errors })
  }
  return { username, password, role } as Registration
}

/**
 * Checks that `username` and `password` are present, well-formed Unicode
 * strings, the password no longer than the maximum. These checks never look
 * at stored users, so they return the same result for known and unknown
 * names. Throws a 422.
 */
export function parseLogin(fields: Record<string, unknown>): LoginCredentials {
  const errors: ProblemItem[] = []
  const username = requireText('username', fields.username, errors)
  if (username === '') {
    errors.push({ field: 'username', message: 'username must not be empty' })
  }
  const password = checkPassword(fields.password, errors, 1)
  if (errors.length > 0) {
    throw unprocessable('AUTH_LOGIN_INVALID',
      'Some fields of the login are invalid', { errors })
  }
  return { username, password } as LoginCredentials
}

function checkUsername(
  value: unknown,
  errors: ProblemItem[],
): string | undefined {
  const raw = requireText('username', value, errors)
  if (raw === undefined) return undefined

  const username = normalizeUsername(raw)
  const length = countCodePoints(username)
  if (length < MIN_USERNAME_LENGTH || length > MAX_USERNAME_LENGTH) {
    errors.push({
      field: 'username',
      message: `username must be ${MIN_USERNAME_LENGTH} to ` +
        `${MAX_USERNAME_LENGTH} characters long`,
    })
    return undefined
  }
  if (!isValidUsername(username)) {
    errors.push({
      field: 'username',
      message: 'username may contain only letters, digits, ".", "_" and "-"',
    })
    return undefined
  }
  return username
}

function checkPassword(
  value: unknown,
  errors: ProblemItem[],
  minLength: number,
): string | undefined {
  const password = requireText('password', value, errors)
  if (password === undefined) return undefined

  const length = countCodePoints(password, MAX_PASSWORD_LENGTH)
  if (length > MAX_PASSWORD_LENGTH) {
    errors.push({
      field: 'password',
      message: `password must be at most ${MAX_PASSWORD_LENGTH} characters long`,
    })
    return undefined
  }
  if (length < minLength) {
    errors.push({
      field: 'password',
      message: `password must be at least ${minLength} characters long`,
    })
    return undefined
  }
  return password
}

function checkRole(value: unknown, errors: ProblemItem[]): Role | undefined {
  if (value === undefined) return 'user'
  if (value === 'admin' || value === 'user') return value
  errors.push({ field: 'role', message: 'role must be "admin" or "user"' })
  return undefined
}

function requireText(
  field: string,
  value: unknown,
  errors: ProblemItem[],
): string | undefined {
  if (value === undefined) {
    errors.push({ field, message: `${field} is required` })
    return undefined
  }
  if (typeof value !== 'string') {
    errors.push({ field, message: `${field} must be a string` })
    return undefined
  }
  if (!isWellFormedUnicode(value)) {
    errors.push({
      field,
      message: `${field} must be valid Unicode, without lone surrogates`,
    })
    return undefined
  }
  return value
}
