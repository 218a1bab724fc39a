// Helpers the browser specs share: open the app on the fake backend, wait by polling with
// a deadline (never a fixed sleep), switch language through Settings, scan with axe-core,
// save screenshots.

import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const AXE = require.resolve('axe-core/axe.min.js')

/** A failure whose message says it all (the runner prints no stack for it). */
export class Check extends Error {
  constructor(message) {
    super(message)
    this.plain = true
  }
}

export function assert(condition, message) {
  if (!condition) throw new Check(message)
}

/** Polls `probe` (in node) until it returns a truthy value; throws `message` at the deadline. */
export async function until(probe, message, timeout = 8_000, every = 25) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try {
      last = await probe()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? ` (last error: ${last.message.split('\n')[0]})` : ''
      throw new Check(`${typeof message === 'function' ? await message(last) : message}${detail}`)
    }
    await new Promise((r) => setTimeout(r, every))
  }
}

export const sel = (id) => `[data-testid="${id}"]`

/** An attribute of the first element `loc` matches, or null when none does: no waiting
 *  (Playwright's getAttribute waits for the element, so a row that went away stalls it). */
export const attr = (loc, name) => loc.evaluateAll((els, n) => els[0]?.getAttribute(n) ?? null, name)

export async function makeContext({ browser, base, artifacts, results, name }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, reducedMotion: 'reduce' })
  const pageErrors = []
  const notes = []
  let page = null

  const ctx = {
    base, artifacts, results, pageErrors, notes,
    get page() {
      if (!page) throw new Error('open() first')
      return page
    },
    note(text) {
      notes.push(text)
    },

    /** Opens the app on the fake backend. `query`: the mock's options (see tests/mock/entry.ts). */
    async open({ lang = 'en', digits = 'latn', query = {} } = {}) {
      await context.addInitScript(([l, d]) => {
        // Only on the first load of this context: a later reload keeps what the test chose.
        if (location.protocol !== 'http:') return
        if (!sessionStorage.getItem('daftar.test.seeded')) {
          localStorage.setItem('daftar.settings', JSON.stringify({ language: l, digits: d }))
          sessionStorage.setItem('daftar.test.seeded', '1')
        }
      }, [lang, digits])
      page = await context.newPage()
      // Fail in seconds, not Playwright's 30 s: the app answers from memory.
      page.setDefaultTimeout(8_000)
      page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`))
      page.on('console', (m) => {
        // A failed load is reported below with its URL.
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`console.error: ${m.text()}`)
      })
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) pageErrors.push(`HTTP ${r.status()} ${r.url()}`)
      })
      const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString()
      await page.goto(`${base}/tests/mock/mock.html${qs ? `?${qs}` : ''}`)
      await ctx.visible('nav-payments', 'the app did not start (no nav-payments)')
      return page
    },

    /** The element with `data-testid=id` once visible (first match). */
    async visible(id, message, timeout = 8_000) {
      const loc = page.locator(sel(id)).first()
      try {
        await loc.waitFor({ state: 'visible', timeout })
      } catch {
        throw new Check(message ?? `no visible [data-testid=${id}] within ${timeout} ms`)
      }
      return loc
    },

    async go(screen) {
      await page.locator(sel(`nav-${screen}`)).click()
    },

    /** Closes an open dialog the way a merchant would (its cancel button, else Escape). */
    async closeDialog() {
      const cancel = page.locator(`dialog[open] :is(${sel('action-cancel-dialog')}, ${sel('confirm-no')})`).first()
      if (await cancel.isVisible()) await cancel.click()
      else await page.keyboard.press('Escape')
      await until(async () => (await page.locator('dialog[open]').count()) === 0, 'the dialog did not close', 4_000)
    },

    /** Switches the language the way a merchant does: Settings -> language select. */
    async setLanguage(lang) {
      await ctx.go('settings')
      const select = await ctx.visible('settings-language', 'Settings has no settings-language select')
      await select.selectOption(lang)
      await until(() => page.evaluate((l) => document.documentElement.lang === l, lang), `<html lang> did not become ${lang}`)
    },

    mock(fn, arg) {
      return page.evaluate(fn, arg)
    },

    /** Opens a payment through the list (searching for it first if it is not on screen). */
    async openPayment(sid) {
      await ctx.go('payments')
      await ctx.visible('payments-list', 'the Payments screen shows no payments-list')
      const row = page.locator(`${sel('payment-row')}[data-session-id="${sid}"]`).first()
      if (!(await row.isVisible().catch(() => false))) {
        const search = await ctx.visible('payments-search', 'the Payments screen has no payments-search box')
        await search.fill(sid.slice(0, 12))
      }
      await row.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check(`no payment-row with data-session-id=${sid} in the list`)
      })
      await row.click()
      const detail = await ctx.visible('payment-detail', 'clicking a payment-row did not open payment-detail')
      await until(async () => (await detail.textContent())?.includes(sid) || (await page.locator(sel('balance-refundable')).count()) > 0,
        'payment-detail never showed the payment')
      return detail
    },

    /** axe-core on the page as it is now: serious and critical violations (all printed). */
    async axe(label) {
      if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ path: AXE })
      const result = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] })
        return r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} :: ${n.failureSummary?.replace(/\s+/g, ' ').slice(0, 240)}`),
          count: v.nodes.length,
        }))
      })
      const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      const minor = result.filter((v) => !bad.includes(v))
      if (minor.length) notes.push(`axe ${label}: minor/moderate: ${minor.map((v) => `${v.id}(${v.count})`).join(', ')}`)
      return bad.map((v) => `[${label}] ${v.impact} ${v.id}: ${v.help} (${v.count} nodes)\n${v.nodes.map((n) => `    ${n}`).join('\n')}`)
    },

    /** Saves target/ui-artifacts/<file>.png after two frames (so the last change is painted). */
    async shot(file) {
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
      await page.screenshot({ path: join(artifacts, `${file}.png`) })
    },

    async failureShot() {
      if (page) await page.screenshot({ path: join(artifacts, 'failures', `${name.replace(/[^a-z0-9]+/gi, '-')}.png`) })
    },

    async close() {
      await context.close()
    },
  }
  return ctx
}
