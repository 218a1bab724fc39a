// The Queue's own actions on the fake backend, each behind its confirmation: drop a
// queued operation, resend an unresolved one, retry a refused one that reached Ottu
// (which needs the merchant's check at Ottu and a reason before it goes).

import { assert, attr, Check, sel, until } from './lib.mjs'

async function opStatus(t, id) {
  return t.mock((i) => window.__mock.operations().find((o) => o.id === i)?.status ?? null, id)
}

async function rowOf(t, id) {
  const row = t.page.locator(`${sel('queue-row')}[data-op-id="${id}"]`)
  await row.waitFor({ state: 'visible', timeout: 8_000 }).catch(() => {
    throw new Check(`no queue-row for operation ${id}`)
  })
  return row
}

export const tests = [
  {
    name: 'queue actions: drop, resend and retry, each confirmed, reach the backend and show on the row',
    async run(t) {
      const page = await t.open()
      const ops = await t.mock(() => window.__mock.operations())
      const pick = (status, extra = () => true) => {
        const op = ops.find((o) => o.status === status && extra(o))
        if (!op) throw new Check(`the mock seeded no ${status} operation`)
        return op
      }
      const queued = pick('queued', (o) => !o.sent)
      const unresolved = pick('needs_attention')
      const refused = pick('failed', (o) => o.sent)
      await t.go('queue')
      await t.visible('queue-list', 'the Queue has no queue-list')

      // Drop: asks first; "no" leaves it queued.
      let row = await rowOf(t, queued.id)
      await row.locator(sel('op-drop')).click()
      await (await t.visible('confirm-no', 'op-drop asked for no confirmation')).click()
      assert((await opStatus(t, queued.id)) === 'queued', 'declining the drop dropped it anyway')
      await row.locator(sel('op-drop')).click()
      await (await t.visible('confirm-yes')).click()
      await until(async () => (await opStatus(t, queued.id)) === 'dropped', `confirming the drop of ${queued.id} did not drop it`)
      await until(async () => (await row.count()) === 0 || (await attr(row, 'data-status')) === 'dropped',
        async () => `the dropped operation ${queued.id} still shows as ${await attr(row, 'data-status')}`)

      // Resend an unresolved one.
      row = await rowOf(t, unresolved.id)
      await row.locator(sel('op-resend')).click()
      await (await t.visible('confirm-yes', 'op-resend asked for no confirmation')).click()
      await until(async () => (await opStatus(t, unresolved.id)) === 'queued', `resending ${unresolved.id} did not queue it again`)
      await until(async () => (await attr(row, 'data-status')) === 'queued', 'the resent row does not say queued')

      // Retry a refused one that reached Ottu: the check and a reason come first.
      row = await rowOf(t, refused.id)
      const before = ops.length
      await row.locator(sel('op-retry')).click()
      const yes = await t.visible('confirm-yes', 'op-retry asked for no confirmation')
      assert(await yes.isDisabled(), 'retrying a sent operation can be confirmed without the check at Ottu and a reason')
      await (await t.visible('retry-confirm', 'the retry dialog has no retry-confirm check')).check()
      await page.locator(`dialog[open] ${sel('reason-input')}`).fill('Checked at Ottu: not refunded')
      await until(() => yes.isEnabled(), 'confirm-yes stays disabled after the check and a reason')
      await t.shot('en-queue-retry-confirm')
      await yes.click()
      const added = await until(() => t.mock((n) => window.__mock.operations()[n] ?? null, before), 'confirming the retry queued nothing')
      assert(added.kind === refused.kind && added.amount === refused.amount && added.reason === 'Checked at Ottu: not refunded',
        `the retry queued ${JSON.stringify(added)}`)
      await rowOf(t, added.id)
    },
  },
  {
    name: 'pause, resume and sync now drive the worker, and the Queue shows its progress live',
    async run(t) {
      const page = await t.open({ query: { worker: 1, step: 40 } })
      await t.go('queue')
      await t.visible('queue-list')
      const waiting = await t.mock(() => window.__mock.operations().filter((o) => o.status === 'queued').map((o) => o.id))
      assert(waiting.length >= 2, 'the mock seeded fewer than 2 queued operations')

      await (await t.visible('sync-pause', 'the Queue has no sync-pause')).click()
      const resume = await t.visible('sync-resume', 'pausing shows no sync-resume')
      await until(() => page.locator(sel('sync-now')).isDisabled(), 'sync-now stays enabled while sending is paused')
      assert((await t.mock(() => window.__mock.backend.sync_state().paused_by_merchant)), 'sync-pause did not pause the worker')

      await resume.click()
      await t.visible('sync-pause', 'resuming shows no sync-pause again')
      await until(() => t.mock((ids) => ids.every((id) => window.__mock.operations().find((o) => o.id === id).status === 'succeeded'), waiting),
        'after resuming, the worker did not send the queued operations', 8_000)
      await until(async () => {
        for (const id of waiting) {
          const row = page.locator(`${sel('queue-row')}[data-op-id="${id}"]`)
          if ((await row.count()) > 0 && (await attr(row, 'data-status')) !== 'succeeded') return false
        }
        return true
      }, 'the Queue still shows sent operations as waiting')

      // Sync now with nothing waiting: asked once, answered, nothing breaks.
      const before = await t.mock(() => window.__mock.calls.sync_now ?? 0)
      await page.locator(sel('sync-now')).click()
      await until(() => t.mock((n) => (window.__mock.calls.sync_now ?? 0) === n + 1, before), 'sync-now did not call sync_now')
      await t.shot('en-queue-after-sync')
    },
  },
]
