import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import {
  killAllServersNow,
  machineDescription,
  markdownTable,
  recordedTargets,
  removeScratch,
  scratchDirectory,
  stopAllServers,
  type TargetCheck,
} from './harness.ts'

/**
 * `npm run bench`: runs every benchmark section, each in its own child
 * process so that one section's heap, peak RSS or crash cannot touch the
 * next, prints each section as it finishes and writes the whole report to
 * `test/bench/RESULTS.md`. Exits 1 when a section failed or is missing.
 * `run.ts --section FILE` runs one section alone and prints it.
 */

interface Section {
  title: string
  /** File in this folder that exports `main(): Promise<string>`. */
  file: string
  timeoutSeconds: number
}

const SECTIONS: Section[] = [
  { title: 'CSV parsing', file: 'csv-parsers.ts', timeoutSeconds: 150 },
  { title: 'Upload end to end', file: 'upload-e2e.ts', timeoutSeconds: 120 },
  { title: 'Upload memory', file: 'upload-memory.ts', timeoutSeconds: 120 },
  { title: 'Queries in process', file: 'queries.ts', timeoutSeconds: 90 },
  { title: 'Queries over HTTP', file: 'http-queries.ts', timeoutSeconds: 120 },
  { title: 'Request path', file: 'request-path.ts', timeoutSeconds: 150 },
  { title: 'Login cost', file: 'login-cost.ts', timeoutSeconds: 90 },
  { title: 'String compression', file: 'compress.ts', timeoutSeconds: 60 },
]

/** The whole run stops here, under the ten minutes it is allowed. */
const RUN_BUDGET_SECONDS = 570
const RESULTS_PATH = fileURLToPath(new URL('RESULTS.md', import.meta.url))

interface SectionOutcome {
  markdown: string
  targets: TargetCheck[]
  /** Why the section has no result: it failed or was not run. */
  problem?: 'FAILED' | 'NOT RUN'
}

type SectionMessage =
  | { markdown: string, targets: TargetCheck[] }
  | { error: string }

// ------------------------------------------------------ one section

async function runSectionHere(file: string): Promise<void> {
  const stop = () => {
    stopAllServers().finally(() => {
      removeScratch()
      process.exit(1)
    })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // The channel closes when the run process exits, even by a crash.
  process.once('disconnect', stop)
  process.once('exit', killAllServersNow)
  let message: SectionMessage
  try {
    const section = await import(`./${file}`) as { main(): Promise<string> }
    const markdown = await section.main()
    message = { markdown, targets: [...recordedTargets()] }
  } catch (error) {
    message = { error: error instanceof Error ? error.stack ?? error.message
      : String(error) }
  }
  await stopAllServers()
  // Removes the scratch folder only when this section was run on its own.
  removeScratch()
  if (!process.send) {
    const text = 'markdown' in message ? message.markdown : message.error
    process.stdout.write(`${text}\n`)
    process.exit('markdown' in message ? 0 : 1)
  }
  process.send(message, () => process.exit(0))
}

// ---------------------------------------------------------- the run

let current: ChildProcess | undefined

async function runSection(
  section: Section,
  timeoutSeconds: number,
): Promise<SectionOutcome> {
  const heading = `## ${section.title}`
  if (!existsSync(fileURLToPath(new URL(section.file, import.meta.url)))) {
    return notRun(heading, `test/bench/${section.file} does not exist.`)
  }
  if (timeoutSeconds <= 0) {
    return notRun(heading, 'the run used up its time budget.')
  }

  const child = spawn(process.execPath, [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--section',
    section.file,
  ], { stdio: ['ignore', 2, 2, 'ipc'] })
  current = child
  const result = await sectionResult(child, timeoutSeconds)
  current = undefined

  if ('error' in result) {
    return failure(heading, `Failed:\n\n\`\`\`\n${result.error}\n\`\`\``)
  }
  const markdown = result.markdown.trimStart().startsWith('#')
    ? result.markdown.trim()
    : `${heading}\n\n${result.markdown.trim()}`
  return { markdown, targets: result.targets }
}

async function sectionResult(
  child: ChildProcess,
  timeoutSeconds: number,
): Promise<SectionMessage> {
  let message: SectionMessage | undefined
  child.once('message', (value) => {
    message = value as SectionMessage
  })
  const timer = setTimeout(() => {
    message ??= { error: `Timed out after ${timeoutSeconds} s` }
    stopSection(child)
  }, timeoutSeconds * 1000)
  const [code, signal] = await once(child, 'exit') as [number | null, string | null]
  clearTimeout(timer)
  return message ?? { error: `The section process exited with ${code ?? signal}` +
    ' before it sent a result' }
}

function stopSection(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return
  process.kill(child.pid, 'SIGTERM')
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid as number, 'SIGKILL')
    }
  }, 10_000).unref()
}

function failure(heading: string, text: string): SectionOutcome {
  return { markdown: `${heading}\n\n${text}`, targets: [], problem: 'FAILED' }
}

function notRun(heading: string, reason: string): SectionOutcome {
  return {
    markdown: `${heading}\n\nNot run: ${reason}`,
    targets: [],
    problem: 'NOT RUN',
  }
}

function targetSummary(
  outcomes: ReadonlyArray<{ section: Section, outcome: SectionOutcome }>,
): string {
  const rows = outcomes.flatMap(({ section, outcome }) => [
    ...outcome.targets.map((target) => [
      section.title,
      target.goal,
      target.passed ? 'pass' : '**MISS**',
      target.detail,
    ]),
    ...(outcome.problem
      ? [[section.title, '(whole section)', `**${outcome.problem}**`, '']]
      : []),
  ])
  return [
    '## Targets',
    '',
    'Goals checked by the sections below; other sections print their own.',
    '',
    markdownTable(['section', 'goal', 'result', 'measured'], rows),
  ].join('\n')
}

async function runAll(): Promise<void> {
  const started = performance.now()
  const machine = machineDescription()
  scratchDirectory()
  process.stdout.write(`# Benchmark results\n\n${machine}\n\n`)

  const outcomes: Array<{ section: Section, outcome: SectionOutcome }> = []
  for (const section of SECTIONS) {
    const elapsed = (performance.now() - started) / 1000
    const budget = Math.min(section.timeoutSeconds, RUN_BUDGET_SECONDS - elapsed)
    const outcome = await runSection(section, Math.floor(budget))
    outcomes.push({ section, outcome })
    process.stdout.write(`${outcome.markdown}\n\n`)
  }

  const seconds = (performance.now() - started) / 1000
  const summary = targetSummary(outcomes)
  process.stdout.write(`${summary}\n\nThe run took ${seconds.toFixed(0)} s.\n`)
  writeFileSync(RESULTS_PATH, [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${machine}. The run took ` +
      `${seconds.toFixed(0)} s. Ratios compare numbers measured in this run.`,
    '',
    summary,
    '',
    ...outcomes.map(({ outcome }) => `${outcome.markdown}\n`),
  ].join('\n'))
  removeScratch()
  if (outcomes.some(({ outcome }) => outcome.problem)) process.exitCode = 1
}

const sectionIndex = process.argv.indexOf('--section')
if (sectionIndex >= 0) {
  await runSectionHere(process.argv[sectionIndex + 1] ?? '')
} else {
  const stop = (signal: NodeJS.Signals) => {
    if (current) stopSection(current)
    removeScratch()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await runAll()
}
