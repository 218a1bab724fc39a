// The Payments screen: date filters are the merchant's local days, and smoke mode reports
// "painted" only once a page of data has arrived (never after an error).
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import { beforeEach, describe, expect, it, vi } from 'vitest'

// Dates are read in Kuwait (UTC+3, no daylight saving) whatever the machine's zone.
vi.stubEnv('TZ', 'Asia/Kuwait')
import type { PaymentPage, PaymentView } from '../lib/bindings'
import type { AppInfo } from '../lib/ipc'

vi.mock('../lib/ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/ipc')>()),
  listPayments: vi.fn(),
  profiles: vi.fn(async () => []),
  smokePainted: vi.fn(async () => null),
}))

function row(i: number): PaymentView {
  return {
    session_id: `s${i}`, order_no: `ORD-${i}`, profile: 'shop', currency: 'KWD', amount: '1.000',
    state: 'paid', hidden: false, source: 'ottu', created_at: '2026-12-01T10:00:00Z',
    customer_email: null, customer_phone: null, refundable: '1.000', capturable: '0.000',
  }
}
const page = (n: number): PaymentPage => ({ payments: Array.from({ length: n }, (_, i) => row(i)), next_cursor: null, total: n, total_capped: false })

import * as ipc from '../lib/ipc'
import { live } from '../lib/live.svelte'
import { settings } from '../lib/settings.svelte'
import Payments from './Payments.svelte'

// jsdom has no layout (nor ResizeObserver, which bind:clientHeight needs).
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver

const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))))

beforeEach(() => {
  vi.clearAllMocks()
  settings.language = 'en'
  settings.digits = 'latn'
})

describe('Payments', () => {
  // First: the screen keeps module state (smoke reported once, the list kept across visits).
  it('tells the smoke run it painted only after a page arrived, with its row count', async () => {
    live.app = { version: '0', ledger_path: '/x', log_dir: null, smoke: true, has_profiles: true } as AppInfo
    vi.mocked(ipc.listPayments).mockRejectedValueOnce({ code: 'store.busy', kind: 'unavailable', message: 'busy', field: null, params: {} })
    render(Payments)
    const retry = await screen.findByRole('button', { name: 'Try again' })
    await frames()
    await frames()
    expect(ipc.smokePainted).not.toHaveBeenCalled()
    vi.mocked(ipc.listPayments).mockResolvedValue(page(3))
    await fireEvent.click(retry)
    await waitFor(() => expect(ipc.smokePainted).toHaveBeenCalledWith({ rows: 3 }))
    expect(ipc.smokePainted).toHaveBeenCalledTimes(1)
  })
  it('filters by the local days chosen: from the start of the first to the start of the day after the last', async () => {
    vi.mocked(ipc.listPayments).mockResolvedValue(page(2))
    render(Payments)
    await screen.findByText('2 payments')
    await fireEvent.input(screen.getByTestId('payments-from'), { target: { value: '2026-02-01' } })
    await fireEvent.change(screen.getByTestId('payments-from'))
    await fireEvent.input(screen.getByTestId('payments-to'), { target: { value: '2026-02-03' } })
    await fireEvent.change(screen.getByTestId('payments-to'))
    // Kuwait is UTC+3: its 1 February starts at 21:00 UTC on 31 January.
    await waitFor(() =>
      expect(vi.mocked(ipc.listPayments).mock.lastCall?.[0]).toMatchObject({ from: '2026-01-31T21:00:00Z', to: '2026-02-03T21:00:00Z' }),
    )
  })

})
