// End to end in the real app window (run by e2e/run.sh, inside Xvfb, a private keyring and
// with tauri-driver listening at WD_URL). Two fresh app runs, each on its own temp ledger and
// data directories:
//  1. English, against a daftar-sandbox process: add the profile and key in Settings, import
//     one payment, take the sandbox offline, queue a refund (it stays queued, the profile
//     shows offline), bring the sandbox back on the same port and state, sync now: the
//     refund succeeds, and reached the sandbox exactly once.
//  2. Arabic, the first-run demo: start it, payments appear, go offline, queue a refund, go
//     online: it succeeds.
//  3. Month end in the demo: a report file picked in the window reaches the shell as bytes
//     (the raw IPC body through WebKit), its dry run and commit; an export written to the
//     Downloads folder the XDG user dirs name.
// Every screen is saved as a PNG in both languages to target/e2e-artifacts/.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Key, Session, tid, until } from './wd.mjs'

const ROOT = resolve(import.meta.dirname, '..')
const TARGET = resolve(ROOT, process.env.E2E_TARGET ?? 'target')
const APP = process.env.E2E_APP ?? join(TARGET, 'debug', 'daftar-app')
const SANDBOX = join(TARGET, 'debug', 'daftar-sandbox')
const ARTIFACTS = join(TARGET, 'e2e-artifacts')
const WD_URL = process.env.WD_URL ?? 'http://127.0.0.1:4444'
// How long the sync worker may take to send a queued refund once Ottu answers again.
const SYNC_DEADLINE_MS = 60000
// How long the worker may take to notice Ottu is unreachable.
const OFFLINE_DEADLINE_MS = 30000

const work = mkdtempSync(join(tmpdir(), 'daftar-e2e-'))
mkdirSync(ARTIFACTS, { recursive: true })
after(() => rmSync(work, { recursive: true, force: true }))

const log = (...a) => console.log(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...a)

/** Runs `body` in a fresh app run (openApp); on failure saves the window as FAILED-<name>.png. */
async function withApp(name, body) {
  const s = await openApp(name)
  try {
    await body(s)
  } catch (e) {
    await s.screenshot(join(ARTIFACTS, `FAILED-${name}.png`)).catch(() => {})
    const html = await s.exec('return document.body.innerText').catch(() => '')
    log(`${name} failed; the window's text:\n${String(html).slice(0, 1500)}`)
    throw e
  } finally {
    await s.close()
  }
}

/** Opens a fresh app run: its own ledger, data (WebKit storage, demo state), config, cache. */
async function openApp(name) {
  const dir = join(work, name)
  for (const d of ['data', 'config', 'cache', 'logs', 'Downloads']) mkdirSync(join(dir, d), { recursive: true })
  // The Downloads folder exports go to: this run's own (the XDG user dirs file names it).
  writeFileSync(join(dir, 'config', 'user-dirs.dirs'), `XDG_DOWNLOAD_DIR="${join(dir, 'Downloads')}"\n`)
  // tauri-driver starts `application` with `args`: /usr/bin/env sets this run's variables.
  const env = [
    `DAFTAR_DB=${join(dir, 'ledger.sqlite3')}`,
    `DAFTAR_LOG_DIR=${join(dir, 'logs')}`,
    `XDG_DATA_HOME=${join(dir, 'data')}`,
    `XDG_CONFIG_HOME=${join(dir, 'config')}`,
    `XDG_CACHE_HOME=${join(dir, 'cache')}`,
  ]
  const started = Date.now()
  const s = await Session.open(WD_URL, '/usr/bin/env', [...env, APP])
  log(`${name}: app session open in ${Date.now() - started} ms`)
  return s
}

/** A daftar-sandbox process; `start()` again after `stop()` reuses its port and state. */
class Sandbox {
  constructor(statePath) {
    this.statePath = statePath
    this.port = 0
    this.child = null
  }

  async start() {
    const child = spawn(SANDBOX, ['--port', String(this.port), '--payments', '0', '--state', this.statePath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    await until('the sandbox to print its address and key', () => {
      if (child.exitCode !== null) throw new Error(`daftar-sandbox exited ${child.exitCode}: ${err}`)
      const url = /^daftar-sandbox listening on (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(out)
      const key = /^api key: (\S+)$/m.exec(out)
      if (!url || !key) return null
      this.baseUrl = url[1]
      this.port = Number(url[2])
      this.apiKey = key[1]
      return true
    }, 20000)
  }

  async stop() {
    const child = this.child
    this.child = null
    if (!child || child.exitCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }

  async post(path, body) {
    const r = await fetch(this.baseUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const text = await r.text()
    assert.ok(r.ok, `POST ${path}: ${r.status} ${text}`)
    return JSON.parse(text)
  }

  /** What "Ottu" holds (GET /_sandbox/state). */
  async snapshot() {
    const r = await fetch(this.baseUrl + '/_sandbox/state')
    assert.ok(r.ok)
    return r.json()
  }
}

// Every screen, numbered in the order a merchant meets them: en-01-first-run.png, ...
const SCREENS = ['first-run', 'import', 'payments', 'payment', 'refund-dialog', 'refund-confirm',
  'queue', 'payment-refunded', 'receipt', 'settings', 'reconcile']
const shot = async (s, lang, name) => {
  const n = SCREENS.indexOf(name) + 1
  assert.ok(n > 0, name)
  const file = join(ARTIFACTS, `${lang}-${String(n).padStart(2, '0')}-${name}.png`)
  await s.screenshot(file)
  log(`screenshot ${file}`)
}

async function setLanguage(s, lang) {
  await s.click(tid('nav-settings'))
  await s.select(tid('settings-language'), lang)
  await until(`<html lang=${lang}>`, async () =>
    (await s.exec('return document.documentElement.lang')) === lang)
}

/** The queue row of operation `opId` (or the only row when null), once its status is `status`. */
async function waitOpStatus(s, status, timeoutMs) {
  return until(`a queue row with status ${status}`, async () => {
    for (const row of await s.all(tid('queue-row'))) {
      const st = await s.cmd('GET', `/element/${row}/attribute/data-status`)
      if (st === status) return row
    }
    return null
  }, timeoutMs)
}

/** `amount` (a decimal string) as ui/src/lib/format.ts formatDecimal writes it for a
 * 3-decimal currency (KWD): padded, grouped by thousands, Latin or Arabic-Indic digits with
 * the Arabic separators U+066C / U+066B. Recomputed here so the test does not import the UI. */
function expectedAmount(amount, digits) {
  const [int, frac = ''] = amount.split('.')
  const arab = digits === 'arab'
  const grouped = int.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+$)/g, arab ? '\u066C' : ',')
  const text = `${grouped}${arab ? '\u066B' : '.'}${frac.padEnd(3, '0')}`
  return arab ? text.replace(/[0-9]/g, (d) => '٠١٢٣٤٥٦٧٨٩'[Number(d)]) : text
}

/** From the payment screen: refund `amount` with a reason, through the review step, which
 * must restate exactly that amount in the chosen `digits`. */
async function queueRefund(s, lang, amount, digits = 'latn') {
  await s.click(tid('action-refund'))
  await s.type(tid('amount-input'), amount)
  await s.type(tid('reason-input'), 'e2e: customer returned one item')
  await shot(s, lang, 'refund-dialog')
  await s.click(tid('action-review'))
  await s.find(tid('action-confirm'))
  // The confirm step repeats the exact amount, in the chosen digits, before anything is queued.
  const restated = await s.exec(`return document.querySelector('[data-testid="action-review-amount"]')?.textContent ?? ''`)
  const expected = expectedAmount(amount, digits)
  assert.ok(restated.startsWith(`${expected}\u00A0`), `the confirm step restates ${expected}: ${JSON.stringify(restated)}`)
  await shot(s, lang, 'refund-confirm')
  await s.click(tid('action-confirm'))
}

test('sandbox: profile and key in Settings, import, refund queued offline, synced once back online', async () => {
  const sandbox = new Sandbox(join(work, 'ottu.sqlite3'))
  await sandbox.start()
  try {
    await sandbox.post('/_sandbox/payments', { session_id: 'e2e-1001', order_no: 'INV-1001', amount: '25.500', state: 'paid' })
    await sandbox.post('/_sandbox/payments', { session_id: 'e2e-1002', order_no: 'INV-1002', amount: '40.000', state: 'authorized' })
    await withApp('sandbox-run', async (s) => {
      const lang = 'en'
      // An empty ledger: the first-run panel says what to do.
      await s.find(tid('first-run'), 30000)
      await shot(s, lang, 'first-run')

      // Settings: the profile, then its API key (straight to the keyring).
      await s.click(tid('nav-settings'))
      await s.type(tid('profile-name'), 'shop')
      await s.type(tid('profile-base-url'), sandbox.baseUrl)
      await s.type(tid('profile-currency'), 'KWD')
      await s.click(tid('profile-save'))
      await s.find(tid('key-secret'))
      await s.select(tid('key-kind'), 'api_key') // Basic is the recommended default
      await s.type(tid('key-secret'), sandbox.apiKey)
      await s.click(tid('key-save'))
      await s.find(tid('key-stored'))
      await s.click(tid('test-connection'))
      const checked = await s.waitText(tid('test-connection-result'), /\S/)
      assert.equal(await s.attr(tid('test-connection-result'), 'data-ok'), 'true', checked)
      // The secret field does not keep the key.
      assert.equal(await s.exec(`return document.querySelector('[data-testid="key-secret"]').value`), '')
      await shot(s, lang, 'settings')

      // Import one payment by session id.
      await s.click(tid('nav-payments'))
      await s.click(tid('import-open'))
      await s.type(tid('import-ids'), 'e2e-1001')
      await s.click(tid('import-submit'))
      await s.find(tid('import-result', ' li[data-ok="true"]'), 30000)
      await shot(s, lang, 'import')
      await s.key(Key.Escape)
      await s.find(tid('payment-row', '[data-session-id="e2e-1001"]'), 15000)
      assert.equal((await s.all(tid('payment-row'))).length, 1)
      await shot(s, lang, 'payments')

      // The shop goes offline.
      await sandbox.stop()
      await openPayment(s, 'e2e-1001')
      await s.waitText(tid('balance-refundable'), /25[.,٫]500/)
      await shot(s, lang, 'payment')
      await queueRefund(s, lang, '10.250')

      // Queued, and it stays queued while Ottu is unreachable; the profile's light says so.
      await s.click(tid('nav-queue'))
      const row = await waitOpStatus(s, 'queued', 15000)
      const opId = await s.cmd('GET', `/element/${row}/attribute/data-op-id`)
      await until('the profile light to show offline', async () =>
        (await s.attr(tid('profile-light', '[data-profile="shop"]'), 'data-connection')) === 'offline', OFFLINE_DEADLINE_MS)
      assert.equal(await s.attr(tid('queue-row', `[data-op-id="${opId}"]`), 'data-status'), 'queued')
      await shot(s, lang, 'queue')

      // Back online on the same port with the same state; sync now.
      await sandbox.start()
      await s.click(tid('sync-now'))
      await waitSucceeded(s, opId, 'e2e-1001')
      const state = await sandbox.snapshot()
      // Ottu (its state file, across the restart) applied exactly this one refund, once.
      assert.deepEqual(state.operations.map((o) => [o.session_id, o.operation, o.amount, o.outcome]),
        [['e2e-1001', 'refund', '10.250', 'applied']], JSON.stringify(state.operations))
      assert.equal(state.counters.operations_replayed, 0)
      await until('the profile light to show online', async () =>
        (await s.attr(tid('profile-light', '[data-profile="shop"]'), 'data-connection')) === 'online', OFFLINE_DEADLINE_MS)

      // The payment now shows the refund; its receipt; the reconciliation placeholder.
      await s.waitText(tid('balance-refundable'), /15[.,٫]250/)
      await shot(s, lang, 'payment-refunded')
      await receipt(s, lang)
      await s.click(tid('nav-reconcile'))
      await shot(s, lang, 'reconcile')
    })
  } finally {
    await sandbox.stop()
  }
})

/** From anywhere: the Payments screen, then the payment `sessionId` (through its row's
 * button, which the keyboard uses too). */
async function openPayment(s, sessionId) {
  await s.click(tid('nav-payments'))
  await s.click(tid('payment-row', `[data-session-id="${sessionId}"] button`))
  await s.find(tid('payment-detail'))
  await s.find(tid('timeline'))
}

/** From the payment screen: the refund's receipt, and its print button calls print()
 * (stubbed: the system print dialog would block WebDriver). */
async function receipt(s, lang) {
  await s.click(tid('receipt-open'))
  await s.find(tid('receipt'))
  await s.exec(`window.__printed = 0; window.print = () => { window.__printed += 1 }`)
  await shot(s, lang, 'receipt')
  await s.click(tid('receipt-print'))
  await until('print() to be called', async () => (await s.exec('return window.__printed')) > 0)
  await s.key(Key.Escape)
  await until('the receipt to close', async () => (await s.all(tid('receipt'))).length === 0)
}

/** On the Queue screen: operation `opId` leaves the queue (which lists only unfinished
 * work) and the payment's timeline shows it succeeded. */
async function waitSucceeded(s, opId, sessionId) {
  await until(`operation ${opId} to leave the queue`, async () =>
    (await s.all(tid('queue-row', `[data-op-id="${opId}"]`))).length === 0, SYNC_DEADLINE_MS)
  await openPayment(s, sessionId)
  const statuses = await s.exec(`return [...document.querySelectorAll('[data-testid="timeline"] .entry.operation [data-status]')].map((e) => e.dataset.status)`)
  assert.deepEqual(statuses, ['succeeded'], `the refund succeeded: ${statuses}`)
}

test('demo, in Arabic: first-run demo, refund offline, online again: succeeded', async () => {
  await withApp('demo-run', async (s) => {
    const lang = 'ar'
    await s.find(tid('first-run'), 30000)
    await setLanguage(s, lang)
    // Arabic-Indic digits too, so the confirm step's amount is checked in them.
    await s.select(tid('settings-digits'), 'arab')
    assert.equal(await s.exec('return document.documentElement.dir'), 'rtl')
    await shot(s, lang, 'settings')
    await s.click(tid('nav-payments'))
    await s.find(tid('first-run'))
    await shot(s, lang, 'first-run')

    await s.click(tid('demo-start'))
    await until('the demo payments to appear', async () => (await s.all(tid('payment-row'))).length > 0, 60000)
    await s.find(tid('demo-badge'))
    await shot(s, lang, 'payments')
    await s.click(tid('import-open'))
    await s.find(tid('import-ids'))
    await shot(s, lang, 'import')
    await s.key(Key.Escape)
    await until('the import dialog to close', async () => (await s.all(tid('import-ids'))).length === 0)

    // Offline: the toggle says so.
    await s.click(tid('demo-online-toggle'))
    await until('the demo to be offline', async () => {
      const t = tid('demo-online-toggle')
      const pressed = (await s.attr(t, 'aria-pressed')) ?? (await s.attr(t, 'aria-checked'))
      return pressed === 'false'
    })

    // A paid payment (refundable): filter the list by state, open the first.
    await s.select(tid('payments-state'), 'paid')
    const paidRow = tid('payment-row', ':has([data-state="paid"])')
    await until('paid payments only', async () => {
      const states = await s.exec(`return [...document.querySelectorAll('[data-testid="payment-row"] [data-state]')].map((e) => e.dataset.state)`)
      return states.length > 0 && states.every((st) => st === 'paid')
    })
    const refundable = await s.attr(paidRow, 'data-session-id')
    await openPayment(s, refundable)
    await s.find(tid('action-refund', ':enabled'))
    await shot(s, lang, 'payment')
    await queueRefund(s, lang, '1', 'arab')

    await s.click(tid('nav-queue'))
    const row = await waitOpStatus(s, 'queued', 15000)
    const opId = await s.cmd('GET', `/element/${row}/attribute/data-op-id`)
    await shot(s, lang, 'queue')

    // Online again: the worker sends it (sync now, so the test does not wait for a backoff).
    await s.click(tid('demo-online-toggle'))
    await until('the demo to be online', async () => {
      const t = tid('demo-online-toggle')
      return ((await s.attr(t, 'aria-pressed')) ?? (await s.attr(t, 'aria-checked'))) === 'true'
    })
    await s.click(tid('sync-now'))
    await waitSucceeded(s, opId, refundable)
    await shot(s, lang, 'payment-refunded')
    await receipt(s, lang)
    await s.click(tid('nav-reconcile'))
    await shot(s, lang, 'reconcile')
  })
})

test('month end in the demo: a report file picked in the window, checked and imported; an export in Downloads', async () => {
  await withApp('month-end', async (s) => {
    await s.find(tid('first-run'), 30000)
    await s.click(tid('demo-start'))
    await until('the demo payments to appear', async () => (await s.all(tid('payment-row'))).length > 0, 60000)
    await s.click(tid('nav-import-report'))
    await s.find(tid('import-report-source-file'))
    // The window picks a file as a merchant would (the input's files, then change): the UI
    // sends its bytes to report_upload as the raw IPC body.
    await s.exec(`const input = document.querySelector('[data-testid="import-report-source-file"]');
      const csv = 'session_id,order_no,amount,currency,state,created\\r\\nE2E-0001,ORD-E2E-1,3.250,KWD,paid,2026-11-03T10:00:00Z\\r\\nE2E-0002,ORD-E2E-2,x,KWD,paid,2026-11-03T10:00:00Z\\r\\n';
      const dt = new DataTransfer();
      dt.items.add(new File([csv], 'نوفمبر e2e.csv', { type: 'text/csv' }));
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));`)
    await s.waitText(tid('import-report-source-uploaded'), /نوفمبر e2e\.csv/, 15000)
    await s.click(tid('import-report-check'))
    await s.find(tid('import-report-plan'), 30000)
    assert.match(await s.text(tid('count-added')), /1/)
    assert.match(await s.text(tid('count-rejected')), /1/)
    await s.screenshot(join(ARTIFACTS, 'en-20-import-report-plan.png'))
    await s.click(tid('import-report-commit'))
    await s.waitText(tid('import-report-committed'), /1 new/, 30000)

    await s.click(tid('nav-export'))
    await s.click(tid('export-submit'))
    const path = await s.waitText(tid('export-path'), /daftar-ledger-.*\.csv$/, 30000)
    const downloads = join(work, 'month-end', 'Downloads')
    assert.ok(path.startsWith(downloads), `exported to ${path}, not ${downloads}`)
    assert.ok(existsSync(path), `${path} does not exist`)
    const text = readFileSync(path, 'utf8')
    assert.ok(text.startsWith('\uFEFF'), 'the CSV has no BOM')
    assert.ok(text.includes('E2E-0001'), 'the imported payment is not in the export')
    await s.screenshot(join(ARTIFACTS, 'en-21-export-done.png'))
  })
})
