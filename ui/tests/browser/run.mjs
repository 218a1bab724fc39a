// The browser tests' runner: builds the app's page with the fake backend
// (tests/mock/mock.html) with Vite, serves it on loopback, and drives Debian's
// /usr/bin/chromium headless with playwright-core (never a downloaded browser).
// Each spec file (*.spec.mjs here) exports `tests = [{ name, run(t), timeout? }]`; every
// test gets a fresh browser context. Exit code 0 only when every test passed.
//
//   npm run test:browser                 # everything
//   npm run test:browser -- refund axe   # tests whose name contains a word given

import { createServer } from 'node:http'
import { readFile, mkdir, readdir, rm, stat } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1'

const HERE = dirname(fileURLToPath(import.meta.url))
const UI = resolve(HERE, '../..')
const REPO = resolve(UI, '..')
// Beside cargo's output, as e2e/run.sh does (CARGO_TARGET_DIR when set).
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(REPO, process.env.CARGO_TARGET_DIR) : join(REPO, 'target')
// One build per run: two runs at once (a person and scripts/test.sh) must not serve each
// other's half-written files. Removed at the end.
const DIST = join(TARGET, 'ui-mock-dist', `run-${process.pid}`)
const ARTIFACTS = join(TARGET, 'ui-artifacts')
const RESULTS = join(HERE, 'results')
const CHROMIUM = process.env.DAFTAR_CHROMIUM || '/usr/bin/chromium'
const DEFAULT_TIMEOUT_MS = 30_000

const started = Date.now()
const filters = process.argv.slice(2).map((f) => f.toLowerCase())

function die(message) {
  console.error(`browser tests: ${message}`)
  process.exit(2)
}

if (!existsSync(CHROMIUM)) die(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`)

// 1. Build the mock page (a production build: the scroll figures are the real bundle's).
const { build } = await import('vite').catch(() => die('vite is not installed: run `npm ci` in ui/ first'))
try {
  await build({
    root: UI,
    configFile: join(UI, 'vite.config.ts'),
    logLevel: 'warn',
    build: {
      outDir: DIST,
      emptyOutDir: true,
      target: 'es2022',
      // checks.pluginTimings: rolldown's note on slow plugins is noise in a test log.
      rolldownOptions: { input: join(UI, 'tests', 'mock', 'mock.html'), checks: { pluginTimings: false } },
    },
  })
} catch (e) {
  die(`vite could not build tests/mock/mock.html: ${e?.message ?? e}`)
}
const buildMs = Date.now() - started

// 2. Serve it: a few lines of static server, loopback only.
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json' }
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '')
  const file = join(DIST, path)
  if (!file.startsWith(DIST + sep)) return void res.writeHead(403).end()
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file')
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    res.end(await readFile(file))
  } catch {
    res.writeHead(404).end()
  }
})
await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
const base = `http://127.0.0.1:${server.address().port}`

// 3. Chromium.
const { chromium } = await import('playwright-core').catch(() => die('playwright-core is not installed: run `npm ci` in ui/ first'))
let browser
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--font-render-hinting=none'],
  })
} catch (e) {
  server.close()
  die(`chromium did not start: ${e?.message ?? e}`)
}

// A full run leaves only its own screenshots (the last run's and its failures go first).
if (filters.length === 0) await rm(ARTIFACTS, { recursive: true, force: true })
await mkdir(join(ARTIFACTS, 'failures'), { recursive: true })
await mkdir(RESULTS, { recursive: true })

// 4. The tests.
const specs = (await readdir(HERE)).filter((f) => f.endsWith('.spec.mjs')).sort()
const all = []
for (const spec of specs) {
  const mod = await import(pathToFileURL(join(HERE, spec)).href)
  for (const test of mod.tests ?? []) all.push({ ...test, spec })
}
const chosen = all.filter((t) => filters.length === 0 || filters.some((f) => `${t.spec} ${t.name}`.toLowerCase().includes(f)))
if (chosen.length === 0) die(`no test matches ${filters.join(' ')}`)

const { makeContext } = await import(pathToFileURL(join(HERE, 'lib.mjs')).href)
const outcomes = []
for (const test of chosen) {
  const t0 = Date.now()
  const ctx = await makeContext({ browser, base, artifacts: ARTIFACTS, results: RESULTS, name: test.name })
  let error = null
  let timer
  try {
    await Promise.race([
      test.run(ctx),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${test.timeout ?? DEFAULT_TIMEOUT_MS} ms`)), test.timeout ?? DEFAULT_TIMEOUT_MS)
      }),
    ])
  } catch (e) {
    error = e
    await ctx.failureShot().catch(() => undefined)
  } finally {
    clearTimeout(timer)
    await ctx.close().catch(() => undefined)
  }
  const ms = Date.now() - t0
  outcomes.push({ name: `${test.spec}::${test.name}`, ok: !error, ms, error })
  if (error) {
    console.log(`FAIL ${test.spec}::${test.name} (${ms} ms)`)
    console.log(indent(error?.stack && !error.plain ? error.stack : String(error?.message ?? error)))
    if (ctx.pageErrors.length) console.log(indent(`page errors:\n${ctx.pageErrors.join('\n')}`))
  } else {
    console.log(`ok   ${test.spec}::${test.name} (${ms} ms)`)
  }
  for (const note of ctx.notes) console.log(indent(note))
}

await browser.close()
server.close()
await rm(DIST, { recursive: true, force: true })

const failed = outcomes.filter((o) => !o.ok)
console.log(`\n${outcomes.length - failed.length} passed, ${failed.length} failed; build ${buildMs} ms, total ${Date.now() - started} ms`)
console.log(`screenshots: ${ARTIFACTS}`)
if (failed.length) {
  console.log(`failed:\n${failed.map((f) => `  ${f.name}: ${firstLine(f.error)}`).join('\n')}`)
  process.exit(1)
}

function indent(text) {
  return String(text).split('\n').map((l) => `     ${l}`).join('\n')
}

function firstLine(e) {
  return String(e?.message ?? e).split('\n')[0]
}
