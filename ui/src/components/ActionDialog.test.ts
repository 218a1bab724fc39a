// The amount field is checked as it is typed through the core's preview, and a refusal
// appears beside the field, in the merchant's language, from the error's code and params.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte'
import type { ErrorView, PaymentDetail, QueueRequest } from '../lib/bindings'

vi.mock('../lib/ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/ipc')>()),
  previewOperation: vi.fn(),
  queueOperation: vi.fn(),
}))

import * as ipc from '../lib/ipc'
import { settings } from '../lib/settings.svelte'
import ActionDialog from './ActionDialog.svelte'

const payment: PaymentDetail = {
  session_id: 'sess-1',
  order_no: 'ORD-1',
  profile: 'shop',
  currency: 'KWD',
  amount: '20.000',
  state: 'paid',
  hidden: false,
  source: 'ottu',
  created_at: '2026-12-01T10:00:00Z',
  customer_email: null,
  customer_phone: null,
  balances: { captured: '20.000', refunded: '0.000', voided: '0.000', pending: '0.000', refundable: '20.000', capturable: '0.000' },
  operations: [],
  children: [],
  events: [],
}

const exceeds = (requested: string): ErrorView => ({
  code: 'rules.refund_exceeds',
  kind: 'refused',
  message: `refund of ${requested} KWD exceeds the refundable 20.000 KWD`,
  field: 'amount',
  params: { refundable: '20.000', requested, currency: 'KWD' },
})

const preview = vi.mocked(ipc.previewOperation)

beforeEach(() => {
  preview.mockReset()
  preview.mockImplementation((r: QueueRequest) => {
    const n = Number(r.amount)
    return n > 20 ? Promise.reject(exceeds(Number(r.amount).toFixed(3))) : Promise.resolve(n.toFixed(3))
  })
})

afterEach(() => {
  settings.language = 'en'
  settings.digits = 'latn'
})

function open() {
  return render(ActionDialog, {
    payment,
    action: { kind: 'refund', allowed: true, max_amount: '20.000', refusal: null },
    onclose: () => undefined,
    onqueued: () => undefined,
  })
}

describe('ActionDialog amount field', () => {
  it('shows the over-refund beside the field in English, and clears it for a valid amount', async () => {
    open()
    expect(screen.getByTestId('action-max').textContent).toBe('20.000\u00A0KWD')
    const input = screen.getByTestId('amount-input')
    await fireEvent.input(input, { target: { value: '25' } })
    const error = await screen.findByTestId('amount-error', {}, { timeout: 2000 })
    expect(error.textContent).toBe('You can refund at most 20.000\u00A0KWD; you asked for 25.000\u00A0KWD.')
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(input.getAttribute('aria-describedby')).toContain(error.id)
    expect((screen.getByTestId('action-review') as HTMLButtonElement).disabled).toBe(true)
    expect(preview).toHaveBeenLastCalledWith(expect.objectContaining({ kind: 'refund', amount: '25', payment: { session_id: 'sess-1', profile: 'shop' } }))

    await fireEvent.input(input, { target: { value: '5' } })
    await waitFor(() => expect(screen.queryByTestId('amount-error')).toBeNull(), { timeout: 2000 })
    // A refund still needs its reason before the review.
    expect((screen.getByTestId('action-review') as HTMLButtonElement).disabled).toBe(true)
    await fireEvent.input(screen.getByTestId('reason-input'), { target: { value: 'Damaged' } })
    await waitFor(() => expect((screen.getByTestId('action-review') as HTMLButtonElement).disabled).toBe(false), { timeout: 2000 })
  })

  it('words the same refusal in Arabic with Arabic-Indic digits', async () => {
    settings.language = 'ar'
    settings.digits = 'arab'
    open()
    await fireEvent.input(screen.getByTestId('amount-input'), { target: { value: '25' } })
    const error = await screen.findByTestId('amount-error', {}, { timeout: 2000 })
    expect(error.textContent).toContain('أقصى مبلغ يمكن استرداده')
    expect(error.textContent).toContain('٢٠٫٠٠٠')
    expect(error.textContent).toContain('٢٥٫٠٠٠')
    expect(error.textContent).not.toMatch(/[0-9]/)
  })

  it('checks once the typing pauses, not on every key', async () => {
    open()
    const input = screen.getByTestId('amount-input')
    for (const v of ['2', '21', '21.', '21.5']) await fireEvent.input(input, { target: { value: v } })
    await screen.findByTestId('amount-error', {}, { timeout: 2000 })
    expect(preview).toHaveBeenCalledTimes(1)
    expect(preview.mock.calls[0]?.[0].amount).toBe('21.5')
  })

  it('restates the exact amount and currency before queueing', async () => {
    vi.mocked(ipc.queueOperation).mockRejectedValueOnce(exceeds('7.000'))
    open()
    await fireEvent.input(screen.getByTestId('amount-input'), { target: { value: '7' } })
    await fireEvent.input(screen.getByTestId('reason-input'), { target: { value: 'Late delivery' } })
    await waitFor(() => expect((screen.getByTestId('action-review') as HTMLButtonElement).disabled).toBe(false), { timeout: 2000 })
    await fireEvent.click(screen.getByTestId('action-review'))
    expect(screen.getByTestId('action-review-amount').textContent).toBe('7.000\u00A0KWD')
    expect(ipc.queueOperation).not.toHaveBeenCalled()
    await fireEvent.click(screen.getByTestId('action-confirm'))
    // Refused at queue time (the balance changed meanwhile): back to the field, error beside it.
    const error = await screen.findByTestId('amount-error', {}, { timeout: 2000 })
    expect(error.textContent).toContain('7.000')
    expect(ipc.queueOperation).toHaveBeenCalledTimes(1)
  })
})
