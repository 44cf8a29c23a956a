import { hashPassword } from '../../src/auth/password.ts'
import type { AppServerInfo } from './app-server.ts'
import {
  formatNumber,
  formatRatio,
  markdownTable,
  median,
  probeLatency,
  startChildServer,
  targetAtMost,
  timeOnce,
  type LatencyProbe,
} from './harness.ts'

/**
 * Login cost: the time of one scrypt hash at the product's parameters,
 * the logins per second a server reaches with 20 logins at once, and the
 * p99 latency of `GET /health` idle against while those logins run.
 */

const HASH_RUNS = 8
const CONCURRENT_LOGINS = 20
const PROBE_MS = 5000
// Logins start this long before the probe, so it measures the steady state.
const RAMP_MS = 500
const PASSWORD = 'bench-password-1234'

/** Runs the section and returns it as Markdown. */
export async function main(): Promise<string> {
  const { hashMs, parameters } = await timeHashes()
  const server = await startChildServer<AppServerInfo>('app-server.ts')
  try {
    const usernames = await registerUsers(server.url)
    const idle = await probeLatency(`${server.url}/health`, PROBE_MS)
    const { probe: busy, loginsPerSecond } =
      await probeDuringLogins(server.url, usernames)
    return report({ hashMs, parameters, idle, busy, loginsPerSecond })
  } finally {
    await server.stop()
  }
}

async function timeHashes(): Promise<{ hashMs: number, parameters: string }> {
  const sample = await hashPassword(PASSWORD)
  const times: number[] = []
  for (let run = 0; run < HASH_RUNS; run++) {
    times.push(await timeOnce(() => hashPassword(PASSWORD)))
  }
  // The PHC string is `$scrypt$ln=14,r=8,p=1$salt$key`.
  const parameters = sample.split('$')[2] ?? 'unknown'
  return { hashMs: median(times), parameters }
}

async function registerUsers(baseUrl: string): Promise<string[]> {
  const usernames = Array.from({ length: CONCURRENT_LOGINS },
    (_, i) => `bench-login-${i}`)
  await Promise.all(usernames.map(async (username) => {
    const response = await postJson(`${baseUrl}/register`,
      { username, password: PASSWORD, role: 'user' })
    if (response.status !== 201) {
      throw new Error(`POST /register returned ${response.status}: ` +
        await response.text())
    }
  }))
  return usernames
}

// Each loop logs one user in again and again, so CONCURRENT_LOGINS logins
// are in flight during the whole probe. The throttle counts an attempt in
// flight as a failure of its username, so each loop has its own user.
async function probeDuringLogins(
  baseUrl: string,
  usernames: string[],
): Promise<{ probe: LatencyProbe, loginsPerSecond: number }> {
  let running = true
  let logins = 0
  const started = performance.now()
  const loops = usernames.map(async (username) => {
    while (running) {
      const response = await postJson(`${baseUrl}/login`,
        { username, password: PASSWORD })
      await response.arrayBuffer()
      if (response.status !== 200) {
        running = false
        throw new Error(`POST /login returned ${response.status}`)
      }
      logins++
    }
  })

  try {
    await new Promise((resolve) => setTimeout(resolve, RAMP_MS))
    const probe = await probeLatency(`${baseUrl}/health`, PROBE_MS)
    return { probe, loginsPerSecond: logins / seconds(started) }
  } finally {
    running = false
    await Promise.all(loops)
  }
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000
}

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

interface Findings {
  hashMs: number
  parameters: string
  idle: LatencyProbe
  busy: LatencyProbe
  loginsPerSecond: number
}

function report(findings: Findings): string {
  const { hashMs, parameters, idle, busy, loginsPerSecond } = findings
  const probeRow = (name: string, probe: LatencyProbe) => [
    name,
    formatNumber(probe.requests),
    formatNumber(probe.p50Ms, 3),
    formatNumber(probe.p99Ms, 3),
    formatNumber(probe.maxMs, 1),
  ]
  return [
    '## Login cost',
    '',
    `One scrypt hash at the product's parameters (${parameters}), timed ` +
      `in process with \`hashPassword\`: **${formatNumber(hashMs, 1)} ms** ` +
      `(median of ${HASH_RUNS}), so one core could do ` +
      `${formatNumber(1000 / hashMs, 1)} hashes/s.`,
    '',
    `Over HTTP with ${CONCURRENT_LOGINS} logins in flight at once (one ` +
      `user each): **${formatNumber(loginsPerSecond, 1)} logins/s**.`,
    '',
    `\`GET /health\` latency, one request at a time over one keep-alive ` +
      `connection for ${PROBE_MS / 1000} s, idle and while the logins run:`,
    '',
    markdownTable(['GET /health', 'requests', 'p50 ms', 'p99 ms', 'max ms'], [
      probeRow('idle', idle),
      probeRow(`${CONCURRENT_LOGINS} logins at once`, busy),
    ]),
    '',
    `p99 ratio busy / idle: ${formatRatio(busy.p99Ms / idle.p99Ms)}.`,
    '',
    targetAtMost('GET /health p99 during 20 logins within 5x of idle',
      busy.p99Ms / idle.p99Ms, 5),
  ].join('\n')
}
