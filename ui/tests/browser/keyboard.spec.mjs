// Every action reachable by keyboard, with visible focus: a refund queued with the keyboard
// alone (Tab, arrows, Enter, typing), checking on the way that each focused control shows
// a focus ring.

import { assert, Check, sel, until } from './lib.mjs'

/** Presses Tab until `match` (run in the page on the focused element) is true. */
async function tabTo(page, what, match, max = 60) {
  for (let k = 0; k < max; k++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate(match)) return
  }
  throw new Check(`${what} is not reachable with Tab (${max} presses)`)
}

/** The focused element shows a focus indicator: an outline or a box shadow. */
async function focusVisible(page, what) {
  const style = await page.evaluate(() => {
    const el = document.activeElement
    if (!el || el === document.body) return null
    const s = getComputedStyle(el)
    return { outline: `${s.outlineStyle} ${s.outlineWidth}`, shadow: s.boxShadow, tag: el.tagName, testid: el.getAttribute('data-testid') }
  })
  assert(style, `${what}: nothing has the focus`)
  const outlined = !style.outline.startsWith('none') && !style.outline.endsWith(' 0px')
  assert(outlined || (style.shadow && style.shadow !== 'none'), `${what}: the focused ${style.tag} shows no focus ring (${JSON.stringify(style)})`)
}

export const tests = [
  {
    name: 'a refund can be queued with the keyboard alone, and focus is always visible',
    async run(t) {
      const page = await t.open()
      const [sid] = await t.mock(() => window.__mock.paymentsIn('paid', 1))
      await page.locator(`${sel('payment-row')}[data-session-id="${sid}"]`).waitFor({ state: 'visible' })

      await tabTo(page, 'nav-queue', () => document.activeElement?.getAttribute('data-testid') === 'nav-queue')
      await focusVisible(page, 'nav-queue')
      await tabTo(page, 'a payment row', () => !!document.activeElement?.closest('[data-testid="payment-row"]'))
      await focusVisible(page, 'the first payment row')
      // Down the list with the arrow keys to the payment, then open it.
      for (let k = 0; k < 30; k++) {
        const at = await page.evaluate(() => document.activeElement?.closest('[data-testid="payment-row"]')?.getAttribute('data-session-id'))
        if (at === sid) break
        await page.keyboard.press('ArrowDown')
      }
      assert(await page.evaluate((s) => document.activeElement?.closest('[data-testid="payment-row"]')?.getAttribute('data-session-id') === s, sid),
        `ArrowDown did not reach payment ${sid}`)
      await page.keyboard.press('Enter')
      await t.visible('payment-detail', 'Enter on a payment row opened no payment-detail')

      await tabTo(page, 'action-refund', () => document.activeElement?.getAttribute('data-testid') === 'action-refund')
      await focusVisible(page, 'action-refund')
      await page.keyboard.press('Enter')
      await t.visible('amount-input', 'Enter on action-refund opened no dialog')
      if (!(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'amount-input'))) {
        await tabTo(page, 'amount-input', () => document.activeElement?.getAttribute('data-testid') === 'amount-input', 10)
      }
      await focusVisible(page, 'amount-input')
      await page.keyboard.type('0.500')
      await tabTo(page, 'reason-input', () => document.activeElement?.getAttribute('data-testid') === 'reason-input', 10)
      await page.keyboard.type('Keyboard refund')
      // Review is disabled while the typed values are being checked, as a person would see.
      await until(() => page.locator(sel('action-review')).isEnabled(), 'action-review stays disabled after a valid amount and reason')
      await tabTo(page, 'action-review', () => document.activeElement?.getAttribute('data-testid') === 'action-review', 10)
      await focusVisible(page, 'action-review')
      await page.keyboard.press('Enter')
      await t.visible('action-confirm', 'Enter on action-review showed no action-confirm')
      if (!(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'action-confirm'))) {
        await tabTo(page, 'action-confirm', () => document.activeElement?.getAttribute('data-testid') === 'action-confirm', 10)
      }
      await focusVisible(page, 'action-confirm')
      await page.keyboard.press('Enter')
      const op = await until(() => t.mock(() => window.__mock.operations().find((o) => o.reason === 'Keyboard refund') ?? null),
        'Enter on action-confirm queued nothing')
      assert(op.amount === '0.500' && op.session_id === sid, `queued ${op.amount} on ${op.session_id}`)
    },
  },
]
