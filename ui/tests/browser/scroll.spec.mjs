// Scrolling 1,000,000 payments: ~3 s of programmatic scrolling (wheel-sized steps, then
// long jumps like a dragged scrollbar) while requestAnimationFrame records every frame;
// no frame may take longer than 50 ms. Also times the search box's round trip. The
// figures go to tests/browser/results/scroll.json (for BENCHMARKS.md).

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { assert, Check, sel, until } from './lib.mjs'

const PAYMENTS = 1_000_000
const MAX_FRAME_MS = 50

export const tests = [
  {
    name: `scrolling ${PAYMENTS.toLocaleString('en')} payments: no frame over ${MAX_FRAME_MS} ms; search round trip`,
    timeout: 60_000,
    async run(t) {
      // 1 ms per command: an IPC round trip, so pages arrive after a turn of the event loop.
      const page = await t.open({ query: { payments: PAYMENTS, latency: 1 } })
      await t.visible('payments-list', 'no payments-list')
      await page.locator(sel('payment-row')).first().waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check('the payments list shows no payment-row')
      })
      const pagesBefore = await t.mock(() => window.__mock.calls.list_payments ?? 0)

      const run = await page.evaluate(async ({ sel }) => {
        const list = document.querySelector(sel)
        if (!list) return { error: 'no payments-list' }
        // The element that scrolls: the list itself or its nearest scrolling ancestor.
        let scroller = list
        while (scroller && !(scroller.scrollHeight > scroller.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(scroller).overflowY))) {
          scroller = scroller.parentElement
        }
        if (!scroller) return { error: 'nothing scrolls around payments-list' }
        const total = scroller.scrollHeight - scroller.clientHeight
        const firstRow = () => document.querySelector('[data-testid="payment-row"]')?.getAttribute('data-session-id') ?? null
        const startRow = firstRow()
        const frames = []
        let last = performance.now()
        const t0 = last
        let step = 0
        const seen = new Set()
        await new Promise((done) => {
          const tick = (now) => {
            frames.push(now - last)
            last = now
            const elapsed = now - t0
            if (elapsed < 1_500) {
              // Wheel-sized: three notches a frame, about 21,000 px a second.
              scroller.scrollTop += 360
            } else if (elapsed < 3_000) {
              // Dragging the scrollbar: long jumps through the whole list and back.
              step++
              const fraction = (Math.sin(step / 9) + 1) / 2
              scroller.scrollTop = Math.round(total * fraction)
            } else {
              done()
              return
            }
            const r = firstRow()
            if (r) seen.add(r)
            requestAnimationFrame(tick)
          }
          requestAnimationFrame(tick)
        })
        frames.shift() // the first delta is from setup, not a frame
        return { frames, startRow, endRow: firstRow(), distinctFirstRows: seen.size, scrollHeight: scroller.scrollHeight, tag: scroller.tagName, duration: performance.now() - t0 }
      }, { sel: sel('payments-list') })
      if (run.error) throw new Check(run.error)

      // After the run, the rows on screen must be real ones from deep in the list.
      await until(async () => (await page.locator(sel('payment-row')).count()) > 0, 'no payment-row is rendered after scrolling')
      const pagesAfter = await t.mock(() => window.__mock.calls.list_payments ?? 0)
      const sorted = [...run.frames].sort((a, b) => a - b)
      const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
      const figures = {
        payments: PAYMENTS,
        duration_ms: Math.round(run.duration),
        frames: run.frames.length,
        max_frame_ms: +sorted[sorted.length - 1].toFixed(1),
        p95_frame_ms: +pct(95).toFixed(1),
        p50_frame_ms: +pct(50).toFixed(1),
        frames_over_50ms: run.frames.filter((f) => f > MAX_FRAME_MS).length,
        pages_fetched: pagesAfter - pagesBefore,
        distinct_first_rows: run.distinctFirstRows,
        scroll_height_px: run.scrollHeight,
      }

      // The search box's round trip: typing to the matching row on screen.
      const target = await t.mock(() => {
        const b = window.__mock.backend
        const i = 777_777
        return { order: b.gen.orderNo(i) ?? b.gen.orderNo(i + 1), sid: b.gen.sessionId(b.gen.orderNo(i) ? i : i + 1) }
      })
      await t.visible('payments-search', 'no payments-search box')
      const searchMs = await page.evaluate(async ({ input, row, order, sid }) => {
        const box = document.querySelector(input)
        const t0 = performance.now()
        box.focus()
        box.value = order
        box.dispatchEvent(new Event('input', { bubbles: true }))
        return new Promise((done) => {
          const poll = () => {
            const first = document.querySelector(row)
            if (first && first.getAttribute('data-session-id') === sid) done(performance.now() - t0)
            else if (performance.now() - t0 > 10_000) done(-1)
            else requestAnimationFrame(poll)
          }
          poll()
        })
      }, { input: sel('payments-search'), row: sel('payment-row'), order: target.order, sid: target.sid })
      figures.search_query = target.order
      figures.search_roundtrip_ms = searchMs < 0 ? null : Math.round(searchMs)
      figures.measured_at = new Date().toISOString()
      figures.browser = `chromium ${t.page.context().browser().version()} headless, 1280x800`
      await writeFile(join(t.results, 'scroll.json'), `${JSON.stringify(figures, null, 2)}\n`)
      t.note(`scroll: ${JSON.stringify(figures)}`)
      await t.shot('en-payments-after-scroll')

      assert(run.endRow !== run.startRow && run.distinctFirstRows > 20,
        `scrolling did not move through the list (first row ${run.startRow} -> ${run.endRow}, ${run.distinctFirstRows} distinct)`)
      assert(figures.pages_fetched > 0, 'scrolling 1,000,000 payments fetched no page')
      assert(figures.max_frame_ms <= MAX_FRAME_MS,
        `a frame took ${figures.max_frame_ms} ms (> ${MAX_FRAME_MS}); ${figures.frames_over_50ms} of ${figures.frames} frames over`)
      assert(searchMs >= 0, `searching ${target.order} never showed its payment (${target.sid}) first`)
    },
  },
]
