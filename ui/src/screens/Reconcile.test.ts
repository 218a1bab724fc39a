// The reconcile screen opens the newest reconciliation on its first class to decide, asks
// for a confirmation with a reason before accepting Ottu's value, and shows the core's
// refusal to lock a period with undecided mismatches in the merchant's words.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import type { ReconcileItemView, ReconcileSummary } from '../lib/ipc'
import { settings } from '../lib/settings.svelte'

vi.mock('../lib/ipc', async (importOriginal) => {
  const off = () => Promise.resolve(() => undefined)
  return {
    ...(await importOriginal<typeof import('../lib/ipc')>()),
    profiles: vi.fn(),
    reconciliations: vi.fn(),
    reconciliation: vi.fn(),
    reconcileItems: vi.fn(),
    reconcileDecide: vi.fn(),
    lockPeriod: vi.fn(),
    periods: vi.fn(async () => []),
    onReconcileProgress: vi.fn(off),
    onReconcileFinished: vi.fn(off),
  }
})

import * as ipc from '../lib/ipc'
import Reconcile from './Reconcile.svelte'

const summary: ReconcileSummary = {
  id: 3, profile: 'shop', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', source: 'nov.csv', created_at: '2026-12-01T10:00:00Z', actor: 'app:m',
  classes: [
    { class: 'matched', currency: 'KWD', count: 5, ledger_amount: '50.000', report_amount: '50.000' },
    { class: 'amount_differs', currency: 'KWD', count: 1, ledger_amount: '20.000', report_amount: '25.000' },
  ],
  totals: [], report_totals: [], clean: false, undecided: 1, report_rows: 6, child_rows: 0, outside_period: 0, hidden_rows: 0, rejected: [], rejected_count: 0,
}
const item: ReconcileItemView = {
  id: 31, reconciliation: 3, class: 'amount_differs', session_id: 'sid31', order_no: 'ORD-31', currency: 'KWD',
  ledger: { amount: '20.000', state: 'paid' }, report: { amount: '25.000', state: 'paid' },
  decision: null, decided_at: null, decided_by: null, differences: [{ field: 'amount', ledger: '20.000', report: '25.000' }],
}

beforeEach(() => {
  settings.language = 'en'
  settings.digits = 'latn'
  vi.mocked(ipc.profiles).mockResolvedValue([{ name: 'shop', base_url: 'https://shop.ottu.net', currency: 'KWD', created_at: '2026-01-01T00:00:00Z', auth: 'api_key', basic_user: null, key_stored: true, paused_reason: null, paused_at: null }])
  vi.mocked(ipc.reconciliations).mockResolvedValue([summary])
  vi.mocked(ipc.reconciliation).mockResolvedValue({ ...summary, undecided: 0, clean: true })
  vi.mocked(ipc.reconcileItems).mockResolvedValue({ items: [item], next_cursor: null, total: 1 })
})

describe('Reconcile', () => {
  it('opens on the class to decide and accepts with a reason behind a confirmation', async () => {
    render(Reconcile)
    await screen.findByTestId('reconcile-summary')
    expect(vi.mocked(ipc.reconcileItems).mock.calls[0]![0]).toEqual({ id: 3, class: 'amount_differs', after: null, limit: 50 })
    expect(screen.getByRole('heading', { level: 2, name: /Result for 1 Nov 2026 to 30 Nov 2026/ })).toBeTruthy()
    await fireEvent.click(await screen.findByTestId('item-accept'))
    expect(ipc.reconcileDecide).not.toHaveBeenCalled()
    await fireEvent.input(screen.getByTestId('decide-reason'), { target: { value: 'Ottu is right' } })
    vi.mocked(ipc.reconcileDecide).mockResolvedValue({ ...item, decision: 'accepted', decided_at: '2026-12-01T11:00:00Z', decided_by: 'app:m' })
    await fireEvent.click(screen.getByTestId('confirm-yes'))
    expect(ipc.reconcileDecide).toHaveBeenCalledWith({ item: 31, decision: 'accept', reason: 'Ottu is right' })
    await waitFor(() => expect(screen.getByTestId('item-decision').textContent).toBe('Ottu’s value accepted'))
    await waitFor(() => expect(screen.getByTestId('reconcile-clean')).toBeTruthy())
  })

  it('words the refusal to lock a period with undecided mismatches', async () => {
    settings.language = 'ar'
    vi.mocked(ipc.lockPeriod).mockRejectedValue({ code: 'reconcile.undecided', kind: 'refused', message: 'x', field: null, params: { count: 1, reconciliation: 3 } })
    render(Reconcile)
    await fireEvent.click(await screen.findByTestId('reconcile-lock'))
    await fireEvent.click(screen.getByTestId('confirm-yes'))
    expect(ipc.lockPeriod).toHaveBeenCalledWith({ profile: 'shop', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', reconciliation: 3 })
    await waitFor(() => expect(screen.getByTestId('lock-error').textContent).toContain('ما زالت مختلفة دون قرار'))
  })
})
