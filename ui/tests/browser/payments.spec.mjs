// The Payments screen's own work on the fake backend: import by session id with progress
// and a per-id result, cancelling a long import, adding a payment by hand (its refusal
// beside the field first), and the state filter.

import { assert, Check, sel, until } from './lib.mjs'

export const tests = [
  {
    name: 'import by session id: progress, a per-id result, the new payments in the list',
    async run(t) {
      const page = await t.open({ query: { step: 40 } })
      await (await t.visible('import-open', 'no import-open')).click()
      await (await t.visible('import-ids')).fill('abc123def456\nmissing-0001\n7f3e9a11bb22')
      await (await t.visible('import-submit')).click()
      await t.visible('import-progress', 'an import shows no import-progress')
      const result = await t.visible('import-result', 'the import never showed its import-result')
      await until(async () => (await result.locator('li').count()) === 3, 'the result does not list the three ids')
      const ok = await result.locator('li[data-ok="true"]').allInnerTexts()
      const bad = await result.locator('li[data-ok="false"]').allInnerTexts()
      assert(ok.length === 2 && bad.length === 1 && bad[0].includes('missing-0001'),
        `per-id result: ok ${JSON.stringify(ok)}, failed ${JSON.stringify(bad)}`)
      await t.shot('en-import-result')
      await t.closeDialog()
      await page.locator(`${sel('payment-row')}[data-session-id="abc123def456"]`).waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check('the imported payment abc123def456 is not in the list after the import')
      })
    },
  },
  {
    name: 'a long import can be cancelled and says where it stopped',
    async run(t) {
      await t.open({ query: { step: 150 } })
      await (await t.visible('import-open')).click()
      const ids = Array.from({ length: 40 }, (_, k) => `bulk${String(k).padStart(4, '0')}aa`)
      await (await t.visible('import-ids')).fill(ids.join('\n'))
      await (await t.visible('import-submit')).click()
      const progress = await t.visible('import-progress')
      await until(async () => Number(await progress.getAttribute('value')) >= 1, 'the progress bar never moved')
      await (await t.visible('import-cancel', 'a running import offers no import-cancel')).click()
      const result = await t.visible('import-result', 'a cancelled import shows no import-result', 8_000)
      const added = await t.mock(() => window.__mock.backend.list_payments({ search: 'bulk' }).total)
      assert(added > 0 && added < 40, `the cancelled import added ${added} of 40`)
      const notReached = await result.locator('li[data-ok="false"]').count()
      assert(notReached === 40 - added, `the result marks ${notReached} ids not imported; ${40 - added} were not`)
      await t.shot('en-import-cancelled')
    },
  },
  {
    name: "add a payment by hand: a bad amount is refused beside its field, then it is added",
    async run(t) {
      const page = await t.open()
      await (await t.visible('add-payment-open')).click()
      await t.visible('add-payment-dialog')
      await page.locator('#add-session').fill('handmade0001')
      await page.locator('#add-order').fill('SHOP-42')
      const amount = page.locator('#add-amount')
      await amount.fill('12.3456')
      await (await t.visible('add-payment-submit')).click()
      const error = page.locator('#add-amount-error')
      await error.waitFor({ state: 'visible', timeout: 4_000 }).catch(() => {
        throw new Check('a 4-decimal KWD amount shows no error beside the amount field (#add-amount-error)')
      })
      assert(((await amount.getAttribute('aria-describedby')) ?? '').includes('add-amount-error'), 'the amount field does not point at its error')
      assert(/KWD/.test(await error.innerText()), `the error does not name the currency: ${await error.innerText()}`)
      await amount.fill('12.5')
      await page.locator(sel('add-payment-submit')).click()
      // The new payment opens; then it is at the top of the list.
      const detail = await t.visible('payment-detail', 'adding the payment did not open it')
      await until(async () => (await detail.innerText()).includes('handmade0001'), 'the opened payment is not the one added')
      await t.go('payments')
      await page.locator(`${sel('payment-row')}[data-session-id="handmade0001"]`).waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
        throw new Check('the payment added by hand is not in the list')
      })
      const added = await t.mock(() => window.__mock.backend.show_payment({ session_id: 'handmade0001' }))
      assert(added.amount === '12.500' && added.source === 'manual' && added.order_no === 'SHOP-42', `added ${JSON.stringify(added)}`)
    },
  },
  {
    name: 'the state filter lists only payments in that state',
    async run(t) {
      const page = await t.open()
      await (await t.visible('payments-state', 'no payments-state filter')).selectOption('refunded')
      await until(async () => {
        const states = await page.locator(`${sel('payment-row')} [data-state]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))
        return states.length > 0 && states.every((s) => s === 'refunded')
      }, 'with state=refunded the list shows other states (or nothing)')
      const total = await t.mock(() => window.__mock.backend.list_payments({ state: 'refunded' }).total)
      await until(async () => (await page.locator(sel('payments-count')).innerText()).replace(/[^0-9]/g, '') === String(total),
        async () => `payments-count says "${await page.locator(sel('payments-count')).innerText()}", the ledger has ${total}`)
    },
  },
]
