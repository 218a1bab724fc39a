// axe-core on every screen in both languages (no serious or critical violation), saving a
// screenshot of each to target/ui-artifacts/<lang>-<n>-<screen>.png on the way.

import { assert, Check, sel } from './lib.mjs'

/** Visits each screen in turn; `check(label)` scans it and saves its screenshot. */
async function everyScreen(t, lang) {
  const found = []
  const check = async (n, screen) => {
    found.push(...(await t.axe(`${lang} ${screen}`)))
    await t.shot(`${lang}-${n}-${screen}`)
  }

  // A fresh machine: the first-run panel with the demo offer.
  let page = await t.open({ lang, query: { empty: 1 } })
  await t.visible('first-run', 'an empty ledger does not show the first-run panel')
  await check(1, 'first-run')
  await page.close()

  page = await t.open({ lang })
  await t.visible('payments-list', 'no payments-list')
  await page.locator(sel('payment-row')).first().waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
    throw new Check('the payments list shows no payment-row')
  })
  await check(2, 'payments')
  // The current screen's marker sits on the reading start side: left in English, right in Arabic.
  const side = await page.locator(sel('nav-payments')).evaluate((b) => {
    const box = b.getBoundingClientRect()
    const marker = getComputedStyle(b, '::before')
    const left = parseFloat(marker.left)
    const right = parseFloat(marker.right)
    if (marker.content === 'none' || parseFloat(marker.width) < 2) return 'none'
    return Number.isFinite(left) && left <= 1 && (!Number.isFinite(right) || right > box.width / 2) ? 'left' : 'right'
  })
  assert(side === (lang === 'ar' ? 'right' : 'left'), `the current nav marker is on the ${side} in ${lang}`)

  await (await t.visible('import-open', 'the Payments screen has no import-open')).click()
  await t.visible('import-ids', 'the import dialog has no import-ids field')
  await check(3, 'import-dialog')
  await t.closeDialog()

  await (await t.visible('add-payment-open', 'the Payments screen has no add-payment-open')).click()
  await t.visible('add-payment-dialog', 'add-payment-open opened no add-payment-dialog')
  await check(4, 'add-payment-dialog')
  await t.closeDialog()

  const [sid] = await t.mock(() => window.__mock.paymentsIn('paid', 1))
  await t.openPayment(sid)
  await t.visible('action-refund', 'the paid payment offers no action-refund')
  await check(5, 'payment')

  await page.locator(sel('action-refund')).click()
  await t.visible('amount-input', 'the refund dialog has no amount-input')
  await check(6, 'action-dialog')
  await t.closeDialog()

  await t.go('queue')
  await t.visible('queue-row', 'the Queue screen shows no queue-row')
  await check(7, 'queue')

  await page.locator(sel('op-drop')).first().click()
  await t.visible('confirm-yes', 'op-drop asked for no confirmation (confirm-yes)')
  await check(8, 'queue-confirm')
  await t.closeDialog()

  await t.go('settings')
  await t.visible('settings-language', 'the Settings screen has no settings-language')
  await check(9, 'settings')

  await t.go('reconcile')
  await page.locator('main h1').first().waitFor({ state: 'visible', timeout: 8_000 })
  await check(10, 'reconcile')
  return found
}

export const tests = ['en', 'ar'].map((lang) => ({
  name: `axe-core finds no serious or critical violation on any screen (${lang})`,
  timeout: 60_000,
  async run(t) {
    const violations = await everyScreen(t, lang)
    assert(violations.length === 0, `${violations.length} serious/critical axe violation(s):\n${violations.join('\n')}`)
  },
}))
