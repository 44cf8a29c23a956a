import type { OperationDoc } from '../http/context.ts'
import { problemResponse as problem } from '../openapi.ts'

const publicUser = {
  type: 'object',
  required: ['id', 'username', 'role', 'created_at'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    username: { type: 'string' },
    role: { type: 'string', enum: ['admin', 'user'] },
    created_at: { type: 'string', format: 'date-time' },
  },
}

const credentials = {
  type: 'object',
  required: ['username', 'password'],
  properties: {
    username: { type: 'string' },
    password: { type: 'string', maxLength: 128 },
  },
}

export const registerDoc: OperationDoc = {
  summary: 'Create an account',
  description: 'Usernames are 3-32 letters, digits, ".", "_" or "-", ' +
    'compared case-insensitively after NFKC. Passwords are 8-128 ' +
    'characters. Unknown fields are ignored. While no admin exists anyone ' +
    "may create one; after that an admin's bearer token is needed unless " +
    'ADMIN_SIGNUP=open.',
  security: [{}, { bearerAuth: [] }],
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['username', 'password'],
          properties: {
            username: { type: 'string', minLength: 3, maxLength: 32 },
            password: { type: 'string', minLength: 8, maxLength: 128 },
            role: { type: 'string', enum: ['admin', 'user'], default: 'user' },
          },
        },
      },
    },
  },
  responses: {
    201: {
      description: 'The account was created',
      content: { 'application/json': { schema: publicUser } },
    },
    400: problem('The body is not a JSON object'),
    401: problem('The Authorization header has no valid bearer token'),
    403: problem("An admin exists and the request has no admin's token"),
    409: problem('The username is taken'),
    413: problem('The body is larger than 16 KiB'),
    415: problem('The body is not application/json'),
    422: problem('Invalid fields, each listed in errors'),
  },
}

export const loginDoc: OperationDoc = {
  summary: 'Exchange a username and password for an access token',
  description: 'Accepts JSON or the OAuth 2.0 password form. A wrong ' +
    'password and an unknown username get the same 401. Repeated failures ' +
    'for one username or client address get 429 with Retry-After, and so ' +
    'do attempts past the limit while others are still in progress ' +
    '(Retry-After: 1).',
  requestBody: {
    required: true,
    content: {
      'application/json': { schema: credentials },
      'application/x-www-form-urlencoded': { schema: credentials },
    },
  },
  responses: {
    200: {
      description: 'An HS256 JWT; the response has Cache-Control: no-store',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['access_token', 'token_type', 'expires_in'],
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string', const: 'bearer' },
              expires_in: { type: 'integer', description: 'Seconds' },
            },
          },
        },
      },
    },
    400: problem('The body is malformed'),
    401: problem('The username or password is incorrect'),
    413: problem('The body is larger than 16 KiB'),
    415: problem('The body is neither JSON nor form-urlencoded'),
    422: problem('username or password is missing, not a string or not ' +
      'valid Unicode'),
    429: problem('Too many failed logins or logins in progress; see ' +
      'Retry-After'),
    503: problem('Too many logins are waiting; see Retry-After'),
  },
}

export const profileDoc: OperationDoc = {
  summary: 'The signed-in account',
  security: [{ bearerAuth: [] }],
  responses: {
    200: {
      description: 'The account of the bearer token',
      content: { 'application/json': { schema: publicUser } },
    },
    401: problem('The bearer token is missing, invalid or expired'),
  },
}
