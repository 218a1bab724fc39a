//! The month-end commands of the fake backend (report upload and import, reconciliation,
//! settlement, export), in memory: a small report with a row of every kind (new, update,
//! unchanged, conflict, each reject code), a reconciliation with every class, a settlement
//! result with a fee, a paid-not-settled payment and an unknown line, and an export that
//! "writes" to a Downloads path. Jobs send progress and result events like the shell's.
//! Tests reach it as `window.__mock.backend.monthEnd`.

import { emit } from '@tauri-apps/api/event'
import type { ErrorKind, ErrorView, JsonValue } from '../../src/lib/bindings'
import type {
  ClassTotal,
  CurrencyTotals,
  ExportSummary,
  LockPeriodRequest,
  MappedColumn,
  MatchClass,
  PeriodView,
  ReconcileDecision,
  ReconcileItemPage,
  ReconcileItemQuery,
  ReconcileItemView,
  ReconcileSummary,
  ReportImportSummary,
  ReportList,
  ReportListRequest,
  SettlementImportSummary,
  SettlementMatchRequest,
  SettlementReport,
  SettledItem,
} from '../../src/lib/month-end-types'
import type { ExportStart, ReconcileStart, ReportImportStart, SettlementImportStart, Upload } from '../../src/lib/app-bindings'

function fail(code: string, kind: ErrorKind, message: string, field: string | null = null, params: Record<string, JsonValue> = {}): never {
  throw { code, kind, message, field, params } satisfies ErrorView
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** The report's columns: English and Arabic labels, and one the built-in labels do not know. */
const COLUMNS: MappedColumn[] = [
  { header: 'Session ID', field: 'session_id' },
  { header: 'رقم الطلب', field: 'order_no' },
  { header: 'Amount', field: 'amount' },
  { header: 'العملة', field: 'currency' },
  { header: 'State', field: 'state' },
  { header: 'Created', field: 'created' },
  { header: 'Client mail', field: null },
]

const TOTALS: CurrencyTotals[] = [
  { currency: 'KWD', paid: '57.250', captured: '0.000', refunded: '5.000', voided: '0.000', pending: '3.500', fees: null },
]

const RECON_FROM = '2026-11-01'
const RECON_TO = '2026-11-30'

type Job = { cancelled: boolean }

export class MonthEndMock {
  readonly uploads = new Map<string, Upload & { bytes_seen: number }>()
  /** Imports committed, by upload id or token: the same file again changes nothing. */
  readonly committed = new Set<string>()
  /** Saved column choices per profile (header -> field). */
  readonly savedMap = new Map<string, Record<string, string>>()
  readonly reconciliations: ReconcileSummary[] = []
  readonly items = new Map<number, ReconcileItemView[]>()
  readonly periodList: PeriodView[] = []
  readonly exports: (ExportStart & { file: string })[] = []
  settlementLines = 0
  /** Rows an export job "writes" and its step: tests slow it to see the progress. */
  exportRows = 1_250
  private nextUpload = 1
  private readonly jobs = new Map<number, Job>()

  constructor(
    private readonly hasProfile: (name: string) => void,
    private readonly stepMs: () => number,
    private readonly allocJob: () => number,
  ) {}

  owns(job: number): boolean {
    return this.jobs.has(job)
  }

  cancel(job: number): void {
    const j = this.jobs.get(job)
    if (j) j.cancelled = true
  }

  upload(bytes: unknown, headers: Record<string, string> | undefined): Upload {
    const data = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : null
    if (!data) fail('app.bad_request', 'internal', 'report_upload takes the file\'s bytes', null, {})
    const raw = headers?.['x-daftar-file-name']
    const name = raw ? decodeURIComponent(raw) : 'report'
    if (data.length === 0) fail('app.upload_empty', 'invalid_input', 'the file is empty', 'file', { name })
    const id = `u${this.nextUpload++}`
    const upload = { id, file_name: name, bytes: data.length, bytes_seen: data.length }
    this.uploads.set(id, upload)
    return { id, file_name: name, bytes: data.length }
  }

  report_list(req: ReportListRequest): ReportList {
    this.hasProfile(req.profile)
    return {
      profile: req.profile,
      reports: [
        { token: 'tok-nov', name: 'November transactions', interval: 'monthly', format: 'csv', rows: 9, status: 'finished', created_at: '2026-12-01T03:00:00Z' },
        { token: 'tok-oct', name: 'October transactions', interval: 'monthly', format: 'xlsx', rows: 120, status: 'expired', created_at: '2026-11-01T03:00:00Z' },
      ],
      count: 2,
    }
  }

  private sourceKey(req: { upload?: string | null; token?: string | null }): { key: string; name: string } {
    if (req.upload != null) {
      const u = this.uploads.get(req.upload)
      if (!u) fail('not_found', 'not_found', `no upload ${req.upload}`, 'upload', { what: 'upload', id: req.upload })
      return { key: req.upload, name: u.file_name }
    }
    if (req.token != null) {
      if (req.token === 'tok-expired') fail('report.token_expired', 'not_found', 'the report token expired: list the reports again for a fresh token', 'token', {})
      return { key: `token:${req.token}`, name: `${req.token}.csv` }
    }
    return fail('input.empty', 'invalid_input', 'name a report file or token', 'report', { what: 'report' })
  }

  report_import_start(req: ReportImportStart): { job: number } {
    this.hasProfile(req.profile)
    const source = this.sourceKey(req)
    const overrides: Record<string, string | null> = {}
    for (const m of req.map) {
      const eq = m.lastIndexOf('=')
      if (eq <= 0) fail('report.bad_map', 'invalid_input', `'${m}' is not HEADER=field`, 'map', { value: m })
      const field = m.slice(eq + 1)
      overrides[m.slice(0, eq)] = field === '-' ? null : field
    }
    const job = this.startJob()
    void this.runReport(job, req, source, overrides)
    return { job }
  }

  private async runReport(job: number, req: ReportImportStart, source: { key: string; name: string }, overrides: Record<string, string | null>) {
    const total = 4_096
    for (let i = 1; i <= 4; i++) {
      await sleep(this.stepMs())
      if (this.jobs.get(job)?.cancelled) {
        await this.finish('report-finished', job, null, this.interrupted())
        return
      }
      await emit('report-progress', { job, progress: { rows: i * 3, bytes: (total / 4) * i, total_bytes: total } })
    }
    const saved = this.savedMap.get(req.profile) ?? {}
    const columns = COLUMNS.map((c) => {
      const f = c.header in overrides ? overrides[c.header]! : c.header in saved ? saved[c.header]! : c.field
      return { header: c.header, field: f }
    })
    const done = this.committed.has(source.key)
    const summary: ReportImportSummary = {
      profile: req.profile, file: source.name, format: source.name.endsWith('.xlsx') ? 'xlsx' : 'csv', committed: req.commit,
      columns, rows: 12,
      added: done ? [] : [
        { line: 2, session_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90aa01', order_no: 'ORD-7001', amount: '12.500', currency: 'KWD', state: 'paid' },
        { line: 3, session_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90aa02', order_no: 'طلب-7002', amount: '1250.000', currency: 'KWD', state: 'paid' },
        { line: 4, session_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90aa03', order_no: null, amount: '3.500', currency: 'KWD', state: 'pending' },
      ],
      added_count: done ? 0 : 3,
      updated: done ? [] : [
        { line: 5, session_id: 'b1b2c3d4e5f60718293a4b5c6d7e8f90bb01', changes: [{ field: 'state', ledger: 'pending', report: 'paid' }, { field: 'reference_number', ledger: null, report: 'RRN448812' }] },
        { line: 6, session_id: 'b1b2c3d4e5f60718293a4b5c6d7e8f90bb02', changes: [{ field: 'customer_email', ledger: 'old@example.com', report: 'new@example.com' }] },
      ],
      updated_count: done ? 0 : 2,
      unchanged_count: done ? 7 : 2,
      conflicts: [{ line: 7, session_id: 'c1b2c3d4e5f60718293a4b5c6d7e8f90cc01', field: 'amount', ledger: '20.000', report: '25.000', reason: 'the amount differs on a payment that has operations' }],
      conflict_count: 1,
      rejected: [
        { line: 8, code: 'row.bad_amount', field: 'amount', reason: "'12,5x' is not an amount" },
        { line: 9, code: 'row.unknown_currency', field: 'currency', reason: "'XYZ' is not a currency Daftar knows" },
        { line: 10, code: 'row.duplicate', field: 'session_id', reason: 'session id repeated from line 2' },
        { line: 11, code: 'row.missing_id', field: 'session_id', reason: 'no session id' },
        { line: 12, code: 'row.newer_code', field: null, reason: 'a reason only a newer core has words for' },
      ],
      rejected_count: 5,
      rejects_file: req.commit ? `/home/merchant/Downloads/${source.name}.rejects.csv` : null,
      totals: TOTALS,
    }
    if (req.commit) {
      this.committed.add(source.key)
      const changes: Record<string, string> = { ...saved }
      for (const [h, f] of Object.entries(overrides)) if (f !== null) changes[h] = f
      this.savedMap.set(req.profile, changes)
    }
    await this.finish('report-finished', job, summary, null)
  }

  reconcile_start(req: ReconcileStart): { job: number } {
    this.hasProfile(req.profile)
    const source = this.sourceKey(req)
    const job = this.startJob()
    void this.runReconcile(job, req, source.name)
    return { job }
  }

  private async runReconcile(job: number, req: ReconcileStart, name: string) {
    for (const phase of ['reading', 'matching', 'saving']) {
      await sleep(this.stepMs())
      if (this.jobs.get(job)?.cancelled) {
        await this.finish('reconcile-finished', job, null, this.interrupted())
        return
      }
      await emit('reconcile-progress', { job, progress: { phase, rows: 9, total: phase === 'reading' ? null : 9, bytes: 2_048, total_bytes: 2_048 } })
    }
    const id = this.reconciliations.length + 1
    // The core answers with instants: `to` is the first instant after the period.
    const from = `${req.from ?? RECON_FROM}T00:00:00Z`
    const to = new Date(Date.parse(`${req.to ?? RECON_TO}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z')
    const items = this.makeItems(id)
    this.items.set(id, items)
    const summary: ReconcileSummary = {
      id, profile: req.profile, from, to, source: name, created_at: new Date().toISOString(), actor: 'app:merchant',
      classes: this.classes(items), totals: TOTALS, report_totals: TOTALS, clean: false, undecided: 5,
      report_rows: 8, child_rows: 1, outside_period: 1, hidden_rows: 0, rejected: [], rejected_count: 0,
    }
    this.reconciliations.unshift(summary)
    await this.finish('reconcile-finished', job, summary, null)
  }

  private makeItems(rec: number): ReconcileItemView[] {
    const base = rec * 100
    const p = (amount: string, state: string) => ({ amount, currency: 'KWD', state })
    const mk = (k: number, cls: MatchClass, ledger: unknown, report: unknown, differences: ReconcileItemView['differences'] = []): ReconcileItemView => ({
      id: base + k, reconciliation: rec, class: cls, session_id: `d${k}b2c3d4e5f60718293a4b5c6d7e8f90dd0${k}`, order_no: `ORD-8${String(k).padStart(3, '0')}`,
      currency: 'KWD', ledger: ledger as Record<string, unknown> | null, report: report as Record<string, unknown> | null,
      decision: null, decided_at: null, decided_by: null, differences,
    })
    return [
      mk(1, 'amount_differs', p('20.000', 'paid'), p('25.000', 'paid'), [{ field: 'amount', ledger: '20.000', report: '25.000' }]),
      mk(2, 'state_differs', p('7.250', 'pending'), p('7.250', 'paid'), [{ field: 'state', ledger: 'pending', report: 'paid' }]),
      mk(3, 'totals_differ', p('15.000', 'paid'), p('15.000', 'paid'), [{ field: 'refunded_amount', ledger: '0.000', report: '5.000' }]),
      mk(4, 'report_only', null, p('4.000', 'paid')),
      mk(5, 'ledger_only', p('6.000', 'paid'), null),
      mk(6, 'queued', p('9.000', 'paid'), p('9.000', 'paid')),
      mk(7, 'changed_late', p('11.000', 'failed'), p('11.000', 'paid'), [{ field: 'state', ledger: 'failed', report: 'paid' }]),
      mk(8, 'matched', p('30.000', 'paid'), p('30.000', 'paid')),
      mk(9, 'matched', p('2.500', 'paid'), p('2.500', 'paid')),
    ]
  }

  private classes(items: ReconcileItemView[]): ClassTotal[] {
    const by = new Map<MatchClass, ClassTotal>()
    const minor = (v: unknown) => {
      const a = (v as { amount?: string } | null)?.amount
      return a ? Math.round(Number(a) * 1000) : 0
    }
    const sums = new Map<MatchClass, [number, number, number]>()
    for (const i of items) {
      const s = sums.get(i.class) ?? [0, 0, 0]
      s[0]++
      s[1] += minor(i.ledger)
      s[2] += minor(i.report)
      sums.set(i.class, s)
    }
    for (const [cls, [count, l, r]] of sums) {
      by.set(cls, { class: cls, currency: 'KWD', count, ledger_amount: (l / 1000).toFixed(3), report_amount: (r / 1000).toFixed(3) })
    }
    return [...by.values()]
  }

  reconciliations_(req: { profile?: string | null }): ReconcileSummary[] {
    const profile = req.profile ?? null
    return this.reconciliations.filter((r) => profile === null || r.profile === profile).map((r) => this.fresh(r))
  }

  private fresh(r: ReconcileSummary): ReconcileSummary {
    const items = this.items.get(r.id) ?? []
    const undecided = items.filter((i) => i.decision === null && ['amount_differs', 'state_differs', 'totals_differ', 'changed_late', 'report_only'].includes(i.class)).length
    return { ...r, clean: undecided === 0, undecided }
  }

  reconciliation(req: { id: number }): ReconcileSummary {
    const r = this.reconciliations.find((x) => x.id === req.id)
    if (!r) fail('not_found', 'not_found', `no reconciliation ${req.id}`, 'id', { what: 'reconciliation', id: String(req.id) })
    return this.fresh(r)
  }

  reconcile_items(q: ReconcileItemQuery): ReconcileItemPage {
    this.reconciliation({ id: q.id })
    const all = (this.items.get(q.id) ?? []).filter((i) => q.class == null || i.class === q.class)
    const start = q.after == null ? 0 : Number(q.after)
    const limit = q.limit ?? 50
    const items = all.slice(start, start + limit)
    return { items, next_cursor: start + limit < all.length ? String(start + limit) : null, total: all.length }
  }

  reconcile_decide(req: ReconcileDecision): ReconcileItemView {
    const item = [...this.items.values()].flat().find((i) => i.id === req.item)
    if (!item) fail('not_found', 'not_found', `no reconciliation item ${req.item}`, 'item', { what: 'reconciliation item', id: String(req.item) })
    if (item.decision !== null) fail('reconcile.already_decided', 'conflict', 'this item was already decided', 'item', { item: req.item, decision: item.decision })
    if (req.decision === 'accept' && ['matched', 'ledger_only', 'queued'].includes(item.class)) {
      fail('reconcile.nothing_to_accept', 'refused', 'there is nothing of Ottu\'s to accept here', 'item', { item: req.item, class: item.class })
    }
    if (item.decision === null && ['matched', 'queued'].includes(item.class)) {
      fail('reconcile.nothing_to_decide', 'refused', 'nothing to decide', 'item', { item: req.item, class: item.class })
    }
    if ((req.reason ?? '').length > 500) fail('reason.too_long', 'invalid_input', 'the reason is too long', 'reason', { max: 500 })
    if (req.decision !== 'accept' && req.decision !== 'keep') fail('input.unknown_word', 'invalid_input', `'${req.decision}' is not accept or keep`, 'decision', { value: req.decision })
    item.decision = req.decision === 'accept' ? 'accepted' : 'kept'
    item.decided_at = new Date().toISOString()
    item.decided_by = 'app:merchant'
    return { ...item }
  }

  lock_period(req: LockPeriodRequest): PeriodView {
    this.hasProfile(req.profile)
    const rec = this.reconciliations.find((r) => r.id === req.reconciliation)
    const undecided = (this.items.get(rec?.id ?? -1) ?? []).filter((i) => i.decision === null && ['amount_differs', 'state_differs', 'totals_differ', 'changed_late', 'report_only'].includes(i.class))
    if (undecided.length > 0) {
      fail('reconcile.undecided', 'refused', `${undecided.length} mismatches are not decided yet`, null, { count: undecided.length, reconciliation: rec?.id ?? null })
    }
    if (this.periodList.some((p) => p.profile === req.profile && p.status === 'locked' && p.from < req.to && req.from < p.to)) {
      fail('reconcile.period_locked', 'refused', 'an overlapping period is locked', null, { period: `${req.from}..${req.to}` })
    }
    const view: PeriodView = {
      id: this.periodList.length + 1, profile: req.profile, from: req.from, to: req.to, reconciliation: req.reconciliation ?? null,
      status: 'locked', locked_at: new Date().toISOString(), locked_by: 'app:merchant', reopened: null,
    }
    this.periodList.unshift(view)
    return view
  }

  /** A payment in a locked period changed (what the core's triggers notice). */
  reopen(profile: string): void {
    for (const p of this.periodList) if (p.profile === profile && p.status === 'locked') {
      p.status = 'reopened'
      p.reopened = { at: new Date().toISOString(), reason: 'payment_changed', session_id: 'd1b2c3d4e5f60718293a4b5c6d7e8f90dd01', order_no: 'ORD-8001' }
    }
  }

  periods(req: { profile?: string | null }): PeriodView[] {
    const profile = req.profile ?? null
    return this.periodList.filter((p) => profile === null || p.profile === profile).map((p) => ({ ...p }))
  }

  settlement_import(req: SettlementImportStart): SettlementImportSummary {
    this.hasProfile(req.profile)
    const source = this.sourceKey({ upload: req.upload, token: null })
    const already = this.settlementLines > 0
    if (req.commit && !already) this.settlementLines = 6
    return {
      profile: req.profile, file: source.name, format: 'csv', committed: req.commit,
      columns: [
        { header: 'Order No', field: 'order_no' }, { header: 'RRN', field: 'reference' }, { header: 'المبلغ', field: 'amount' },
        { header: 'Fee', field: 'fee' }, { header: 'Net Amount', field: 'net' }, { header: 'Settlement Date', field: 'settled_on' },
      ],
      rows: 7, added_count: already ? 0 : 6, duplicate_count: already ? 6 : 0,
      rejected: [{ line: 8, code: 'row.bad_date', field: 'settled_on', reason: "'31/13/2026' is not a date" }], rejected_count: 1,
      rejects_file: null, totals: [{ currency: 'KWD', settled: '55.750', refunds: '2.000', fees: '0.645', net: '53.105' }],
    }
  }

  settlement_match(req: SettlementMatchRequest): SettlementReport {
    this.hasProfile(req.profile)
    const head = { profile: req.profile, from: req.from ?? null, to: req.to ?? null, window_days: req.window_days ?? 3, as_of: '2026-12-01' }
    const none = { matched: [], matched_count: 0, amount_differs: [], amount_differs_count: 0, not_settled: [], not_settled_count: 0, awaiting: [], awaiting_count: 0, unknown: [], unknown_count: 0, totals: [] }
    if (this.settlementLines === 0) return { ...head, ...none }
    const settled = (k: number, kind: string, expected: string, fee: string | null, net: string | null, day: string): SettledItem => ({
      kind, session_id: `e1b2c3d4e5f60718293a4b5c6d7e8f90ee0${k}`, parent_session_id: null, order_no: `ORD-900${k}`, reference: `RRN10020${k}`,
      currency: 'KWD', expected, settled: expected, difference: '0.000', fee, net, created_at: '2026-11-03T10:00:00Z', settled_on: day,
      lag_days: 1, matched_by: 'reference', line_id: k, line: k + 1, source: 'settlement.csv',
    })
    return {
      ...head, ...none,
      matched: [settled(1, 'payment', '20.000', '0.300', '19.700', '2026-11-04'), settled(2, 'refund', '-5.000', null, null, '2026-11-05')],
      matched_count: 4,
      not_settled: [{ kind: 'payment', session_id: 'e1b2c3d4e5f60718293a4b5c6d7e8f90ee09', parent_session_id: null, order_no: 'ORD-9009', reference: null, currency: 'KWD', amount: '14.750', created_at: '2026-11-20T10:00:00Z', due_by: '2026-11-25' }],
      not_settled_count: 1,
      unknown: [{ id: 7, source: 'settlement.csv', line: 7, order_no: null, reference: 'RRN999999', currency: 'KWD', amount: '8.000', fee: '0.120', net: '7.880', settled_on: '2026-11-06', reason: 'no_payment', session_id: null }],
      unknown_count: 1,
      totals: [{ currency: 'KWD', expected: '57.750', settled: '43.000', fees: '0.645', net: '42.355', not_settled: '14.750', awaiting: '0.000', unknown: '8.000' }],
    }
  }

  export_start(req: ExportStart): { job: number } {
    if (!['ledger', 'operations', 'reconciliation'].includes(req.what ?? '')) fail('input.unknown_word', 'invalid_input', `'${req.what}' is not an export`, 'what', { value: req.what })
    if (req.profile != null) this.hasProfile(req.profile)
    if (req.from && req.to && req.from > req.to) fail('date.invalid', 'invalid_input', 'the start date is after the end date', 'to', { value: req.to })
    if (req.what === 'reconciliation' && !this.reconciliations.some((r) => r.id === req.reconciliation)) {
      fail('not_found', 'not_found', 'no reconciliation to export', 'reconciliation', { what: 'reconciliation', id: String(req.reconciliation) })
    }
    const day = '2026-12-01'
    const n = this.exports.filter((e) => e.what === req.what && e.format === req.format).length
    const file = `/home/merchant/Downloads/daftar-${req.what}-${day}${n ? `-${n + 1}` : ''}.${req.format}`
    this.exports.push({ ...req, file })
    const job = this.startJob()
    void this.runExport(job, req, file)
    return { job }
  }

  private async runExport(job: number, req: ExportStart, file: string) {
    const total = this.exportRows
    for (let i = 1; i <= 5; i++) {
      await sleep(this.stepMs())
      if (this.jobs.get(job)?.cancelled) {
        await this.finish('export-finished', job, null, this.interrupted())
        return
      }
      await emit('export-progress', { job, progress: { rows: Math.round((total * i) / 5), total } })
    }
    const summary: ExportSummary = { file, what: req.what, format: req.format, rows: total, totals: TOTALS }
    await this.finish('export-finished', job, summary, null)
  }

  private startJob(): number {
    const job = this.allocJob()
    this.jobs.set(job, { cancelled: false })
    return job
  }

  private interrupted(): ErrorView {
    return { code: 'interrupted', kind: 'unavailable', message: 'stopped at your request', field: null, params: {} }
  }

  private async finish(event: string, job: number, summary: unknown, error: ErrorView | null) {
    this.jobs.delete(job)
    await emit(event, JSON.parse(JSON.stringify({ job, summary, error })))
  }
}
