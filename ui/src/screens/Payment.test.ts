// The payment screen: the core's actions (refused ones disabled with their reason), the
// balances, one timeline newest first, and the details still shown when only the
// actions fail.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { render, screen, waitFor } from '@testing-library/svelte'
import type { ActionView, PaymentDetail } from '../lib/bindings'

vi.mock('../lib/ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/ipc')>()),
  showPayment: vi.fn(),
  paymentActions: vi.fn(),
}))

import * as ipc from '../lib/ipc'
import { go } from '../lib/nav.svelte'
import Payment from './Payment.svelte'

const detail: PaymentDetail = {
  session_id: 'sess-9', order_no: 'ORD-9', profile: 'shop', currency: 'KWD', amount: '20.000', state: 'paid',
  hidden: false, source: 'ottu', created_at: '2026-11-30T08:00:00Z', customer_email: 'a@b.c', customer_phone: null,
  balances: { captured: '20.000', refunded: '5.000', voided: '0.000', pending: '2.500', refundable: '12.500', capturable: '0.000' },
  operations: [
    {
      id: 4, kind: 'refund', amount: '2.500', requested_amount: '2.500', status: 'queued', tracking_key: 'tk', created_at: '2026-12-01T10:00:00Z',
      updated_at: '2026-12-01T10:00:00Z', attempts: 0, sent: false, reason: 'Late', requested_by: 'me', last_error: null, session_id: 'sess-9',
      order_no: 'ORD-9', profile: 'shop', currency: 'KWD', next_attempt_at: null, age_ms: 1000,
      actions: { retry: false, retry_needs_confirmation: false, resend: false, drop: true },
    },
  ],
  children: [{ session_id: 'child-1', kind: 'refund', amount: '5.000', state: 'refunded', operation_id: 3, created_at: '2026-11-30T12:00:00Z' }],
  events: [{ id: 1, at: '2026-11-30T08:00:01Z', actor: 'ottu', action: 'payment.imported', entity: 'payment', entity_id: 1, before: null, after: null }],
}

const refused = { code: 'rules.state', kind: 'refused' as const, message: 'no', field: null, params: { kind: 'capture', state: 'paid', allowed: 'authorized' } }
const actions: ActionView[] = [
  { kind: 'refund', allowed: true, max_amount: '12.500', refusal: null },
  { kind: 'capture', allowed: false, max_amount: null, refusal: refused },
  { kind: 'void', allowed: false, max_amount: null, refusal: { ...refused, params: { kind: 'void', state: 'paid', allowed: 'authorized' } } },
  { kind: 'cancel', allowed: false, max_amount: null, refusal: { ...refused, params: { kind: 'cancel', state: 'paid', allowed: 'created' } } },
  { kind: 'expire', allowed: false, max_amount: null, refusal: { ...refused, params: { kind: 'expire', state: 'paid', allowed: 'created' } } },
  { kind: 'delete', allowed: true, max_amount: null, refusal: null },
]

beforeEach(() => {
  vi.mocked(ipc.showPayment).mockResolvedValue(detail)
  vi.mocked(ipc.paymentActions).mockResolvedValue(actions)
  go('payment', 'sess-9', 'shop')
})

describe('Payment', () => {
  it('offers only the allowed actions, each refused one with its reason', async () => {
    render(Payment)
    const refund = (await screen.findByTestId('action-refund')) as HTMLButtonElement
    expect(ipc.showPayment).toHaveBeenCalledWith({ session_id: 'sess-9', profile: 'shop' })
    expect(refund.disabled).toBe(false)
    const capture = screen.getByTestId('action-capture') as HTMLButtonElement
    expect(capture.disabled).toBe(true)
    const why = document.getElementById(capture.getAttribute('aria-describedby') ?? '')
    expect(why?.textContent).not.toBe('')
    expect((screen.getByTestId('action-delete') as HTMLButtonElement).disabled).toBe(false)
    expect(screen.getByTestId('balance-refundable').textContent).toBe('12.500\u00A0KWD')
  })

  it('merges operations, children and events into one timeline, newest first', async () => {
    render(Payment)
    const timeline = await screen.findByTestId('timeline')
    const entries = [...timeline.querySelectorAll('li.entry')].map((li) => li.classList[1])
    expect(entries).toEqual(['operation', 'child', 'event'])
    expect(timeline.textContent).toContain('Payment imported from Ottu')
    // A queued refund has a receipt.
    expect(timeline.querySelector('[data-testid=receipt-open]')).not.toBeNull()
  })

  it('words a stored failure from its code, and marks an English-only one as such', async () => {
    const [queued] = detail.operations
    vi.mocked(ipc.showPayment).mockResolvedValue({
      ...detail,
      operations: [
        { ...queued!, id: 5, last_error: 'connect timed out', last_error_code: 'ottu.offline', last_error_params: {} },
        { ...queued!, id: 6, last_error: 'something old' },
      ],
    })
    render(Payment)
    const timeline = await screen.findByTestId('timeline')
    const marked = timeline.querySelectorAll('[data-testid=last-error-untranslated]')
    expect(marked).toHaveLength(1)
    expect(marked[0]!.textContent).toContain('in English only')
    expect(marked[0]!.querySelector('[lang=en]')?.textContent).toBe('something old')
    expect(timeline.textContent).not.toContain('connect timed out')
  })

  it('still shows the payment when only its actions cannot be read', async () => {
    vi.mocked(ipc.paymentActions).mockRejectedValue({ code: 'store.busy', kind: 'unavailable', message: 'busy', field: null, params: {} })
    render(Payment)
    await waitFor(() => expect(screen.getByTestId('balance-refundable').textContent).toBe('12.500\u00A0KWD'))
    expect(screen.queryByTestId('action-refund')).toBeNull()
    expect(screen.getByRole('alert').textContent).not.toBe('')
  })
})
