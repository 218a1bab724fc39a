// The newcomer's path on the fake backend with its fake sync worker: start the demo from
// the first-run panel, take the sandbox offline, queue a refund, bring it back, watch the
// queue empty as the worker records the success, then open the refund's receipt in
// English and Arabic and print it (window.print is counted, not opened). axe-core scans
// the demo's header and the receipt on the way.

import { assert, attr, Check, sel, until } from './lib.mjs'

export const tests = [
  {
    name: 'demo: start it, refund while offline, back online, synced, receipt in English and Arabic',
    timeout: 45_000,
    async run(t) {
      const page = await t.open({ query: { empty: 1, worker: 1, step: 60 } })
      await (await t.visible('demo-start', 'the first-run panel offers no demo-start')).click()
      await t.visible('demo-badge', 'no demo-badge after starting the demo')
      await page.locator(sel('payment-row')).first().waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check('the demo started but the payments list shows no payment')
      })
      await t.shot('en-demo-payments')
      const violations = [...(await t.axe('en demo header'))]

      const toggle = await t.visible('demo-online-toggle', 'no demo-online-toggle')
      assert((await toggle.getAttribute('aria-pressed')) === 'true', 'the demo does not start online')
      await toggle.click()
      await until(async () => (await toggle.getAttribute('aria-pressed')) === 'false', 'demo-online-toggle did not switch offline')
      // (The header light following the switch is its own test in flows.spec.mjs.)

      const sid = await t.mock(() => window.__mock.backend.list_payments({ profile: 'demo', state: 'paid' }).payments[0].session_id)
      await t.openPayment(sid)
      await (await t.visible('action-refund')).click()
      await (await t.visible('amount-input')).fill('2.000')
      await (await t.visible('reason-input')).fill('Wrong size')
      await (await t.visible('action-review')).click()
      await (await t.visible('action-confirm')).click()
      await t.visible('queued-notice', 'no queued-notice after confirming the refund')
      const op = await t.mock(() => window.__mock.operations().at(-1))
      assert(op.kind === 'refund' && op.amount === '2.000' && op.profile === 'demo', `queued ${JSON.stringify(op)}`)

      await t.go('queue')
      const row = page.locator(`${sel('queue-row')}[data-op-id="${op.id}"]`)
      await row.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check(`the Queue shows no row for the offline refund ${op.id}`)
      })
      assert((await attr(row, 'data-status')) === 'queued', `offline, the refund is ${await attr(row, 'data-status')}`)
      await t.shot('en-demo-queue-offline')

      await toggle.click()
      await until(() => t.mock((id) => window.__mock.operations().find((o) => o.id === id).status, op.id).then((s) => s === 'succeeded'),
        'back online, the fake worker did not record the refund as succeeded')
      await until(async () => (await row.count()) === 0 || (await attr(row, 'data-status')) === 'succeeded',
        async () => `the Queue still shows the synced refund as ${await attr(row, 'data-status')}`)

      // The receipt, from the payment's timeline.
      await t.openPayment(sid)
      const timeline = await t.visible('timeline', 'payment-detail has no timeline')
      await until(async () => (await timeline.locator('[data-status="succeeded"]').count()) > 0, 'the timeline does not show the refund succeeded')
      await page.evaluate(() => {
        window.__printed = 0
        window.print = () => {
          window.__printed += 1
        }
      })
      await timeline.locator(sel('receipt-open')).first().click()
      const receipt = await t.visible('receipt', 'receipt-open showed no receipt')
      assert((await receipt.innerText()).includes('2.000'), `the receipt does not show 2.000: ${await receipt.innerText()}`)
      await t.shot('en-receipt')
      violations.push(...(await t.axe('en receipt')))
      await page.locator(sel('receipt-language')).selectOption('ar')
      await until(async () => (await receipt.getAttribute('dir')) === 'rtl' && /[\u0621-\u064a]/.test(await receipt.innerText()),
        'the receipt in Arabic is not right-to-left Arabic')
      await t.shot('ar-receipt')
      violations.push(...(await t.axe('ar receipt')))
      await page.locator(sel('receipt-print')).click()
      assert((await page.evaluate(() => window.__printed)) === 1, 'receipt-print did not call window.print()')
      await t.closeDialog()

      // Leaving the demo reopens the merchant's own (here empty) ledger: the first-run panel again.
      await (await t.visible('demo-leave', 'the demo bar has no demo-leave')).click()
      await t.visible('first-run', 'after demo-leave the empty ledger does not show the first-run panel')
      assert((await page.locator(sel('demo-badge')).count()) === 0, 'the demo badge is still shown after leaving the demo')
      assert(violations.length === 0, `${violations.length} serious/critical axe violation(s):\n${violations.join('\n')}`)
    },
  },
]
