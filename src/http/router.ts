import type { Handler } from './context.ts'

export type RouteMatch =
  | { kind: 'found', handler: Handler, params: Record<string, string> }
  | { kind: 'method-not-allowed', allow: string[] }
  | { kind: 'not-found' }

interface Entry {
  segments: string[]
  handlers: Map<string, Handler>
}

/**
 * Matches a method and path to a handler. Patterns are literal segments and
 * `:name` parameters, e.g. `/users/:id`. `match` distinguishes a path
 * that no route has (404) from a path whose route lacks the method (405).
 */
export class Router {
  readonly #entries: Entry[] = []

  add(method: string, pattern: string, handler: Handler): void {
    const segments = splitPath(pattern)
    let entry = this.#entries.find((e) => samePattern(e.segments, segments))
    if (!entry) {
      entry = { segments, handlers: new Map() }
      this.#entries.push(entry)
    }
    const upper = method.toUpperCase()
    if (entry.handlers.has(upper)) {
      throw new TypeError(`Route ${upper} ${pattern} is already registered`)
    }
    entry.handlers.set(upper, handler)
  }

  match(method: string, path: string): RouteMatch {
    const segments = splitPath(path)
    for (const entry of this.#entries) {
      const params = matchSegments(entry.segments, segments)
      if (!params) continue

      const handler = entry.handlers.get(method)
        ?? (method === 'HEAD' ? entry.handlers.get('GET') : undefined)
      if (handler) return { kind: 'found', handler, params }
      return { kind: 'method-not-allowed', allow: allowedMethods(entry) }
    }
    return { kind: 'not-found' }
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '')
}

function samePattern(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i])
}

function matchSegments(
  pattern: string[],
  path: string[],
): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] as string
    const actual = path[i] as string
    if (expected.startsWith(':')) {
      params[expected.slice(1)] = safeDecode(actual)
      continue
    }
    if (expected !== actual) return undefined
  }
  return params
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function allowedMethods(entry: Entry): string[] {
  const methods = [...entry.handlers.keys()]
  if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD')
  return methods.sort()
}
