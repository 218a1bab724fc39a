import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { OperationPage, OperationView, QueueQuery, SyncEvent } from '../lib/bindings'
import type { SyncState } from '../lib/ipc'
import * as ipc from '../lib/ipc'
import { formatAge } from '../lib/format'
import { settings } from '../lib/settings.svelte'
import Queue from './Queue.svelte'

const events = vi.hoisted(() => ({ sync: null as null | ((e: SyncEvent) => void) }))

vi.mock('../lib/ipc', () => ({
  listQueue: vi.fn(),
  syncState: vi.fn(),
  syncNow: vi.fn(),
  syncPause: vi.fn(),
  syncResume: vi.fn(),
  status: vi.fn(),
  retryOperation: vi.fn(),
  resendOperation: vi.fn(),
  dropOperation: vi.fn(),
  onSyncEvent: vi.fn(),
  onSyncState: vi.fn(),
  asErrorView: (e: unknown) => e,
}))

const HOUR = 3_600_000

function op(over: Partial<OperationView>): OperationView {
  return {
    id: 1, kind: 'refund', amount: '2.500', requested_amount: '2.500', status: 'queued',
    tracking_key: 'k', created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
    attempts: 0, sent: false, reason: null, requested_by: 'me', last_error: null,
    session_id: 'sess-1', order_no: 'ORD-1', profile: 'shop', currency: 'KWD',
    next_attempt_at: null, age_ms: HOUR,
    actions: { retry: false, retry_needs_confirmation: false, resend: false, drop: false }, ...over,
  }
}
const RETRY_CHECKED = { retry: true, retry_needs_confirmation: true, resend: true, drop: false }
const HELD_UNSENT = { retry: true, retry_needs_confirmation: false, resend: false, drop: true }

function state(outstanding: number, paused = false): SyncState {
  return {
    paused_by_merchant: paused,
    worker_error: null,
    status: {
      running: true, outstanding, store_error: null, store_error_code: null, store_error_params: null,
      profiles: [{ profile: 'shop', connection: 'online', paused_reason: null, paused_code: null, paused_params: null, waiting: outstanding, oldest_queued_age_ms: null }],
    },
  }
}

let ops: OperationView[] = []

beforeEach(() => {
  vi.clearAllMocks()
  settings.language = 'en'
  settings.digits = 'latn'
  events.sync = null
  ops = []
  vi.mocked(ipc.listQueue).mockImplementation(async (q: QueueQuery): Promise<OperationPage> => {
    const matching = ops.filter((o) => !q.status || o.status === q.status)
    return { operations: matching, next_cursor: null, total: matching.length }
  })
  vi.mocked(ipc.syncState).mockResolvedValue(state(0))
  vi.mocked(ipc.status).mockRejectedValue(new Error('not needed'))
  vi.mocked(ipc.onSyncEvent).mockImplementation(async (h) => {
    events.sync = h
    return () => undefined
  })
  vi.mocked(ipc.onSyncState).mockImplementation(async () => () => undefined)
})

describe('Queue', () => {
  it('shows each operation with its age, tries and last problem in plain words', async () => {
    ops = [
      op({ id: 4, attempts: 3, age_ms: 2 * HOUR + 5 * 60_000, last_error: 'connection refused (os error 111)', last_error_code: 'ottu.offline', last_error_params: { detail: 'connection refused (os error 111)' } }),
      op({ id: 5, status: 'needs_attention', attempts: 5, sent: true, last_error: 'x', last_error_code: 'operation.unresolved', last_error_params: { attempts: 5, last: 'timeout' } }),
    ]
    render(Queue)
    const rows = await screen.findAllByTestId('queue-row')
    expect(rows.map((r) => r.dataset.opId)).toEqual(['4', '5'])
    const first = within(rows[0]!)
    expect(first.getByTestId('op-age').textContent).toBe(formatAge(2 * HOUR + 5 * 60_000))
    expect(first.getByTestId('op-attempts').textContent).toBe('3')
    expect(first.getByTestId('op-last-error').textContent).toContain('Ottu cannot be reached')
    expect(first.getByTestId('op-last-error').textContent).not.toContain('os error')
    expect(within(rows[1]!).getByTestId('op-last-error').textContent).toContain('Still no result after 5 tries')
    expect(rows[1]!.dataset.status).toBe('needs_attention')
  })

  it('marks an operation waiting for more than a day with the stale badge, and only that one', async () => {
    ops = [op({ id: 1, age_ms: 25 * HOUR }), op({ id: 2, age_ms: 23 * HOUR })]
    render(Queue)
    const rows = await screen.findAllByTestId('queue-row')
    expect(within(rows[0]!).queryByTestId('stale-badge')).not.toBeNull()
    expect(within(rows[1]!).queryByTestId('stale-badge')).toBeNull()
  })

  it('asks the merchant to check at Ottu before retrying an operation that was sent', async () => {
    ops = [op({ id: 9, status: 'needs_attention', sent: true, attempts: 5, actions: RETRY_CHECKED })]
    vi.mocked(ipc.retryOperation).mockResolvedValue({ ...op({ id: 10 }), balances: { captured: '0', refunded: '0', voided: '0', pending: '0', refundable: '0', capturable: '0' } })
    render(Queue)
    await fireEvent.click(await screen.findByTestId('op-retry'))
    const yes = screen.getByTestId('confirm-yes') as HTMLButtonElement
    expect(yes.disabled).toBe(true)
    await fireEvent.click(yes)
    expect(ipc.retryOperation).not.toHaveBeenCalled()

    await fireEvent.click(screen.getByTestId('retry-confirm'))
    expect(yes.disabled).toBe(true) // still needs a reason
    await fireEvent.input(screen.getByTestId('reason-input'), { target: { value: 'Ottu shows no refund' } })
    expect(yes.disabled).toBe(false)
    await fireEvent.click(yes)
    await waitFor(() => expect(ipc.retryOperation).toHaveBeenCalledTimes(1))
    expect(ipc.retryOperation).toHaveBeenCalledWith({ id: 9, confirm_not_applied: true, reason: 'Ottu shows no refund' })
    await waitFor(() => expect(screen.queryByTestId('confirm-yes')).toBeNull())
  })

  it('retries a held operation that never left without the Ottu check, and cancels with confirm-no', async () => {
    ops = [op({ id: 3, status: 'blocked', sent: false, actions: HELD_UNSENT })]
    render(Queue)
    await fireEvent.click(await screen.findByTestId('op-retry'))
    expect(screen.queryByTestId('retry-confirm')).toBeNull()
    await fireEvent.click(screen.getByTestId('confirm-no'))
    expect(screen.queryByTestId('confirm-yes')).toBeNull()
    expect(ipc.retryOperation).not.toHaveBeenCalled()
    // Never sent: it can be dropped too, with a reason.
    vi.mocked(ipc.dropOperation).mockResolvedValue(op({ id: 3, status: 'dropped' }))
    await fireEvent.click(screen.getByTestId('op-drop'))
    await fireEvent.input(screen.getByTestId('reason-input'), { target: { value: 'customer changed mind' } })
    await fireEvent.click(screen.getByTestId('confirm-yes'))
    await waitFor(() => expect(ipc.dropOperation).toHaveBeenCalledWith({ id: 3, reason: 'customer changed mind' }))
  })

  it('offers exactly the actions the core allows, whatever the status suggests', async () => {
    ops = [
      // Failed, but already retried (or the balance no longer allows it): no retry.
      op({ id: 1, status: 'failed', sent: true }),
      // Queued and never sent, but the core says it cannot be dropped now.
      op({ id: 2, status: 'queued', sent: false }),
      op({ id: 3, status: 'failed', sent: false, actions: { retry: true, retry_needs_confirmation: false, resend: false, drop: false } }),
    ]
    render(Queue)
    const rows = await screen.findAllByTestId('queue-row')
    const buttons = (r: HTMLElement) => ['op-retry', 'op-resend', 'op-drop'].filter((id) => within(r).queryByTestId(id))
    expect(rows.map(buttons)).toEqual([[], [], ['op-retry']])
    // No Ottu check asked when the core says none is needed.
    await fireEvent.click(within(rows[2]!).getByTestId('op-retry'))
    expect(screen.queryByTestId('retry-confirm')).toBeNull()
  })

  it('updates the count still to send from sync-event outstanding, and reloads the list', async () => {
    ops = [op({ id: 1 })]
    render(Queue)
    await screen.findAllByTestId('queue-row')
    const progress = screen.getByTestId('sync-progress')
    await waitFor(() => expect(progress.dataset.outstanding).toBe('0'))
    const loads = vi.mocked(ipc.listQueue).mock.calls.length
    ops = [op({ id: 1 }), op({ id: 2 })]
    events.sync!({ event: 'outstanding', total: 7 })
    await waitFor(() => expect(progress.textContent).toContain('7 still to go'))
    expect(progress.dataset.outstanding).toBe('7')
    await waitFor(() => expect(screen.getAllByTestId('queue-row')).toHaveLength(2))
    expect(vi.mocked(ipc.listQueue).mock.calls.length).toBeGreaterThan(loads)
    // A `sent` shows the row in flight with its attempt at once.
    events.sync!({ event: 'sent', id: 2, attempt: 1 })
    await waitFor(() => expect(screen.getAllByTestId('queue-row')[1]!.dataset.status).toBe('in_flight'))
    expect(within(screen.getAllByTestId('queue-row')[1]!).getByTestId('op-attempts').textContent).toBe('1')
  })

  it('says offline, without a moving bar, while every profile with work waiting is offline (EN and AR)', async () => {
    const st = state(3)
    st.status.profiles.push({ profile: 'souq', connection: 'online', paused_reason: null, paused_code: null, paused_params: null, waiting: 0, oldest_queued_age_ms: null })
    vi.mocked(ipc.syncState).mockResolvedValue(st)
    ops = [op({ id: 1 }), op({ id: 2 }), op({ id: 3 })]
    render(Queue)
    const progress = screen.getByTestId('sync-progress')
    await waitFor(() => expect(progress.textContent).toContain('3 still to go'))
    expect(progress.querySelector('progress')).not.toBeNull()
    // The only profile with work waiting goes offline (souq, with none, stays online).
    events.sync!({ event: 'offline', profile: 'shop', retry_in_ms: 1000 })
    await waitFor(() => expect(progress.textContent).toContain('Offline: 3 waiting; they go when Ottu can be reached'))
    expect(progress.textContent).not.toContain('still to go')
    expect(progress.querySelector('progress')).toBeNull()
    settings.language = 'ar'
    settings.digits = 'arab'
    await waitFor(() => expect(progress.textContent).toContain('غير متصل: ٣ بالانتظار'))
    settings.language = 'en'
    settings.digits = 'latn'
    // Reachable again: sending, with the bar.
    events.sync!({ event: 'online', profile: 'shop' })
    await waitFor(() => expect(progress.textContent).toContain('3 still to go'))
    expect(progress.querySelector('progress')).not.toBeNull()
  })

  it('shows each profile\'s light from status while the worker has none, and resumes a merchant pause', async () => {
    const paused = state(0, true)
    paused.status.profiles = []
    paused.status.running = false
    vi.mocked(ipc.syncState).mockResolvedValue(paused)
    const zero = { queued: 0, in_flight: 0, succeeded: 0, failed: 0, needs_attention: 0, dropped: 0, blocked: 0 }
    vi.mocked(ipc.status).mockResolvedValue({
      ...zero, paused: [], oldest_queued_age_ms: null,
      profiles: {
        shop: { ...zero, queued: 2, paused: null, oldest_queued_at: null, oldest_queued_age_ms: null },
        souq: { ...zero, paused: { reason: 'bad key', since: null }, oldest_queued_at: null, oldest_queued_age_ms: null },
      },
    })
    render(Queue)
    await waitFor(() => expect(screen.getAllByTestId('queue-profile')).toHaveLength(2))
    const [shop, souq] = screen.getAllByTestId('queue-profile')
    expect(shop!.dataset.connection).toBe('unknown')
    expect(shop!.textContent).toContain('2 waiting')
    expect(souq!.dataset.connection).toBe('paused')
    // A sync-event overrides the light until the next sync state.
    events.sync!({ event: 'offline', profile: 'shop', retry_in_ms: 1000 })
    await waitFor(() => expect(screen.getAllByTestId('queue-profile')[0]!.dataset.connection).toBe('offline'))
    // Resumed after a pause: unknown until the next attempt, as the header's light says.
    events.sync!({ event: 'paused', profile: 'souq', reason: 'bad key', code: 'ottu.auth', params: {} })
    await waitFor(() => expect(screen.getAllByTestId('queue-profile')[1]!.dataset.connection).toBe('paused'))
    events.sync!({ event: 'resumed', profile: 'souq' })
    await waitFor(() => expect(screen.getAllByTestId('queue-profile')[1]!.dataset.connection).toBe('unknown'))

    expect(screen.queryByTestId('sync-pause')).toBeNull()
    expect((screen.getByTestId('sync-now') as HTMLButtonElement).disabled).toBe(true)
    vi.mocked(ipc.syncResume).mockResolvedValue(state(0, false))
    await fireEvent.click(screen.getByTestId('sync-resume'))
    expect(ipc.syncResume).toHaveBeenCalledTimes(1)
    await screen.findByTestId('sync-pause')
  })

  it('says what to do next when nothing waits', async () => {
    render(Queue)
    const empty = await screen.findByTestId('queue-empty')
    expect(empty.textContent).toContain('open it in Payments')
    expect(screen.queryByTestId('queue-list')).toBeNull()
  })
})
