// The refund receipt is the customer's: the payment's facts and the refund, never the
// merchant's internal reason nor the name of their Ottu profile.
import { describe, expect, it } from 'vitest'
import { render, screen } from '@testing-library/svelte'
import type { OperationView, PaymentDetail } from '../lib/bindings'
import { settings } from '../lib/settings.svelte'
import Receipt from './Receipt.svelte'

const refund: OperationView = {
  id: 4, kind: 'refund', amount: '2.500', requested_amount: '2.500', status: 'succeeded', tracking_key: 'tk', created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:05:00Z', attempts: 1, sent: true, reason: 'customer shouted at staff', requested_by: 'me', last_error: null,
  session_id: 'sess-9', order_no: 'ORD-9', profile: 'backoffice-kw', currency: 'KWD', next_attempt_at: null, age_ms: 1000,
  actions: { retry: false, retry_needs_confirmation: false, resend: false, drop: false },
}

const payment: PaymentDetail = {
  session_id: 'sess-9', order_no: 'ORD-9', profile: 'backoffice-kw', currency: 'KWD', amount: '20.000', state: 'paid',
  hidden: false, source: 'ottu', created_at: '2026-11-30T08:00:00Z', customer_email: 'a@b.c', customer_phone: null,
  balances: { captured: '20.000', refunded: '2.500', voided: '0.000', pending: '0.000', refundable: '17.500', capturable: '0.000' },
  operations: [refund],
  children: [{ session_id: 'child-1', kind: 'refund', amount: '2.500', state: 'refunded', operation_id: 4, created_at: '2026-12-01T10:05:00Z' }],
  events: [],
}

describe('Receipt', () => {
  it('shows the refund and the payment, without the internal reason or the profile name', () => {
    settings.language = 'en'
    settings.digits = 'latn'
    render(Receipt, { payment, operation: refund, onclose: () => undefined })
    const sheet = screen.getByTestId('receipt')
    expect(sheet.textContent).toContain('ORD-9')
    expect(sheet.textContent).toContain('child-1')
    expect(sheet.textContent).not.toContain('customer shouted at staff')
    expect(sheet.textContent).not.toContain('backoffice-kw')
    expect(sheet.textContent).not.toMatch(/Reason/)
  })
})
