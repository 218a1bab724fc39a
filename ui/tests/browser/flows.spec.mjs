// The browser flows on the fake backend: queue a refund end to end; an
// over-refund refused beside the amount field in English and Arabic; the Queue following
// sync events; Arabic turning the layout right-to-left.

import { assert, attr, Check, sel, until } from './lib.mjs'

const digits = (s) => String(s ?? '').replace(/[^0-9]/g, '')
const ARABIC_LETTERS = /[\u0621-\u064a]/

/** Minor units of a 3-decimal amount string ("12.345" -> 12345). */
const minor = (s) => {
  const [w, f = ''] = s.split('.')
  return Number(w) * 1000 + Number(f.padEnd(3, '0'))
}
const amount3 = (m) => `${Math.floor(m / 1000)}.${String(m % 1000).padStart(3, '0')}`

async function refundable(t, sid) {
  return t.mock((s) => window.__mock.backend.payment_actions({ session_id: s })[0].max_amount, sid)
}

/** Opens the refund dialog of payment `sid` and types `value` into the amount field. */
async function startRefund(t, sid, value) {
  await t.openPayment(sid)
  await (await t.visible('action-refund', 'the payment offers no action-refund button')).click()
  const input = await t.visible('amount-input', 'the refund dialog has no amount-input')
  await input.fill(value)
  return input
}

/** The amount error once shown, with checks that it is beside the field and tied to it. */
async function amountErrorBesideField(t, input, lang) {
  const page = t.page
  const error = page.locator(sel('amount-error')).first()
  const shownWhileTyping = await error.waitFor({ state: 'visible', timeout: 4_000 }).then(() => true, () => false)
  if (!shownWhileTyping) {
    // Not checked as you type: the core's refusal must then come at review.
    t.note(`${lang}: amount-error did not appear while typing; clicked action-review to get it`)
    await (await t.visible('action-review', 'no action-review button')).click()
    await error.waitFor({ state: 'visible', timeout: 4_000 }).catch(() => {
      throw new Check(`${lang}: no visible amount-error after an over-refund (typed and reviewed)`)
    })
  }
  const text = (await error.textContent())?.trim() ?? ''
  assert(text.length > 0, `${lang}: amount-error is empty`)
  const errorId = await error.getAttribute('id')
  assert(errorId, `${lang}: amount-error has no id, so nothing can point at it`)
  const describedBy = (await input.getAttribute('aria-describedby')) ?? ''
  assert(describedBy.split(/\s+/).includes(errorId),
    `${lang}: amount-input aria-describedby="${describedBy}" does not name the error's id "${errorId}"`)
  const invalid = await input.getAttribute('aria-invalid')
  if (invalid !== 'true') t.note(`${lang}: amount-input has aria-invalid=${invalid} while its error shows`)
  // Beside the field: right under (or next to) it, overlapping it horizontally.
  const a = await input.boundingBox()
  const b = await error.boundingBox()
  assert(a && b, `${lang}: amount-input or amount-error has no box`)
  const gapBelow = b.y - (a.y + a.height)
  const overlapX = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)
  const sameLine = Math.abs(b.y + b.height / 2 - (a.y + a.height / 2)) < a.height
  assert((gapBelow > -2 && gapBelow < 48 && overlapX > 0) || sameLine,
    `${lang}: amount-error is not beside amount-input (input ${JSON.stringify(a)}, error ${JSON.stringify(b)})`)
  return text
}

export const tests = [
  {
    name: 'queue a refund: payment, refund, amount, reason, review, confirm, then it is in the Queue',
    async run(t) {
      const page = await t.open()
      const [sid] = await t.mock(() => window.__mock.paymentsIn('paid', 1))
      const left = await refundable(t, sid)
      await t.openPayment(sid)
      const shown = await (await t.visible('balance-refundable', 'payment-detail has no balance-refundable')).textContent()
      assert(digits(shown).includes(digits(left)), `balance-refundable says "${shown}", the ledger's refundable is ${left}`)
      await (await t.visible('action-refund', 'the paid payment offers no action-refund')).click()
      await (await t.visible('amount-input')).fill('1.250')
      await (await t.visible('reason-input', 'the refund dialog has no reason-input')).fill('Customer returned one item')
      await (await t.visible('action-review', 'the refund dialog has no action-review')).click()
      const confirm = await t.visible('action-confirm', 'action-review led to no action-confirm step')
      const confirmText = await page.locator('main').innerText()
      assert(confirmText.includes('1.250') && confirmText.includes('KWD'),
        `the confirm step does not show the exact amount and currency (1.250 KWD): ${confirmText.slice(0, 300)}`)
      await t.shot('en-refund-confirm')
      const before = await t.mock(() => window.__mock.operations().length)
      assert((await t.mock(() => window.__mock.calls.queue_operation ?? 0)) === 0, 'something was queued before action-confirm')
      await confirm.click()
      const op = await until(
        () => t.mock((n) => {
          const ops = window.__mock.operations()
          return ops.length > n ? ops[ops.length - 1] : null
        }, before),
        'action-confirm queued nothing (no queue_operation reached the backend)')
      assert(op.kind === 'refund' && op.session_id === sid && op.amount === '1.250',
        `queued ${op.kind} ${op.amount} on ${op.session_id}, expected refund 1.250 on ${sid}`)
      assert(op.reason === 'Customer returned one item', `the reason sent was ${JSON.stringify(op.reason)}`)
      await t.go('queue')
      const row = page.locator(`${sel('queue-row')}[data-op-id="${op.id}"]`)
      await row.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check(`the Queue shows no queue-row with data-op-id=${op.id}`)
      })
      assert((await attr(row, 'data-status')) === 'queued', `the new row's data-status is ${await attr(row, 'data-status')}`)
      assert((await row.innerText()).includes('1.250'), `the new queue row does not show 1.250: ${await row.innerText()}`)
      await t.shot('en-queue-after-refund')

      // The list's refundable column follows: what the refund holds is no longer refundable.
      await t.go('payments')
      const listed = page.locator(`${sel('payment-row')}[data-session-id="${sid}"]`)
      await listed.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check(`payment ${sid} is not in the list after queueing its refund`)
      })
      const after = amount3(minor(left) - 1250)
      await until(async () => digits(await listed.innerText()).includes(digits(after)),
        async () => `the list row does not show the refundable ${after} after a 1.250 refund was queued: ${await listed.innerText()}`, 4_000)
    },
  },
  {
    name: "a refused over-refund's message appears beside the amount field, in English and in Arabic",
    timeout: 45_000,
    async run(t) {
      await t.open()
      const [sid] = await t.mock(() => window.__mock.paymentsIn('paid', 1))
      const left = await refundable(t, sid)
      const over = amount3(minor(left) + 1000)
      const input = await startRefund(t, sid, over)
      const en = await amountErrorBesideField(t, input, 'en')
      assert(digits(en).includes(digits(left)), `en: the error "${en}" does not say the refundable ${left}`)
      assert(!ARABIC_LETTERS.test(en), `en: the error is not in English: "${en}"`)
      assert(!(await t.mock(() => window.__mock.calls.queue_operation ?? 0)), 'an over-refund was queued')
      await t.shot('en-refund-over-error')
      await t.closeDialog()

      await t.setLanguage('ar')
      const inputAr = await startRefund(t, sid, over)
      const ar = await amountErrorBesideField(t, inputAr, 'ar')
      assert(ARABIC_LETTERS.test(ar), `ar: the error is not in Arabic: "${ar}"`)
      assert(digits(ar).includes(digits(left)) || digits(ar.replace(/[\u0660-\u0669]/g, (d) => d.charCodeAt(0) - 0x660)).includes(digits(left)),
        `ar: the error "${ar}" does not say the refundable ${left}`)
      assert(ar !== en, 'ar: the error is the same text as in English')
      await t.shot('ar-refund-over-error')
    },
  },
  {
    name: 'the Queue follows sync events: sent, recorded and outstanding change what it shows',
    async run(t) {
      const page = await t.open()
      const queued = await t.mock(() => window.__mock.operations().filter((o) => o.status === 'queued').map((o) => o.id))
      assert(queued.length >= 2, 'the mock seeded fewer than 2 queued operations')
      await t.go('queue')
      await t.visible('queue-list', 'the Queue screen has no queue-list')
      const id = queued[0]
      const row = page.locator(`${sel('queue-row')}[data-op-id="${id}"]`)
      await row.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check(`no queue-row for queued operation ${id}`)
      })
      assert((await attr(row, 'data-status')) === 'queued', `row ${id} starts as ${await attr(row, 'data-status')}`)
      const rowsBefore = await page.locator(sel('queue-row')).count()

      // 'sent': live progress, the row goes in flight.
      await t.mock((i) => window.__mock.emitEvent('sync-event', { event: 'sent', id: i, attempt: 1 }), id)
      await until(async () => (await attr(row, 'data-status')) === 'in_flight',
        async () => `after a 'sent' event row ${id} still says ${await attr(row, 'data-status')}`, 3_000)

      await t.mock((i) => window.__mock.emitEvent('sync-event', {
        event: 'recorded', id: i, kind: 'refund', session_id: window.__mock.operations().find((o) => o.id === i).session_id,
        profile: 'shop', attempt: 1, status: 'succeeded', detail: 'Ottu accepted the refund', code: null, params: null, retry_in_ms: null,
      }), id)
      const outcome = await until(async () => {
        if ((await row.count()) === 0) return 'removed'
        const s = await attr(row, 'data-status')
        return s === 'succeeded' ? 'succeeded' : null
      }, async () => `after a 'recorded succeeded' event row ${id} still says ${await attr(row, 'data-status')}`)
      t.note(`recorded -> the row was ${outcome}; rows ${rowsBefore} -> ${await page.locator(sel('queue-row')).count()}`)

      // The outstanding count: the worker says how many still wait.
      await t.mock(() => window.__mock.emitEvent('sync-event', { event: 'outstanding', total: 4321 }))
      await until(async () => digits(await page.locator('main').innerText()).includes('4321'),
        "after an 'outstanding' event of 4321 the Queue screen shows no 4321 (or 4,321)", 4_000)
      await t.shot('en-queue-after-events')
    },
  },
  {
    name: 'Arabic turns the layout right-to-left (dir=rtl, navigation on the right)',
    async run(t) {
      const page = await t.open({ lang: 'en' })
      const width = page.viewportSize().width
      const nav = page.locator('nav').first()
      const main = page.locator('main').first()
      assert((await page.evaluate(() => document.documentElement.dir)) === 'ltr', 'English does not start left-to-right')
      const navEn = await nav.boundingBox()
      const mainEn = await main.boundingBox()
      assert(navEn.x + navEn.width / 2 < width / 2 && navEn.x < mainEn.x, `English: the nav is not on the left (${JSON.stringify(navEn)})`)
      await t.setLanguage('ar')
      assert((await page.evaluate(() => document.documentElement.dir)) === 'rtl', '<html dir> is not rtl in Arabic')
      await until(async () => {
        const n = await nav.boundingBox()
        const m = await main.boundingBox()
        return n.x + n.width / 2 > width / 2 && n.x > m.x
      }, async () => `Arabic: the nav is not on the right (${JSON.stringify(await nav.boundingBox())})`)
      const label = await page.locator(sel('nav-payments')).innerText()
      assert(ARABIC_LETTERS.test(label), `Arabic: nav-payments reads "${label}"`)
      const align = await page.evaluate(() => getComputedStyle(document.querySelector('main')).direction)
      assert(align === 'rtl', `Arabic: main's direction is ${align}`)
      // Reload: the language is remembered and applied before the first paint.
      await page.reload()
      await t.visible('nav-payments')
      assert((await page.evaluate(() => document.documentElement.dir)) === 'rtl', 'after a reload the layout is not rtl')
    },
  },
  {
    name: "the header's profile lights follow the worker's offline and online events",
    async run(t) {
      const page = await t.open()
      const light = page.locator(`${sel('profile-light')}[data-profile="shop"]`)
      await light.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check('no profile-light for profile shop')
      })
      await t.mock(() => window.__mock.emitEvent('sync-event', { event: 'offline', retry_in_ms: 5000, profile: 'shop' }))
      await until(async () => (await light.getAttribute('data-connection')) === 'offline',
        async () => `after an 'offline' event for shop its light says ${await light.getAttribute('data-connection')}`, 3_000)
      await t.mock(() => window.__mock.emitEvent('sync-event', { event: 'online', profile: 'shop' }))
      await until(async () => (await light.getAttribute('data-connection')) === 'online',
        async () => `after an 'online' event for shop its light says ${await light.getAttribute('data-connection')}`, 3_000)
    },
  },
  {
    name: 'the digits setting writes amounts in Arabic-Indic digits, explicitly, in either language',
    async run(t) {
      const page = await t.open({ lang: 'en' })
      await t.go('settings')
      await (await t.visible('settings-digits', 'Settings has no settings-digits select')).selectOption('arab')
      await t.go('payments')
      const amount = page.locator(`${sel('payment-row')} bdi.amount`).first()
      await amount.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check('no amount (bdi.amount) in the first payment row')
      })
      await until(async () => /^[\u0660-\u0669٬٫,.\s]+/.test(await amount.innerText()) && !/[0-9]/.test(await amount.innerText()),
        async () => `with digits=arab an amount reads "${await amount.innerText()}"`, 3_000)
      const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('daftar.settings') ?? '{}'))
      assert(saved.digits === 'arab' && saved.language === 'en', `saved settings: ${JSON.stringify(saved)}`)
      await t.shot('en-payments-arab-digits')
      await t.setLanguage('ar')
      await t.go('payments')
      await until(async () => !/[0-9]/.test(await amount.innerText()), async () => `in Arabic with digits=arab an amount reads "${await amount.innerText()}"`, 3_000)
      await t.shot('ar-payments-arab-digits')
    },
  },
]
