//! An in-memory fake of every command and event in /tmp/coord9/IPC.md (the shell's IPC
//! contract), installed with `mockIPC` from `@tauri-apps/api/mocks`, for the browser tests.
//!
//! Payments come from a seeded generator by index (see generator.ts), so a ledger of
//! 1,000,000 payments allocates only the rows a page asks for; the list cursor is the
//! position in the list. A payment that gets an operation becomes a mutable record. The
//! rules are a port of src/rules.rs (what may be queued and for how much), with the core's
//! error codes, kinds, fields and params, so the UI's error wording is exercised for real.
//!
//! Tests drive it through `window.__mock` (see `MockControl`): push events
//! (`emitEvent('sync-event', {...})`), read the commands called, look up fixtures.

import { mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import type {
  BalancesView,
  ChildView,
  ErrorKind,
  ErrorView,
  EventView,
  ImportSummary,
  JsonValue,
  OperationKind,
  OperationPage,
  OperationStatus,
  OperationView,
  PaymentDetail,
  PaymentInput,
  PaymentLookup,
  PaymentPage,
  PaymentQuery,
  PaymentState,
  ProfileChange,
  ProfileChanged,
  ProfileDetail,
  ProfileStatus,
  ProfileSyncStatus,
  ProfileView,
  QueueQuery,
  QueueRequest,
  QueuedView,
  RetryRequest,
  StatusReport,
  SyncEvent,
} from '../../src/lib/bindings'
import { MonthEndMock } from './monthend'
import { formatMinor, KWD_DECIMALS, PaymentGenerator, type BaseView, type ListedView } from './generator'
import type { ActionView, AppInfo, ConnectionCheck, DemoStatus, ImportStart, JobStarted, SyncState } from '../../src/lib/ipc'

export type MockOptions = {
  /** Generated payments (0 with `empty`). */
  payments: number
  seed: number
  /** A fresh machine: no profile, no payment (the first-run panel). */
  empty: boolean
  /** Milliseconds each command waits before answering (the IPC round trip). */
  latency_ms: number
  /** Run a fake sync worker after queue/sync_now/resume: sent, then recorded. */
  worker: boolean
  /** Milliseconds between the worker's (and an import's) steps. */
  step_ms: number
  /** Seed a few operations in every status (stale, blocked, failed...). */
  seed_queue: boolean
  /** app_info.keyring_ephemeral: a throwaway keyring (keys lost at exit). */
  keyring_ephemeral?: boolean
}

export const DEFAULT_OPTIONS: MockOptions = {
  payments: 240,
  seed: 9,
  empty: false,
  latency_ms: 0,
  worker: false,
  step_ms: 120,
  seed_queue: true,
}

type Rec = {
  view: BaseView
  amount_minor: number
  children: ChildView[]
  events: EventView[]
}

type Op = Omit<OperationView, 'actions'> & { created_ms: number; retried_as: number | null }

/** A filtered list, found as far as a page needs (and counted as far as the core does). */
type Scan = {
  positions: number[]
  /** The next generated index to test, up to `end`. */
  next: number
  end: number
  done: boolean
  test: (view: BaseView) => boolean
  testGenerated: (i: number) => boolean
}

type Profile = ProfileDetail

const EXTERNAL: OperationKind[] = ['refund', 'capture', 'void']
const KINDS: OperationKind[] = ['refund', 'capture', 'void', 'cancel', 'expire', 'delete']
const STATES: PaymentState[] = [
  'created', 'pending', 'attempted', 'authorized', 'paid', 'failed', 'canceled', 'expired',
  'invalided', 'cod', 'cash', 'refunded', 'voided',
]
const STATUSES: OperationStatus[] = ['queued', 'in_flight', 'succeeded', 'failed', 'needs_attention', 'dropped', 'blocked']
const RESERVING: OperationStatus[] = ['queued', 'in_flight', 'needs_attention', 'blocked']
const UNFINISHED: OperationStatus[] = RESERVING
const DAY_MS = 86_400_000
const SEARCH_COUNT_CAP = 10_000
const MAX_PAGE_ROWS = 10_000
const DEFAULT_PAGE_ROWS = 50
const DEMO_BASE_URL = 'http://127.0.0.1:47811'

function fail(code: string, kind: ErrorKind, message: string, field: string | null = null, params: Record<string, JsonValue> = {}): never {
  // Thrown as the plain object: `invoke` rejects with it, as with the real shell.
  throw { code, kind, message, field, params } satisfies ErrorView
}

function errorView(code: string, kind: ErrorKind, message: string, field: string | null, params: Record<string, JsonValue>): ErrorView {
  return { code, kind, message, field, params }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

/** The user's amount text -> minor units, with the core's amount.* refusals. */
function parseAmount(text: string, currency: string, field = 'amount'): number {
  const value = text.trim()
  const decimals = KWD_DECIMALS
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(value)) {
    fail('amount.not_decimal', 'invalid_input',
      `'${value}' is not a plain decimal amount: write digits with an optional '.' and up to ${decimals} decimals, e.g. 12.500`,
      field, { value, allowed_decimals: decimals, example: '12.500' })
  }
  const [whole = '', frac = ''] = value.split('.')
  if (frac.length > decimals) {
    fail('amount.too_precise', 'invalid_input', `'${value}' has more decimals than ${currency} allows: at most ${decimals}`,
      field, { value, currency, allowed_decimals: decimals })
  }
  if (whole.replace(/^0+/, '').length > 13) {
    fail('amount.too_many_digits', 'invalid_input', `'${value}' has more than 13 digits before the decimal point`,
      field, { value, max_digits: 13 })
  }
  const minor = Number(whole || '0') * 10 ** decimals + Number(frac.padEnd(decimals, '0') || '0')
  if (minor <= 0) fail('amount.not_positive', 'invalid_input', `'${value}' must be greater than zero`, field, { value })
  return minor
}

function money(minor: number): string {
  return formatMinor(minor, KWD_DECIMALS)
}

export class MockBackend {
  readonly options: MockOptions
  readonly gen: PaymentGenerator
  /** Commands called, by name, and in order (the last 2,000). */
  readonly calls: Record<string, number> = {}
  readonly log: Array<{ cmd: string; request: unknown; at: number }> = []
  /** Milliseconds spent answering, by command (the mock's own cost, not the UI's). */
  readonly spent: Record<string, number> = {}
  private readonly records = new Map<string, Rec>()
  private readonly genIndex = new Map<string, number>()
  /** Payments added by hand, by import or by the demo: oldest first, listed newest first. */
  private readonly added: Rec[] = []
  private readonly ops: Op[] = []
  private readonly profiles: Profile[] = []
  private readonly offline = new Set<string>()
  /** This is the demo's ledger (its profile `demo` talks to the sandbox). */
  private demoLedger = false
  private paused = false
  private outstanding = 0
  private nextOpId = 1
  private nextEventId = 1
  private nextJob = 1
  private readonly jobs = new Map<number, { cancelled: boolean }>()
  /** Report import, reconciliation, settlement and export (tests/mock/monthend.ts). */
  readonly monthEnd: MonthEndMock = new MonthEndMock(
    (name) => void this.profile(name),
    () => this.options.step_ms,
    () => this.nextJob++,
  )
  private readonly recByIndex = new Map<number, Rec>()
  private scans = new Map<string, Scan>()
  private scansVersion = -1
  private version = 0
  private workerBusy = false

  constructor(options: MockOptions) {
    this.options = options
    const now = Date.now()
    const newest = Math.floor(now / 60_000) * 60_000 - 10 * 60_000
    this.gen = new PaymentGenerator(options.seed, options.empty ? 0 : options.payments, newest)
    if (!options.empty) {
      const created = iso(newest - 400 * DAY_MS)
      this.profiles.push(
        { name: 'shop', base_url: 'https://shop.ottu.net', currency: 'KWD', created_at: created, auth: 'api_key',
          basic_user: null, key_stored: true, paused_reason: null, paused_at: null },
        { name: 'souq', base_url: 'https://souq.ottu.net', currency: 'KWD', created_at: created, auth: 'basic',
          basic_user: 'daftar-bot', key_stored: true, paused_reason: null, paused_at: null },
      )
      if (options.seed_queue) this.seedQueue(now)
    }
  }

  // --- fixtures for tests ---

  /** The newest generated payments in `state` with something left to refund. */
  paymentsIn(state: PaymentState, count = 1, from = 0): string[] {
    const found: string[] = []
    for (let i = from; i < this.gen.count && found.length < count; i++) {
      if (this.gen.state(i) !== state) continue
      const sid = this.gen.sessionId(i)
      const rec = this.records.get(sid)
      if (rec && this.opsOf(sid).length > 0) continue
      const p = this.gen.payment(i)
      if (state === 'paid' && p.refunded_minor >= p.amount_minor) continue
      this.genIndex.set(sid, i)
      found.push(sid)
    }
    return found
  }

  operations(): OperationView[] {
    return this.ops.map((op) => this.opView(op))
  }

  // --- the payments ---

  private get listLength(): number {
    return this.added.length + this.gen.count
  }

  private recordFor(i: number): Rec {
    const p = this.gen.payment(i)
    const rec: Rec = { view: p.view, amount_minor: p.amount_minor, children: [], events: [] }
    const created = Date.parse(p.view.created_at)
    rec.events.push(this.event(created, 'ottu', 'payment.imported', 'payment', i + 1, null, { state: p.view.state, amount: p.view.amount }))
    if (p.refunded_minor > 0) {
      rec.children.push({ session_id: `${p.view.session_id.slice(0, 32)}rf000001`, kind: 'refund', amount: money(p.refunded_minor),
        state: 'refunded', operation_id: null, created_at: iso(created + 3_600_000) })
    }
    if (p.captured_minor > 0) {
      rec.children.push({ session_id: `${p.view.session_id.slice(0, 32)}cp000001`, kind: 'capture', amount: money(p.captured_minor),
        state: 'paid', operation_id: null, created_at: iso(created + 1_800_000) })
    }
    return rec
  }

  private event(at_ms: number, actor: string, action: string, entity: string, entity_id: number,
    before: JsonValue | null, after: JsonValue | null): EventView {
    return { id: this.nextEventId++, at: iso(at_ms), actor, action, entity, entity_id, before, after }
  }

  /** The payment at list position `pos` (newest first). */
  private viewAt(pos: number): ListedView {
    if (pos < this.added.length) {
      const rec = this.added[this.added.length - 1 - pos]
      if (!rec) throw new Error(`no payment at ${pos}`)
      return this.listed(rec)
    }
    const i = pos - this.added.length
    const rec = this.recByIndex.get(i)
    if (rec) return this.listed(rec)
    const p = this.gen.payment(i)
    this.genIndex.set(p.view.session_id, i)
    return this.gen.listed(p)
  }

  /** A record's row with its balances now. */
  private listed(rec: Rec): ListedView {
    const b = this.balances(rec).view
    return { ...rec.view, refundable: b.refundable, capturable: b.capturable }
  }

  private rec(sid: string): Rec | null {
    const known = this.records.get(sid)
    if (known) return known
    let index = this.genIndex.get(sid)
    if (index === undefined) {
      // A session id the UI did not get from a list (typed in): find it the slow way.
      const prefix = sid.slice(0, 8).toLowerCase()
      for (let i = 0; i < this.gen.count; i++) {
        if (this.gen.sessionPrefix(i) === prefix && this.gen.sessionId(i) === sid.toLowerCase()) {
          index = i
          break
        }
      }
    }
    if (index === undefined) return null
    const rec = this.recordFor(index)
    this.records.set(rec.view.session_id, rec)
    this.recByIndex.set(index, rec)
    return rec
  }

  private findPayment(lookup: PaymentLookup): Rec {
    const sid = lookup.session_id?.trim() || null
    const order = lookup.order_no?.trim() || null
    if ((sid === null) === (order === null)) {
      fail('input.payment_reference', 'invalid_input', 'name the payment by exactly one of session id and order number', 'payment')
    }
    let rec: Rec | null = null
    if (sid !== null) rec = this.rec(sid)
    else if (order !== null) {
      rec = this.added.find((r) => r.view.order_no === order) ?? null
      const m = /^ORD-(\d{7})$/.exec(order)
      if (!rec && m) {
        const i = this.gen.count - Number(m[1])
        if (i >= 0 && i < this.gen.count && this.gen.orderNo(i) === order) rec = this.rec(this.gen.sessionId(i))
      }
    }
    if (!rec || (lookup.profile && rec.view.profile !== lookup.profile)) {
      fail('not_found', 'not_found', `no payment with ${sid !== null ? `session id '${sid}'` : `order number '${order}'`}`,
        sid !== null ? 'session_id' : 'order_no', { what: 'payment', id: sid ?? order ?? '' })
    }
    return rec
  }

  private checkLimit(limit: number | null | undefined): number {
    if (limit === null || limit === undefined) return DEFAULT_PAGE_ROWS
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) {
      fail('limit.out_of_range', 'invalid_input', `limit must be 1 to ${MAX_PAGE_ROWS}`, 'limit', { value: limit, min: 1, max: MAX_PAGE_ROWS })
    }
    return limit
  }

  private parseDate(text: string, field: string, endOfDay: boolean): number {
    const t = text.trim()
    if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
      const ms = Date.parse(`${t}T00:00:00Z`)
      if (!Number.isNaN(ms)) return endOfDay ? ms + DAY_MS : ms
    } else if (/^\d{4}-\d{2}-\d{2}T/.test(t)) {
      const ms = Date.parse(t)
      if (!Number.isNaN(ms)) return ms
    }
    fail('date.invalid', 'invalid_input', `'${t}' is not a date (2026-02-01) or an RFC 3339 time`, field, { value: t })
  }

  list_payments(q: PaymentQuery): PaymentPage {
    const limit = this.checkLimit(q.limit)
    const state = q.state?.trim() || null
    if (state !== null && !STATES.includes(state as PaymentState)) {
      fail('input.unknown_word', 'invalid_input', `unknown payment state '${state}': allowed are ${STATES.join(', ')}`, 'state',
        { what: 'payment state', value: state, allowed: STATES.join(', ') })
    }
    const profile = q.profile?.trim() || null
    if (profile !== null && !this.profiles.some((p) => p.name === profile)) {
      fail('not_found', 'not_found', `no profile named '${profile}'`, 'profile', { what: 'profile', id: profile })
    }
    const search = q.search?.trim().toLowerCase() || null
    const fromMs = q.from ? this.parseDate(q.from, 'from', false) : null
    const toMs = q.to ? this.parseDate(q.to, 'to', true) : null
    let start = 0
    if (q.after) {
      start = /^p\d+$/.test(q.after) ? Number(q.after.slice(1)) : NaN
      if (!Number.isSafeInteger(start)) fail('cursor.invalid', 'invalid_input', 'this cursor was not given out by this list', 'after', {})
    }
    const filtered = state !== null || profile !== null || search !== null || fromMs !== null || toMs !== null
    if (!filtered) {
      const size = this.listLength
      const end = Math.min(size, start + limit)
      const payments: ListedView[] = []
      for (let k = start; k < end; k++) payments.push(this.viewAt(k))
      return { payments, next_cursor: end < size ? `p${end}` : null, total: size, total_capped: false }
    }
    if (this.scansVersion !== this.version) {
      this.scans.clear()
      this.scansVersion = this.version
    }
    const key = JSON.stringify([state, profile, search, fromMs, toMs])
    let scan = this.scans.get(key)
    if (!scan) {
      scan = this.newScan(state, profile, search, fromMs, toMs)
      this.scans.set(key, scan)
    }
    // A search is counted up to the cap (then pages walk on); other filters exactly.
    this.advance(scan, search !== null ? Math.max(start + limit + 1, SEARCH_COUNT_CAP + 1) : Infinity)
    const found = scan.positions
    const end = Math.min(found.length, start + limit)
    const payments: ListedView[] = []
    for (let k = start; k < end; k++) payments.push(this.viewAt(found[k] ?? 0))
    const more = end < found.length || !scan.done
    const capped = search !== null && found.length > SEARCH_COUNT_CAP
    return { payments, next_cursor: more ? `p${end}` : null, total: capped ? SEARCH_COUNT_CAP : found.length, total_capped: capped }
  }

  private newScan(state: string | null, profile: string | null, search: string | null, fromMs: number | null, toMs: number | null): Scan {
    const hit = (v: string | null) =>
      v !== null && search !== null && (search.length < 3 ? v.toLowerCase().includes(search) : v.toLowerCase().startsWith(search))
    const test = (v: BaseView): boolean => {
      if (state !== null && v.state !== state) return false
      if (profile !== null && v.profile !== profile) return false
      const t = Date.parse(v.created_at)
      if (fromMs !== null && t < fromMs) return false
      if (toMs !== null && t >= toMs) return false
      return search === null || hit(v.session_id) || hit(v.order_no) || hit(v.customer_email) || hit(v.customer_phone) ||
        hit(v.customer_phone?.replace(/^\+/, '') ?? null)
    }
    const searchTest = search !== null ? this.gen.matcher(search) : null
    const testGenerated = (i: number): boolean =>
      (state === null || this.gen.state(i) === state) && (profile === null || this.gen.profile(i) === profile) &&
      (searchTest === null || searchTest(i))
    const positions: number[] = []
    for (let pos = 0; pos < this.added.length; pos++) {
      const rec = this.added[this.added.length - 1 - pos]
      if (rec && test(rec.view)) positions.push(pos)
    }
    // Generated payments are in time order: a date range is a range of indexes.
    let next = toMs !== null ? Math.min(this.gen.count, this.gen.firstIndexBefore(toMs)) : 0
    let end = fromMs !== null ? Math.max(0, Math.min(this.gen.count, this.gen.lastIndexAtOrAfter(fromMs) + 1)) : this.gen.count
    const range = search !== null ? this.gen.searchRange(search) : null
    if (range) {
      next = Math.max(next, range[0])
      end = Math.min(end, range[1])
    }
    return { positions, next, end, done: next >= end, test, testGenerated }
  }

  /** Tests generated payments until `want` positions are found or the list ends. */
  private advance(scan: Scan, want: number): void {
    const base = this.added.length
    const checkRecs = this.recByIndex.size > 0
    let i = scan.next
    while (i < scan.end && scan.positions.length < want) {
      const rec = checkRecs ? this.recByIndex.get(i) : undefined
      if (rec ? scan.test(rec.view) : scan.testGenerated(i)) scan.positions.push(base + i)
      i++
    }
    scan.next = i
    scan.done = i >= scan.end
  }

  // --- balances and the rules (a port of src/rules.rs) ---

  private opsOf(sid: string): Op[] {
    return this.ops.filter((op) => op.session_id === sid)
  }

  private facts(rec: Rec) {
    const sum = (pred: (c: ChildView) => boolean) =>
      rec.children.filter(pred).reduce((a, c) => a + parseAmount(c.amount, rec.view.currency), 0)
    const pending = this.opsOf(rec.view.session_id).filter((op) => RESERVING.includes(op.status))
    const pendingSum = (kind: OperationKind) =>
      pending.filter((op) => op.kind === kind).reduce((a, op) => a + (op.amount ? parseAmount(op.amount, rec.view.currency) : 0), 0)
    const count = (kind: OperationKind) => pending.filter((op) => op.kind === kind).length
    return {
      captured: sum((c) => c.kind === 'capture' && c.state === 'paid'),
      refunded: sum((c) => c.kind === 'refund' && (c.state === 'refunded' || c.state === 'refund_queued')),
      voided: sum((c) => c.kind === 'void' && c.state === 'voided'),
      pending_capture: pendingSum('capture'),
      pending_refund: pendingSum('refund'),
      pending_void: pendingSum('void'),
      void_count: count('void'),
      cancel_count: count('cancel'),
      expire_count: count('expire'),
      delete_count: count('delete'),
    }
  }

  private balances(rec: Rec): { view: BalancesView; refundable: number; capturable: number; captured: number } {
    const f = this.facts(rec)
    const state = rec.view.state
    const captured = state === 'paid' || state === 'refunded' ? rec.amount_minor : f.captured
    const refundAllowed = state === 'paid' || (state === 'authorized' && f.captured + f.pending_capture > 0)
    const base = !refundAllowed ? 0 : state === 'authorized' ? captured + f.pending_capture : captured
    const refundable = Math.max(0, base - f.refunded - f.pending_refund)
    const capturable = state === 'authorized' && f.voided === 0 && f.void_count === 0
      ? Math.max(0, rec.amount_minor - f.captured - f.pending_capture) : 0
    return {
      view: {
        captured: money(captured), refunded: money(f.refunded), voided: money(f.voided),
        pending: money(f.pending_capture + f.pending_refund + f.pending_void),
        refundable: money(refundable), capturable: money(capturable),
      },
      refundable, capturable, captured,
    }
  }

  /** rules::check: the amount the operation reserves, or the core's refusal. */
  private check(kind: OperationKind, requested: number | null, rec: Rec): number {
    const currency = rec.view.currency
    if (requested !== null && kind !== 'refund' && kind !== 'capture') {
      fail('amount.not_accepted', 'invalid_input', `${kind} takes no amount: it always applies to the whole payment; give none`, 'amount', { operation: kind })
    }
    const f = this.facts(rec)
    if (rec.view.hidden) fail('rules.payment_deleted', 'refused', 'the payment is deleted at Ottu; no further operation is possible')
    if (f.delete_count > 0) this.pendingRefusal('delete')
    if (kind !== 'delete') {
      if (f.cancel_count > 0) this.pendingRefusal('cancel')
      if (f.expire_count > 0) this.pendingRefusal('expire')
    }
    const b = this.balances(rec)
    const state = rec.view.state
    const stateRefusal = (allowed: string): never =>
      fail('rules.state', 'refused', `cannot ${kind} a payment in state '${state}': ${kind} is allowed only from ${allowed}`, null,
        { operation: kind, state, allowed_states: allowed })
    const within = (left: number, word: 'refundable' | 'capturable'): number => {
      if (requested === null) {
        if (left > 0) return left
        fail('rules.nothing_left', 'refused', `nothing left to ${kind}: the ${kind}able amount is ${money(left)} ${currency}`, null,
          { operation: kind, left: money(left), currency })
      }
      if (requested <= left) return requested
      fail(kind === 'capture' ? 'rules.capture_exceeds' : 'rules.refund_exceeds', 'refused',
        `${kind} ${money(requested)} ${currency} exceeds the ${word} ${money(left)} ${currency}`, 'amount',
        { requested: money(requested), [word]: money(left), currency })
    }
    switch (kind) {
      case 'refund':
        if (!(state === 'paid' || (state === 'authorized' && f.captured + f.pending_capture > 0))) stateRefusal('paid, or authorized with a capture')
        return within(b.refundable, 'refundable')
      case 'capture':
        if (state !== 'authorized') stateRefusal('authorized')
        if (f.voided > 0 || f.void_count > 0) fail('rules.voided', 'refused', 'the authorization is voided or has a void queued; nothing more can be captured')
        return within(b.capturable, 'capturable')
      case 'void':
        if (state !== 'authorized') stateRefusal('authorized, with nothing captured')
        if (f.voided > 0 || f.void_count > 0) fail('rules.voided', 'refused', 'the authorization is voided or has a void queued; nothing more can be captured')
        if (f.captured + f.pending_capture > 0) {
          const captured = money(f.captured + f.pending_capture)
          fail('rules.void_after_capture', 'refused', `cannot void: ${captured} ${currency} is captured or being captured; refund it instead`, null,
            { captured, currency })
        }
        return rec.amount_minor
      case 'cancel':
        if (!['created', 'pending', 'attempted', 'cod'].includes(state)) stateRefusal('created, pending, attempted, cod')
        return 0
      case 'expire':
        if (!['created', 'pending', 'attempted'].includes(state)) stateRefusal('created, pending, attempted')
        return 0
      case 'delete':
        return 0
    }
  }

  private pendingRefusal(pending: OperationKind): never {
    fail('rules.operation_pending', 'conflict', `a ${pending} is already queued for this payment; drop it first or wait until it is synced`, null, { pending })
  }

  private parseKind(text: string): OperationKind {
    const kind = text.trim() as OperationKind
    if (!KINDS.includes(kind)) {
      fail('input.unknown_word', 'invalid_input', `unknown operation '${text}': allowed are ${KINDS.join(', ')}`, 'operation',
        { what: 'operation', value: text, allowed: KINDS.join(', ') })
    }
    return kind
  }

  private validate(req: QueueRequest): { kind: OperationKind; rec: Rec; requested: number | null; reserved: number } {
    const kind = this.parseKind(req.kind)
    const rec = this.findPayment(req.payment)
    const text = req.amount?.trim() ? req.amount : null
    const requested = text === null || text === undefined ? null : parseAmount(text, rec.view.currency)
    const reserved = this.check(kind, requested, rec)
    return { kind, rec, requested, reserved }
  }

  /** As Ledger::payment_actions: each kind as `queue` would take it with no amount; the
   *  amount it would reserve for refund, capture and void; null when refused. */
  payment_actions(lookup: PaymentLookup): ActionView[] {
    const rec = this.findPayment(lookup)
    return KINDS.map((kind) => {
      try {
        const reserved = this.check(kind, null, rec)
        return { kind, allowed: true, max_amount: EXTERNAL.includes(kind) ? money(reserved) : null, refusal: null }
      } catch (e) {
        return { kind, allowed: false, max_amount: null, refusal: e as ErrorView }
      }
    })
  }

  preview_operation(req: QueueRequest): string | null {
    const { kind, reserved } = this.validate(req)
    return EXTERNAL.includes(kind) ? money(reserved) : null
  }

  show_payment(lookup: PaymentLookup): PaymentDetail {
    return this.detail(this.findPayment(lookup))
  }

  private detail(rec: Rec): PaymentDetail {
    const detail = {
      ...rec.view,
      balances: this.balances(rec).view,
      operations: this.opsOf(rec.view.session_id).map((op) => this.opView(op)),
      children: rec.children.map((c) => ({ ...c })),
      events: rec.events.map((e) => ({ ...e })),
    }
    return detail
  }

  // --- the queue ---

  private opView(op: Op): OperationView {
    const { created_ms: _c, retried_as: _r, ...view } = op
    // The same checks retry_operation / resend_operation / drop_operation below make (the core's OperationActions).
    const retry = ['failed', 'blocked', 'needs_attention'].includes(op.status) && op.retried_as === null
    const actions = {
      retry,
      retry_needs_confirmation: retry && (op.sent || op.status !== 'blocked'),
      resend: op.status === 'needs_attention',
      drop: !op.sent && ['queued', 'blocked'].includes(op.status),
    }
    return { ...view, actions, age_ms: UNFINISHED.includes(op.status) ? Math.max(0, Date.now() - op.created_ms) : null }
  }

  private checkReason(reason: string | null | undefined): string | null {
    const r = reason?.trim() || null
    if (r === null) return null
    if (r.length > 500) fail('reason.too_long', 'invalid_input', 'the reason is longer than 500 characters', 'reason', { max: 500, length: r.length })
    if (/[\u0000-\u001f\u007f]/.test(r)) fail('reason.bad_character', 'invalid_input', 'the reason holds a control character', 'reason', {})
    return r
  }

  private addOp(rec: Rec, kind: OperationKind, amount: number | null, requested: number | null, reason: string | null,
    created_ms: number, status: OperationStatus = 'queued'): Op {
    const id = this.nextOpId++
    const op: Op = {
      id, kind, amount: amount === null ? null : money(amount), requested_amount: requested === null ? null : money(requested),
      status, tracking_key: `dft-${String(id).padStart(6, '0')}-${rec.view.session_id.slice(0, 6)}`,
      created_at: iso(created_ms), updated_at: iso(created_ms), attempts: 0, sent: false, reason,
      requested_by: 'merchant', last_error: null, session_id: rec.view.session_id, order_no: rec.view.order_no,
      profile: rec.view.profile, currency: rec.view.currency, next_attempt_at: null, age_ms: null, created_ms, retried_as: null,
    }
    this.ops.push(op)
    rec.events.push(this.event(created_ms, 'merchant', 'operation.queued', 'operation', id, null,
      { kind, amount: op.amount, status: op.status, reason }))
    this.records.set(rec.view.session_id, rec)
    this.version++
    return op
  }

  queue_operation(req: QueueRequest): QueuedView {
    const { kind, rec, requested, reserved } = this.validate(req)
    const reason = this.checkReason(req.reason)
    const op = this.addOp(rec, kind, EXTERNAL.includes(kind) ? reserved : null, requested, reason, Date.now())
    this.outstanding = this.waiting()
    this.wake()
    return { balances: this.balances(rec).view, ...this.opView(op) }
  }

  private op(id: number): Op {
    const op = this.ops.find((o) => o.id === id)
    if (!op) fail('not_found', 'not_found', `no operation ${id}`, 'id', { what: 'operation', id: String(id) })
    return op
  }

  list_queue(q: QueueQuery): OperationPage {
    const limit = this.checkLimit(q.limit)
    const status = q.status?.trim() || null
    if (status !== null && !STATUSES.includes(status as OperationStatus)) {
      fail('input.unknown_word', 'invalid_input', `unknown operation status '${status}'`, 'status', { what: 'operation status', value: status, allowed: STATUSES.join(', ') })
    }
    let after = 0
    if (q.after) {
      after = /^o\d+$/.test(q.after) ? Number(q.after.slice(1)) : NaN
      if (!Number.isSafeInteger(after)) fail('cursor.invalid', 'invalid_input', 'this cursor was not given out by this list', 'after', {})
    }
    const all = this.ops.filter((op) => status === null || op.status === status)
    const rest = all.filter((op) => op.id > after)
    const page = rest.slice(0, limit)
    const last = page[page.length - 1]
    return {
      operations: page.map((op) => this.opView(op)),
      next_cursor: rest.length > limit && last ? `o${last.id}` : null,
      total: all.length,
    }
  }

  retry_operation(req: RetryRequest): QueuedView {
    const original = this.op(req.id)
    if (!['failed', 'blocked', 'needs_attention'].includes(original.status)) {
      fail('queue.not_retryable', 'refused', `operation ${original.id} is ${original.status}: only a failed, blocked or unresolved operation can be retried`,
        'id', { id: original.id, status: original.status })
    }
    if (original.retried_as !== null) {
      fail('queue.already_retried', 'conflict', `operation ${original.id} was retried already`, 'id', { id: original.id, retried_as: original.retried_as })
    }
    const reason = this.checkReason(req.reason)
    // As the core: a blocked operation may have been sent before it was held.
    const wasSent = original.sent || original.status !== 'blocked'
    if (wasSent && !req.confirm_not_applied) {
      fail('retry.unconfirmed', 'invalid_input', `operation ${original.id} was sent to Ottu: retrying it needs your confirmation and a reason`,
        'confirm', { id: original.id })
    }
    if (wasSent && reason === null) fail('retry.reason_missing', 'invalid_input', 'retrying a sent operation needs a reason', 'reason', { id: original.id })
    const rec = this.findPayment({ session_id: original.session_id })
    if (original.status !== 'failed') original.status = 'dropped'
    original.updated_at = iso(Date.now())
    const amount = original.amount === null ? null : parseAmount(original.amount, original.currency)
    const requested = original.requested_amount === null ? null : parseAmount(original.requested_amount, original.currency)
    const op = this.addOp(rec, original.kind, amount, requested, reason ?? original.reason, Date.now())
    original.retried_as = op.id
    this.outstanding = this.waiting()
    this.wake()
    return { balances: this.balances(rec).view, ...this.opView(op) }
  }

  resend_operation(req: { id: number }): OperationView {
    const op = this.op(req.id)
    if (op.status !== 'needs_attention') {
      fail('queue.not_resendable', 'refused', `operation ${op.id} is ${op.status}: only an unresolved operation can be resent`, 'id', { id: op.id, status: op.status })
    }
    op.status = 'queued'
    op.last_error = 'Resent by the merchant with the same tracking key.'
    op.last_error_code = 'operation.resent'
    op.last_error_params = {}
    op.updated_at = iso(Date.now())
    this.version++
    this.wake()
    return this.opView(op)
  }

  drop_operation(req: { id: number; reason?: string | null }): OperationView {
    const op = this.op(req.id)
    if (op.sent || !['queued', 'blocked'].includes(op.status)) {
      fail('queue.not_droppable', 'refused', `operation ${op.id} may have reached Ottu: it cannot be dropped`, 'id', { id: op.id, status: op.status })
    }
    op.status = 'dropped'
    op.reason = this.checkReason(req.reason) ?? op.reason
    op.updated_at = iso(Date.now())
    this.version++
    this.outstanding = this.waiting()
    return this.opView(op)
  }

  private waiting(profile?: string): number {
    return this.ops.filter((op) => (op.status === 'queued' || op.status === 'in_flight') && (!profile || op.profile === profile)).length
  }

  status(): StatusReport {
    const counts = (ops: Op[]) => {
      const c = { queued: 0, in_flight: 0, succeeded: 0, failed: 0, needs_attention: 0, dropped: 0, blocked: 0 }
      for (const op of ops) c[op.status]++
      return c
    }
    const oldest = (ops: Op[]) => {
      const waiting = ops.filter((op) => op.status === 'queued' || op.status === 'in_flight')
      return waiting.length ? Math.min(...waiting.map((op) => op.created_ms)) : null
    }
    const profiles: Record<string, ProfileStatus> = {}
    for (const p of this.profiles) {
      const ops = this.ops.filter((op) => op.profile === p.name)
      const o = oldest(ops)
      profiles[p.name] = {
        paused: p.paused_reason ? { reason: p.paused_reason, since: p.paused_at } : null,
        oldest_queued_at: o === null ? null : iso(o), oldest_queued_age_ms: o === null ? null : Date.now() - o, ...counts(ops),
      }
    }
    const o = oldest(this.ops)
    return { profiles, paused: [], oldest_queued_age_ms: o === null ? null : Date.now() - o, ...counts(this.ops) }
  }

  private connection(p: Profile): ProfileSyncStatus['connection'] {
    if (!p.key_stored) return 'held'
    if (p.paused_reason) return 'paused'
    if (this.offline.has(p.name)) return 'offline'
    return this.ops.some((op) => op.profile === p.name && op.attempts > 0) || (this.demoLedger && p.name === 'demo') ? 'online' : 'unknown'
  }

  sync_state(): SyncState {
    return {
      paused_by_merchant: this.paused,
      worker_error: null,
      status: {
        running: !this.paused,
        outstanding: this.outstanding,
        store_error: null, store_error_code: null, store_error_params: null,
        profiles: this.profiles.map((p) => {
          const waiting = this.ops.filter((op) => op.profile === p.name && (op.status === 'queued' || op.status === 'in_flight'))
          const oldest = waiting.length ? Math.min(...waiting.map((op) => op.created_ms)) : null
          const connection = this.connection(p)
          return {
            profile: p.name, connection,
            paused_reason: connection === 'held' ? 'no credential is stored for this profile' : p.paused_reason,
            paused_code: connection === 'held' ? 'ottu.credential' : null,
            paused_params: connection === 'held' ? { profile: p.name } : null,
            waiting: waiting.length, oldest_queued_age_ms: oldest === null ? null : Date.now() - oldest,
          }
        }),
      },
    }
  }

  // --- the fake worker ---

  private wake(): void {
    if (!this.options.worker || this.paused || this.workerBusy) return
    this.workerBusy = true
    void this.runWorker().finally(() => {
      this.workerBusy = false
    })
  }

  private async runWorker(): Promise<void> {
    await this.emitSync({ event: 'outstanding', total: this.waiting() })
    for (;;) {
      const op = this.ops.find((o) => o.status === 'queued' && !this.offline.has(o.profile))
      if (!op || this.paused) break
      await sleep(this.options.step_ms)
      op.status = 'in_flight'
      op.attempts++
      op.sent = true
      await this.emitSync({ event: 'sent', id: op.id, attempt: op.attempts })
      await sleep(this.options.step_ms)
      await this.emitEvent('sync-event', {
        event: 'recorded', id: op.id, kind: op.kind, session_id: op.session_id, profile: op.profile, attempt: op.attempts,
        status: 'succeeded', detail: `Ottu accepted the ${op.kind}`, code: null, params: null, retry_in_ms: null,
      } satisfies SyncEvent)
    }
    for (const profile of this.offline) {
      if (this.ops.some((o) => o.status === 'queued' && o.profile === profile)) {
        await this.emitSync({ event: 'offline', retry_in_ms: 5_000, profile })
      }
    }
    await this.emitSync({ event: 'outstanding', total: this.waiting() })
    await this.emitSync({ event: 'idle', next_due_in_ms: null })
  }

  private emitSync(e: SyncEvent): Promise<void> {
    return this.emitEvent('sync-event', e)
  }

  /** Applies what an event says to the fake's state (so a refetch agrees), then emits it. */
  async emitEvent(name: string, payload: unknown): Promise<void> {
    if (name === 'sync-event') this.apply(payload as SyncEvent)
    await emit(name, payload)
  }

  private apply(e: SyncEvent): void {
    switch (e.event) {
      case 'outstanding':
        this.outstanding = e.total
        break
      case 'sent': {
        const op = this.ops.find((o) => o.id === e.id)
        if (op) Object.assign(op, { status: 'in_flight', attempts: e.attempt, sent: true, updated_at: iso(Date.now()) })
        break
      }
      case 'recorded': {
        const op = this.ops.find((o) => o.id === e.id)
        if (!op) break
        op.status = e.status
        op.attempts = e.attempt
        op.sent = true
        op.updated_at = iso(Date.now())
        if (e.status !== 'succeeded') {
          op.last_error = e.detail
          if (e.code !== null) op.last_error_code = e.code
          if (e.params !== null) op.last_error_params = e.params
          op.next_attempt_at = e.retry_in_ms === null ? null : iso(Date.now() + e.retry_in_ms)
        } else this.succeed(op)
        this.version++
        break
      }
      case 'offline':
        this.offline.add(e.profile)
        break
      case 'online':
        this.offline.delete(e.profile)
        break
      default:
        break
    }
  }

  private succeed(op: Op): void {
    const rec = this.records.get(op.session_id)
    if (!rec) return
    const now = Date.now()
    const child = (kind: OperationKind, state: ChildView['state']) =>
      rec.children.push({ session_id: `${op.session_id.slice(0, 30)}op${String(op.id).padStart(8, '0')}`, kind,
        amount: op.amount ?? rec.view.amount, state, operation_id: op.id, created_at: iso(now) })
    if (op.kind === 'refund') {
      child('refund', 'refunded')
      if (this.balances(rec).refundable === 0 && rec.view.state === 'paid') rec.view = { ...rec.view, state: 'refunded' }
    } else if (op.kind === 'capture') {
      child('capture', 'paid')
      if (this.balances(rec).capturable === 0) rec.view = { ...rec.view, state: 'paid' }
    } else if (op.kind === 'void') {
      child('void', 'voided')
      rec.view = { ...rec.view, state: 'voided' }
    } else if (op.kind === 'cancel') rec.view = { ...rec.view, state: 'canceled' }
    else if (op.kind === 'expire') rec.view = { ...rec.view, state: 'expired' }
    else if (op.kind === 'delete') rec.view = { ...rec.view, hidden: true }
    rec.events.push(this.event(now, 'sync', 'operation.succeeded', 'operation', op.id, { status: 'in_flight' }, { status: 'succeeded' }))
  }

  /** Wakes the worker; without the fake worker, only says how much waits (as an idle one would). */
  private async syncNow(): Promise<SyncState> {
    if (this.options.worker) this.wake()
    else await this.emitSync({ event: 'outstanding', total: this.waiting() })
    return this.sync_state()
  }

  private async setPaused(paused: boolean): Promise<SyncState> {
    this.paused = paused
    const state = this.sync_state()
    await emit('sync-state', state)
    await this.emitSync(paused ? { event: 'idle', next_due_in_ms: null } : { event: 'outstanding', total: this.waiting() })
    if (!paused) this.wake()
    return this.sync_state()
  }

  // --- payments added and imported ---

  private newRec(view: BaseView, amount_minor: number, actor: string): Rec {
    const rec: Rec = { view, amount_minor, children: [], events: [] }
    rec.events.push(this.event(Date.parse(view.created_at), actor, 'payment.added', 'payment', 0, null, { state: view.state, amount: view.amount }))
    this.added.push(rec)
    this.records.set(view.session_id, rec)
    this.version++
    return rec
  }

  private checkRef(value: string, field: string): string {
    const v = value.trim()
    const what = field === 'session_ids' ? 'session id' : field.replace('_', ' ')
    if (!v) fail('input.empty', 'invalid_input', `the ${what} is empty`, field, { what })
    if (v.length > 128) fail('input.too_long', 'invalid_input', `the ${what} is longer than 128 characters`, field, { what, length: v.length, max_length: 128 })
    if (!/^[A-Za-z0-9_.:-]+$/.test(v)) {
      fail('input.bad_character', 'invalid_input', `'${v}' holds a character a ${what} may not`, field,
        { what, value: v, problem: 'a character outside letters, digits, and _ . : -', allowed: 'letters, digits, _ . : -' })
    }
    return v
  }

  private profile(name: string, field = 'profile'): Profile {
    const p = this.profiles.find((x) => x.name === name.trim())
    if (!p) fail('not_found', 'not_found', `no profile named '${name}'`, field, { what: 'profile', id: name })
    return p
  }

  add_payment(input: PaymentInput): PaymentDetail {
    const profile = this.profile(input.profile)
    const sid = this.checkRef(input.session_id, 'session_id')
    const order = input.order_no?.trim() ? this.checkRef(input.order_no, 'order_no') : null
    if (input.currency.trim() !== profile.currency) {
      fail('amount.currency', 'invalid_input', `amount is in ${input.currency} but the profile is in ${profile.currency}`, 'currency',
        { currency: input.currency, expected_currency: profile.currency })
    }
    const minor = parseAmount(input.amount, profile.currency)
    const state = input.state.trim()
    if (!STATES.includes(state as PaymentState)) {
      fail('input.unknown_word', 'invalid_input', `unknown payment state '${state}'`, 'state', { what: 'payment state', value: state, allowed: STATES.join(', ') })
    }
    if (this.rec(sid) || (order && this.added.some((r) => r.view.order_no === order))) {
      fail('payment.exists', 'invalid_input', 'a payment with that session id or order number exists already', order && !this.rec(sid) ? 'order_no' : 'session_id',
        { session_id: sid, order_no: order })
    }
    const rec = this.newRec({
      session_id: sid, order_no: order, profile: profile.name, currency: profile.currency, amount: money(minor),
      state: state as PaymentState, hidden: false, source: 'manual', created_at: iso(Date.now()), customer_email: null, customer_phone: null,
    }, minor, 'merchant')
    return this.detail(rec)
  }

  import_start(req: ImportStart): JobStarted {
    const profile = this.profile(req.profile)
    const ids = req.session_ids.map((s) => s.trim()).filter((s) => s !== '')
    if (ids.length === 0) fail('import.nothing', 'invalid_input', 'name at least one session id', 'session_ids', {})
    if (ids.length > 10_000) fail('import.too_many_ids', 'invalid_input', 'more than 10000 session ids at once', 'ids', { max: 10_000, given: ids.length })
    for (const id of ids) this.checkRef(id, 'session_ids')
    const job = this.nextJob++
    this.jobs.set(job, { cancelled: false })
    void this.runImport(job, profile, ids)
    return { job }
  }

  private async runImport(job: number, profile: Profile, ids: string[]): Promise<void> {
    const summary: ImportSummary = { added: 0, updated: 0, unchanged: 0, failed: [], failed_count: 0, rejected: [], rejected_count: 0, stopped: null }
    let handled = 0
    for (const id of ids) {
      await sleep(this.options.step_ms)
      if (this.jobs.get(job)?.cancelled) {
        summary.stopped = { reason: 'interrupted', code: 'interrupted', message: 'stopped by the user', line: null, session_id: id }
        break
      }
      handled++
      if (id.toLowerCase().startsWith('missing')) {
        summary.failed.push({ session_id: id, error: 'Ottu has no payment with this session id', code: 'not_found', params: { what: 'payment' } })
        summary.failed_count++
      } else if (this.records.has(id) || this.added.some((r) => r.view.session_id === id)) summary.unchanged++
      else {
        const minor = 1_000 + (id.length * 7919) % 90_000
        this.newRec({
          session_id: id, order_no: null, profile: profile.name, currency: profile.currency, amount: money(minor), state: 'paid',
          hidden: false, source: 'ottu', created_at: iso(Date.now()), customer_email: null, customer_phone: null,
        }, minor, 'import')
        summary.added++
      }
      await emit('import-progress', {
        job, progress: { from_file: false, bytes_total: null, ids_given: ids.length, bytes_read: 0, handled, imported: summary.added },
      })
    }
    this.jobs.delete(job)
    await emit('import-finished', { job, summary, error: null })
  }

  job_cancel(req: { job: number }): null {
    if (this.monthEnd.owns(req.job)) {
      this.monthEnd.cancel(req.job)
      return null
    }
    const job = this.jobs.get(req.job)
    if (!job) fail('not_found', 'not_found', `no job ${req.job}`, 'job', { what: 'job', id: String(req.job) })
    job.cancelled = true
    return null
  }

  // --- profiles and keys ---

  private checkBaseUrl(url: string): string {
    const u = url
    if (u.length > 256) fail('base_url.too_long', 'invalid_input', 'the base URL is longer than 256 characters', 'base_url', {})
    // As src/ottu/base_url.rs (field base_url, no params: the message names the URL).
    if (/\s/.test(u)) fail('base_url.invalid', 'invalid_input', `base URL '${u}' contains a blank or control character`, 'base_url', {})
    let parsed: URL
    try {
      parsed = new URL(u)
    } catch {
      fail('base_url.invalid', 'invalid_input', `'${u}' is not a URL Ottu can be reached at`, 'base_url', {})
    }
    if (parsed.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
      fail('base_url.insecure', 'invalid_input', `'${u}' is plain HTTP to another machine: use https`, 'base_url', {})
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      fail('base_url.invalid', 'invalid_input', `'${u}' is not a URL Ottu can be reached at`, 'base_url', {})
    }
    return u.replace(/\/+$/, '')
  }

  private checkCurrency(c: string): string {
    const code = c.trim().toUpperCase()
    const known = ['KWD', 'BHD', 'OMR', 'JOD', 'SAR', 'AED', 'QAR', 'EGP', 'USD', 'EUR']
    if (!known.includes(code)) {
      fail('currency.unknown', 'invalid_input', `unknown currency '${c}': allowed are ${known.join(', ')}`, 'currency', { value: c, allowed: known.join(', ') })
    }
    return code
  }

  add_profile(req: { name: string; base_url: string; currency: string }): ProfileDetail {
    const name = this.checkRef(req.name, 'name')
    if (this.profiles.some((p) => p.name === name)) fail('profile.exists', 'invalid_input', `a profile named '${name}' exists already`, 'name', { name })
    const p: Profile = {
      name, base_url: this.checkBaseUrl(req.base_url), currency: this.checkCurrency(req.currency), created_at: iso(Date.now()),
      auth: 'api_key', basic_user: null, key_stored: false, paused_reason: null, paused_at: null,
    }
    this.profiles.push(p)
    return { ...p }
  }

  set_profile(req: ProfileChange): ProfileChanged {
    const p = this.profile(req.name, 'name')
    const changed: string[] = []
    let set_key_again = false
    if (req.base_url !== null && req.base_url !== undefined) {
      const url = this.checkBaseUrl(req.base_url)
      if (url !== p.base_url) {
        p.base_url = url
        changed.push('base_url')
        set_key_again = p.key_stored
        p.key_stored = false
      }
    }
    if (req.currency !== null && req.currency !== undefined) {
      const c = this.checkCurrency(req.currency)
      if (c !== p.currency) {
        if (this.gen.count > 0 || this.added.some((r) => r.view.profile === p.name)) {
          fail('profile.in_use', 'refused', `profile '${p.name}' has payments in ${p.currency}: its currency stays`, 'currency', { name: p.name })
        }
        p.currency = c
        changed.push('currency')
      }
    }
    const pause_lifted = changed.includes('base_url') ? p.paused_reason : null
    if (pause_lifted) p.paused_reason = null
    return { changed, set_key_again, pause_lifted, name: p.name, base_url: p.base_url, currency: p.currency, created_at: p.created_at }
  }

  remove_profile(req: { name: string }): ProfileView {
    const p = this.profile(req.name, 'name')
    if ((this.gen.count > 0 && (p.name === 'shop' || p.name === 'souq')) || this.added.some((r) => r.view.profile === p.name)) {
      fail('profile.in_use', 'refused', `profile '${p.name}' has payments: it is not deleted`, 'name', { name: p.name })
    }
    this.profiles.splice(this.profiles.indexOf(p), 1)
    return { name: p.name, base_url: p.base_url, currency: p.currency, created_at: p.created_at }
  }

  set_key(req: { profile: string; basic_user: string | null; secret: string }): ProfileDetail {
    const p = this.profile(req.profile)
    const user = req.basic_user?.trim() ?? null
    if (req.basic_user !== null && !user) fail('basic_user.empty', 'invalid_input', 'the Basic auth user is empty', 'basic_user', {})
    if (user && user.length > 150) fail('basic_user.too_long', 'invalid_input', 'the Basic auth user is longer than 150 characters', 'basic_user', { max: 150 })
    // As src/ledger/keys.rs: field `key`, never the value in a message; an API key is trimmed.
    const what = user === null ? 'the API key' : "the Basic user's password"
    const secret = user === null ? req.secret.trim() : req.secret
    const length = [...secret].length
    if (!secret) fail('key.empty', 'invalid_input', `${what} is empty`, 'key', { what })
    if (length < 8) {
      fail('key.too_short', 'invalid_input', `${what} is ${length} characters long, fewer than the 8 required`, 'key', { what, length, min_length: 8 })
    }
    if (length > 1024) {
      fail('key.too_long', 'invalid_input', `${what} is ${length} characters long, more than the 1024 allowed`, 'key', { what, length, max_length: 1024 })
    }
    const control = [...secret].findIndex((c) => /[\u0000-\u001f\u007f]/.test(c))
    if (control >= 0) fail('key.bad_character', 'invalid_input', `${what} has a control character at position ${control + 1}`, 'key', { what, position: control + 1 })
    p.auth = user === null ? 'api_key' : 'basic'
    p.basic_user = user
    p.key_stored = true
    p.paused_reason = null
    p.paused_at = null
    return { ...p }
  }

  remove_key(req: { name: string }): ProfileDetail {
    const p = this.profile(req.name, 'name')
    p.key_stored = false
    return { ...p }
  }

  test_connection(req: { name: string }): ConnectionCheck {
    const p = this.profile(req.name, 'name')
    const checked_at = iso(Date.now())
    if (!p.key_stored) {
      return { ok: false, checked_at, error: errorView('ottu.credential', 'unavailable', `no credential is stored for profile '${p.name}'`, null, { profile: p.name }) }
    }
    if (this.offline.has(p.name) || p.base_url.includes('unreachable')) {
      return { ok: false, checked_at, error: errorView('ottu.offline', 'unavailable', `Ottu could not be reached at ${p.base_url}`, null, { base_url: p.base_url }) }
    }
    return { ok: true, error: null, checked_at }
  }

  // --- the demo (this ledger as the demo's own: see MockShell) ---

  /** What demo_start puts in a fresh demo ledger: the profile `demo` with its key, and the
   *  sandbox's sample payments. */
  seedDemo(): void {
    if (this.profiles.some((p) => p.name === 'demo')) return
    this.profiles.push({ name: 'demo', base_url: DEMO_BASE_URL, currency: 'KWD', created_at: iso(Date.now()), auth: 'api_key',
      basic_user: null, key_stored: true, paused_reason: null, paused_at: null })
    for (let k = 0; k < 12; k++) {
      const minor = 2_500 + k * 1_750
      this.newRec({
        session_id: `demo${String(k + 1).padStart(4, '0')}a7c3e9f1b2d4c6e8f0a1b3c5d7e9f1a2b3c4`, order_no: `DEMO-${1001 + k}`, profile: 'demo',
        currency: 'KWD', amount: money(minor), state: k % 4 === 3 ? 'authorized' : 'paid', hidden: false, source: 'ottu',
        created_at: iso(Date.now() - (12 - k) * 3_600_000), customer_email: `guest${k + 1}@example.com`, customer_phone: null,
      }, minor, 'import')
    }
    this.demoLedger = true
  }

  /** The sandbox going away or coming back: what the worker then reports, and a wake. */
  async setDemoOnline(online: boolean): Promise<void> {
    await this.emitSync(online ? { event: 'online', profile: 'demo' } : { event: 'offline', retry_in_ms: 5_000, profile: 'demo' })
    if (online) this.wake()
  }

  // --- the dispatcher ---

  async handle(cmd: string, args: Record<string, unknown> | undefined): Promise<unknown> {
    this.calls[cmd] = (this.calls[cmd] ?? 0) + 1
    const request = args?.['request']
    this.log.push({ cmd, request, at: performance.now() })
    if (this.log.length > 2_000) this.log.shift()
    if (this.options.latency_ms > 0) await sleep(this.options.latency_ms)
    const r = request as never
    const t0 = performance.now()
    try {
      return this.answer(cmd, r)
    } finally {
      this.spent[cmd] = (this.spent[cmd] ?? 0) + performance.now() - t0
    }
  }

  private async answer(cmd: string, r: never): Promise<unknown> {
    let result: unknown
    switch (cmd) {
      case 'app_info':
        result = {
          version: '0.1.0-mock', log_dir: null, smoke: false,
          ledger_path: `/home/merchant/.local/share/daftar/ledger${this.demoLedger ? '.demo' : ''}.sqlite3`,
          has_profiles: this.profiles.length > 0, ledger_error: null, keyring_ephemeral: this.options.keyring_ephemeral ?? false,
        } satisfies AppInfo
        break
      case 'list_payments': result = this.list_payments(r ?? {}); break
      case 'show_payment': result = this.show_payment(r); break
      case 'payment_actions': result = this.payment_actions(r); break
      case 'preview_operation': result = this.preview_operation(r); break
      case 'queue_operation': result = this.queue_operation(r); break
      case 'add_payment': result = this.add_payment(r); break
      case 'list_queue': result = this.list_queue(r ?? {}); break
      case 'retry_operation': result = this.retry_operation(r); break
      case 'resend_operation': result = this.resend_operation(r); break
      case 'drop_operation': result = this.drop_operation(r); break
      case 'status': result = this.status(); break
      case 'sync_state': result = this.sync_state(); break
      case 'sync_now': result = await this.syncNow(); break
      case 'sync_pause': result = await this.setPaused(true); break
      case 'sync_resume': result = await this.setPaused(false); break
      case 'import_start': result = this.import_start(r); break
      case 'job_cancel': result = this.job_cancel(r); break
      case 'profiles': result = this.profiles.map((p) => ({ ...p })); break
      case 'add_profile': result = this.add_profile(r); break
      case 'set_profile': result = this.set_profile(r); break
      case 'remove_profile': result = this.remove_profile(r); break
      case 'set_key': result = this.set_key(r); break
      case 'remove_key': result = this.remove_key(r); break
      case 'test_connection': result = this.test_connection(r); break
      case 'smoke_painted': result = null; break
      case 'report_list': result = this.monthEnd.report_list(r); break
      case 'report_import_start': result = this.monthEnd.report_import_start(r); break
      case 'reconcile_start': result = this.monthEnd.reconcile_start(r); break
      case 'reconciliations': result = this.monthEnd.reconciliations_(r ?? { profile: null }); break
      case 'reconciliation': result = this.monthEnd.reconciliation(r); break
      case 'reconcile_items': result = this.monthEnd.reconcile_items(r); break
      case 'reconcile_decide': result = this.monthEnd.reconcile_decide(r); break
      case 'lock_period': result = this.monthEnd.lock_period(r); break
      case 'periods': result = this.monthEnd.periods(r ?? { profile: null }); break
      case 'settlement_import': result = this.monthEnd.settlement_import(r); break
      case 'settlement_match': result = this.monthEnd.settlement_match(r); break
      case 'export_start': result = this.monthEnd.export_start(r); break
      default:
        fail('app.unknown_command', 'internal', `the mock backend has no command '${cmd}'`, null, { command: cmd })
    }
    // What crosses IPC is JSON: the UI never holds the mock's own objects.
    return result === undefined ? null : JSON.parse(JSON.stringify(result))
  }

  /** A few operations in every status, on the newest paid and authorized payments. */
  private seedQueue(now: number): void {
    const paid = this.paymentsIn('paid', 6, 20)
    const auth = this.paymentsIn('authorized', 1, 20)
    const at = (k: number) => paid[k] ?? paid[0] ?? ''
    if (paid.length < 5) return
    const mk = (sid: string, kind: OperationKind, fraction: number | null, ageMs: number, status: OperationStatus, extra: Partial<Op> = {}) => {
      const rec = this.rec(sid)
      if (!rec) return
      const amount = fraction === null ? null : Math.max(1, Math.floor((this.balances(rec).refundable * fraction)))
      const op = this.addOp(rec, kind, amount, amount, 'customer returned the goods', now - ageMs, status)
      Object.assign(op, extra)
    }
    mk(at(0), 'refund', 0.5, 2 * DAY_MS + 3_600_000, 'queued')
    mk(at(1), 'refund', 0.25, 40 * 60_000, 'failed', {
      attempts: 1, sent: true, last_error: 'Ottu refused the operation: refund window closed',
      last_error_code: 'ottu.refused', last_error_params: { detail: 'refund window closed' },
    })
    mk(at(1), 'refund', 0.1, 35 * 60_000, 'blocked', {
      last_error: 'Held behind an earlier operation of the payment that failed or is unresolved.', last_error_code: 'operation.held',
      last_error_params: { blocking_id: 1 },
    })
    mk(at(2), 'refund', 1, 3 * 3_600_000, 'needs_attention', {
      attempts: 10, sent: true, last_error: 'Still no known outcome after the attempts limit: needs the merchant.',
      last_error_code: 'operation.unresolved', last_error_params: { attempts: 10 },
    })
    mk(at(3), 'refund', 0.3, 5 * 60_000, 'queued', {
      attempts: 2, next_attempt_at: iso(now + 90_000), last_error: 'Ottu could not be reached.', last_error_code: 'ottu.offline', last_error_params: {},
    })
    mk(at(4), 'refund', 0.2, 26 * 3_600_000, 'succeeded', { attempts: 1, sent: true })
    if (auth[0]) mk(auth[0], 'capture', null, 20 * 60_000, 'queued')
    // The succeeded one reached Ottu: record its child like the worker would have.
    const done = this.ops.find((op) => op.status === 'succeeded')
    if (done) this.succeed(done)
    this.outstanding = this.waiting()
  }
}

/** The shell around the ledgers: the merchant's, and the demo's own, which demo_start
 *  switches to and demo_leave back from (src-tauri/src/demo.rs). Ledger commands go to
 *  the current one; the demo's commands are the shell's. */
export class MockShell {
  readonly options: MockOptions
  readonly main: MockBackend
  /** Commands called, by name, whichever ledger answered. */
  readonly calls: Record<string, number> = {}
  private demoLedger: MockBackend | null = null
  private inDemo = false
  private online = true

  constructor(options: MockOptions) {
    this.options = options
    this.main = new MockBackend(options)
  }

  get current(): MockBackend {
    return this.inDemo && this.demoLedger ? this.demoLedger : this.main
  }

  status(): DemoStatus {
    return this.inDemo
      ? { active: true, online: this.online, profile: 'demo', base_url: DEMO_BASE_URL }
      : { active: false, online: false, profile: null, base_url: null }
  }

  private async announce(): Promise<DemoStatus> {
    const status = this.status()
    await emit('demo-status', status)
    return status
  }

  async handle(cmd: string, args: Record<string, unknown> | undefined): Promise<unknown> {
    this.calls[cmd] = (this.calls[cmd] ?? 0) + 1
    switch (cmd) {
      case 'demo_status':
        return this.status()
      case 'demo_start': {
        if (this.inDemo) return this.status()
        if (!this.demoLedger) {
          this.demoLedger = new MockBackend({ ...this.options, empty: true, seed_queue: false })
          this.demoLedger.seedDemo()
        }
        this.inDemo = true
        this.online = true
        await this.demoLedger.setDemoOnline(true)
        return this.announce()
      }
      case 'demo_leave':
        if (!this.inDemo) return this.status()
        this.inDemo = false
        return this.announce()
      case 'demo_settlement_file': {
        if (!this.inDemo || !this.demoLedger || !this.online) {
          throw { code: 'demo.not_started', kind: 'invalid_input', message: 'the demo is not running: start it first', field: null, params: {} } satisfies ErrorView
        }
        const csv = 'Order No,RRN,Amount,Fee,Net Amount,Currency,Settlement Date\nDEMO-1001,RRN1001,2.500,0.038,2.462,KWD,2026-11-04\n'
        return this.demoLedger.monthEnd.upload(new TextEncoder().encode(csv), { 'x-daftar-file-name': 'demo-settlement.csv' })
      }
      case 'demo_set_online': {
        if (!this.inDemo || !this.demoLedger) {
          throw { code: 'demo.not_started', kind: 'invalid_input', message: 'the demo is not running: start it first', field: null, params: {} } satisfies ErrorView
        }
        this.online = (args?.['request'] as { online: boolean }).online
        const status = await this.announce()
        await this.demoLedger.setDemoOnline(this.online)
        return status
      }
      default:
        return this.current.handle(cmd, args)
    }
  }
}

/** What a test reaches as `window.__mock` (the ledger the app is on now). */
export type MockControl = {
  shell: MockShell
  readonly backend: MockBackend
  emitEvent(name: string, payload: unknown): Promise<void>
  calls: Record<string, number>
  paymentsIn(state: PaymentState, count?: number): string[]
  operations(): OperationView[]
}

declare global {
  interface Window {
    __mock?: MockControl
  }
}

export function installMockBackend(options: Partial<MockOptions> = {}): MockShell {
  const shell = new MockShell({ ...DEFAULT_OPTIONS, ...options })
  mockIPC((cmd, args) => shell.handle(cmd, args as Record<string, unknown> | undefined), { shouldMockEvents: true })
  // report_upload's body is the file's bytes and its name a header: mockIPC drops the
  // options, so this one command is answered before it.
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (cmd: string, args: unknown, options?: { headers?: Record<string, string> }) => Promise<unknown> } }).__TAURI_INTERNALS__
  const mocked = internals.invoke
  internals.invoke = async (cmd, args, options) => {
    if (cmd !== 'report_upload') return mocked(cmd, args, options)
    shell.calls[cmd] = (shell.calls[cmd] ?? 0) + 1
    return shell.current.monthEnd.upload(args, options?.headers)
  }
  window.__mock = {
    shell,
    get backend() {
      return shell.current
    },
    emitEvent: (name, payload) => shell.current.emitEvent(name, payload),
    calls: shell.calls,
    paymentsIn: (state, count) => shell.current.paymentsIn(state, count),
    operations: () => shell.current.operations(),
  }
  return shell
}
