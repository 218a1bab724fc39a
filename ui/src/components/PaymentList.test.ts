// The payments list renders only the rows in view, however many there are, and walks
// the core's cursor pages as it scrolls (never asking for everything).
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fireEvent, render, waitFor } from '@testing-library/svelte'
import type { PaymentPage, PaymentQuery, PaymentView } from '../lib/bindings'

vi.mock('../lib/ipc', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../lib/ipc')>()),
  listPayments: vi.fn(),
}))

import * as ipc from '../lib/ipc'
import { PaymentPager } from '../lib/pager.svelte'
import PaymentList from './PaymentList.svelte'

const TOTAL = 1_000_000

function row(i: number): PaymentView {
  return {
    session_id: `s${String(i).padStart(7, '0')}`,
    order_no: `ORD-${i}`,
    profile: 'shop',
    currency: 'KWD',
    amount: '12.500',
    state: 'paid',
    hidden: false,
    source: 'ottu',
    created_at: '2026-12-01T10:00:00Z',
    customer_email: null,
    customer_phone: null,
    refundable: i % 2 ? '12.500' : '0.000',
    capturable: '0.000',
  }
}

/** A ledger of 1,000,000 payments whose cursor is the next position. */
function fakeList(q: PaymentQuery): Promise<PaymentPage> {
  const start = q.after ? Number(q.after.slice(1)) : 0
  const limit = q.limit ?? 50
  const end = Math.min(TOTAL, start + limit)
  const payments = Array.from({ length: end - start }, (_, k) => row(start + k))
  return Promise.resolve({ payments, next_cursor: end < TOTAL ? `p${end}` : null, total: TOTAL, total_capped: false })
}

const listPayments = vi.mocked(ipc.listPayments)

// jsdom has no layout: bind:clientHeight needs a ResizeObserver, and the list falls back
// to a 600 px view.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver

beforeEach(() => {
  listPayments.mockReset()
  listPayments.mockImplementation(fakeList)
})

function viewportOf(container: HTMLElement): HTMLElement {
  const v = container.querySelector<HTMLElement>('.viewport')
  if (!v) throw new Error('no viewport')
  return v
}

function scrollTo(v: HTMLElement, top: number) {
  Object.defineProperty(v, 'scrollTop', { value: top, configurable: true, writable: true })
  return fireEvent.scroll(v)
}

describe('PaymentList', () => {
  it('renders only a window of rows out of 1,000,000', async () => {
    const pager = new PaymentPager(100)
    await pager.reset({})
    const { container, getAllByTestId } = render(PaymentList, { pager, onopen: () => undefined })
    await waitFor(() => expect(getAllByTestId('payment-row').length).toBeGreaterThan(0))

    expect(pager.total).toBe(TOTAL)
    const rows = getAllByTestId('payment-row')
    // A 600 px view of 44 px rows plus overscan: a couple of dozen, not a million.
    expect(rows.length).toBeLessThanOrEqual(30)
    expect(rows[0]?.dataset.sessionId).toBe('s0000000')
    // Each row shows its refundable balance, exactly, with the currency's decimals.
    expect(rows[1]?.querySelector('[data-testid=row-refundable]')?.textContent).toBe('12.500\u00A0KWD')
    expect(container.querySelectorAll('[role=row]').length).toBeLessThanOrEqual(31)
    // Pages of 100 were asked for, never all rows.
    for (const [q] of listPayments.mock.calls) expect(q.limit).toBe(100)
    expect(listPayments.mock.calls.length).toBeLessThanOrEqual(3)
  })

  it('shows the rows at the scroll position, fetching the pages it reaches with their cursors', async () => {
    const pager = new PaymentPager(100)
    await pager.reset({})
    const { container, getAllByTestId } = render(PaymentList, { pager, onopen: () => undefined })
    await waitFor(() => expect(pager.rows).toBeGreaterThanOrEqual(200))
    const v = viewportOf(container)

    // Walk down page by page, as a scrolling merchant does.
    for (let top = 0; top <= 150 * 44; top += 50 * 44) {
      await scrollTo(v, top)
      await waitFor(() => expect(pager.rows).toBeGreaterThan(Math.floor(top / 44) + 20))
    }
    await waitFor(() => {
      const ids = getAllByTestId('payment-row').map((r) => r.dataset.sessionId)
      expect(ids).toContain('s0000150')
      expect(ids).not.toContain('s0000000')
    })
    expect(getAllByTestId('payment-row').length).toBeLessThanOrEqual(30)
    const afters = listPayments.mock.calls.map(([q]) => q.after ?? null)
    expect(afters).toContain('p100')
    expect(afters).toContain('p200')
  })

  it('keeps a bounded number of pages however far it walks', async () => {
    const pager = new PaymentPager(100)
    await pager.reset({})
    for (let p = 0; p < 120; p++) {
      pager.ensure(p * 100, p * 100 + 20)
      await waitFor(() => expect(pager.row(p * 100 + 150)).toBeDefined(), { interval: 1 })
    }
    expect(pager.heldPages).toBeLessThanOrEqual(102)
    expect(pager.row(0)).toBeUndefined()
    expect(pager.row(11900)?.session_id).toBe('s0011900')
  })

  it('ignores an answer to an older search', async () => {
    let release: (() => void) | undefined
    listPayments.mockImplementationOnce(
      (q) => new Promise((resolve) => (release = () => void fakeList(q).then(resolve))),
    )
    const pager = new PaymentPager(100)
    const first = pager.reset({ search: 'old' })
    listPayments.mockImplementationOnce(() =>
      Promise.resolve({ payments: [row(7)], next_cursor: null, total: 1, total_capped: false }),
    )
    await pager.reset({ search: 'new' })
    release?.()
    await first
    expect(pager.total).toBe(1)
    expect(pager.rows).toBe(1)
    expect(pager.row(0)?.session_id).toBe('s0000007')
  })
})
