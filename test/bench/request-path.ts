import type { AppServerInfo } from './app-server.ts'
import {
  formatNumber,
  formatRatio,
  loadTest,
  markdownTable,
  startChildServer,
  targetAtLeast,
  type LoadResult,
} from './harness.ts'

/**
 * Request path: autocannon (10 connections, 10 s, 127.0.0.1) on the
 * product's authenticated `GET /profile`, against a bare `node:http`
 * server and a fastify server that answer the same JSON without auth.
 * Each server runs alone in its own child process.
 */

const CONNECTIONS = 10
const DURATION_SECONDS = 10
const WARMUP_SECONDS = 2
const PROFILE_FIELDS = ['created_at', 'id', 'role', 'username']

interface Contender {
  name: string
  script: string
  args: string[]
}

const CONTENDERS: Contender[] = [
  { name: 'ours, request log on', script: 'app-server.ts', args: [] },
  { name: 'ours, request log off', script: 'app-server.ts', args: ['--quiet'] },
  { name: 'bare node:http', script: 'peer-servers.ts', args: ['bare'] },
  { name: 'fastify', script: 'peer-servers.ts', args: ['fastify'] },
]

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  const results = new Map<string, LoadResult>()
  for (const contender of CONTENDERS) {
    results.set(contender.name, await measure(contender))
  }

  const ours = results.get('ours, request log on') as LoadResult
  const bare = results.get('bare node:http') as LoadResult
  const fastify = results.get('fastify') as LoadResult
  const rows = CONTENDERS.map(({ name }) => {
    const result = results.get(name) as LoadResult
    return [
      name,
      formatNumber(result.requestsPerSecond),
      formatNumber(result.p50Ms),
      formatNumber(result.p99Ms),
      formatRatio(result.requestsPerSecond / bare.requestsPerSecond),
    ]
  })

  return [
    '## Request path: GET /profile',
    '',
    `autocannon, ${CONNECTIONS} connections for ${DURATION_SECONDS} s ` +
      `after ${WARMUP_SECONDS} s of warm-up, 127.0.0.1, each server alone ` +
      'in its own child process. Ours checks the bearer token (cached after ' +
      'the first verification), reads the user from the store and sets ' +
      'X-Request-Id; "log on" also writes one JSON line per request to a ' +
      'file, as in production. The bare and fastify servers return the ' +
      'same JSON with no auth and no logging. Latency resolution is 1 ms.',
    '',
    markdownTable(['server', 'req/s', 'p50 ms', 'p99 ms', 'vs bare'], rows),
    '',
    targetAtLeast('GET /profile req/s >= 70% of bare node:http',
      ours.requestsPerSecond / bare.requestsPerSecond, 0.7),
    targetAtLeast('GET /profile req/s above fastify',
      ours.requestsPerSecond / fastify.requestsPerSecond, 1),
  ].join('\n')
}

async function measure(contender: Contender): Promise<LoadResult> {
  const server = await startChildServer<AppServerInfo | Record<string, never>>(
    contender.script, contender.args)
  try {
    const headers: Record<string, string> = 'userToken' in server.info
      ? { authorization: `Bearer ${server.info.userToken}` }
      : {}
    const url = `${server.url}/profile`
    await checkProfile(url, headers, contender.name)
    await loadTest(url, {
      connections: CONNECTIONS,
      durationSeconds: WARMUP_SECONDS,
      headers,
    })
    return await loadTest(url, {
      connections: CONNECTIONS,
      durationSeconds: DURATION_SECONDS,
      headers,
    })
  } finally {
    await server.stop()
  }
}

// Every contender must answer 200 with a JSON object of the same fields,
// or the comparison measures different work.
async function checkProfile(
  url: string,
  headers: Record<string, string>,
  name: string,
): Promise<void> {
  const response = await fetch(url, { headers })
  const body = await response.json() as Record<string, unknown>
  const fields = Object.keys(body).sort().join(',')
  if (response.status !== 200 || fields !== PROFILE_FIELDS.join(',')) {
    throw new Error(`${name}: GET /profile returned ${response.status} ` +
      `with fields ${fields}, expected 200 with ${PROFILE_FIELDS.join(',')}`)
  }
}
