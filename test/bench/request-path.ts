import type { AppServerInfo } from './app-server.ts'
import {
  formatNumber,
  formatRatio,
  loadTest,
  markdownTable,
  startChildServer,
  targetAtLeast,
  type ChildServer,
  type LoadResult,
} from './harness.ts'

/**
 * Request path: autocannon (10 connections, 10 s, 127.0.0.1) on the
 * product's authenticated `GET /profile`, against a bare `node:http`
 * server and a fastify server that return the same JSON without auth.
 * Each server runs in its own child process and is loaded alone.
 */

const CONNECTIONS = 10
const DURATION_SECONDS = 10
const WARMUP_SECONDS = 2
const ROUNDS = 2
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
  const targets: Target[] = []
  try {
    for (const contender of CONTENDERS) targets.push(await start(contender))
    const results = await measureAll(targets)
    return report(results)
  } finally {
    await Promise.all(targets.map(({ server }) => server.stop()))
  }
}

interface Target {
  contender: Contender
  server: ChildServer<AppServerInfo | Record<string, never>>
  url: string
  headers: Record<string, string>
}

async function start(contender: Contender): Promise<Target> {
  const server = await startChildServer<AppServerInfo | Record<string, never>>(
    contender.script, contender.args)
  const headers: Record<string, string> = 'userToken' in server.info
    ? { authorization: `Bearer ${server.info.userToken}` }
    : {}
  return { contender, server, url: `${server.url}/profile`, headers }
}

// Loads one server at a time while the others idle. Every other round
// runs in reverse order, so a steady drift in the speed of a shared
// machine affects every server alike.
async function measureAll(targets: Target[]): Promise<Map<string, LoadResult>> {
  const runs = new Map<string, LoadResult[]>()
  for (const { contender, url, headers } of targets) {
    await checkProfile(url, headers, contender.name)
    await loadTest(url, {
      connections: CONNECTIONS,
      durationSeconds: WARMUP_SECONDS,
      headers,
    })
    runs.set(contender.name, [])
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse()
    for (const { contender, url, headers } of order) {
      runs.get(contender.name)?.push(await loadTest(url, {
        connections: CONNECTIONS,
        durationSeconds: DURATION_SECONDS,
        headers,
      }))
    }
  }
  return new Map([...runs].map(([name, results]) => [name, combine(results)]))
}

// Averages the rounds' req/s and p50 and keeps the worst p99.
function combine(results: LoadResult[]): LoadResult {
  const mean = (pick: (result: LoadResult) => number) =>
    results.reduce((sum, result) => sum + pick(result), 0) / results.length
  return {
    requestsPerSecond: mean((result) => result.requestsPerSecond),
    p50Ms: mean((result) => result.p50Ms),
    p99Ms: Math.max(...results.map((result) => result.p99Ms)),
    requests: results.reduce((sum, result) => sum + result.requests, 0),
  }
}

function report(results: Map<string, LoadResult>): string {
  const ours = results.get('ours, request log on') as LoadResult
  const bare = results.get('bare node:http') as LoadResult
  const fastify = results.get('fastify') as LoadResult
  const rows = CONTENDERS.map(({ name }) => {
    const result = results.get(name) as LoadResult
    return [
      name,
      formatNumber(result.requestsPerSecond),
      formatNumber(result.p50Ms, 1),
      formatNumber(result.p99Ms),
      formatRatio(result.requestsPerSecond / bare.requestsPerSecond),
    ]
  })

  return [
    '## Request path: GET /profile',
    '',
    `autocannon, ${CONNECTIONS} connections, 127.0.0.1, each server in its ` +
      `own child process and loaded alone: ${WARMUP_SECONDS} s of warm-up, ` +
      `then ${ROUNDS} rounds of ${DURATION_SECONDS} s each, the second in ` +
      'reverse order. req/s and p50 are the mean of the rounds, p99 the ' +
      'worse one; autocannon records latency in whole milliseconds. Ours ' +
      'checks the bearer token (cached after the first verification), ' +
      'reads the user from the store and sets X-Request-Id. "log on" also ' +
      'writes one JSON line per request to a file, as in production. The ' +
      'bare and fastify servers return the same JSON with no auth and no ' +
      'logging.',
    '',
    markdownTable(['server', 'req/s', 'p50 ms', 'p99 ms', 'vs bare'], rows),
    '',
    targetAtLeast('GET /profile req/s >= 70% of bare node:http',
      ours.requestsPerSecond / bare.requestsPerSecond, 0.7),
    targetAtLeast('GET /profile req/s above fastify',
      ours.requestsPerSecond / fastify.requestsPerSecond, 1),
  ].join('\n')
}

// Every contender must respond 200 with a JSON object of the same fields,
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
