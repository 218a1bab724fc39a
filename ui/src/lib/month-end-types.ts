// The month-end types (report import, reconciliation, settlement, export) as the issue's
// contract (/tmp/coord10/CONTRACT.md) gives them. The core's are re-exported from the
// generated bindings once they land there; until then this file mirrors the contract so the
// screens can be built against it. The shell's own (uploads, job starts, events) are
// declared in src-tauri/src/contract.rs and generated into app-bindings.ts.

export type MappedColumn = { header: string; field: string | null }

export type CurrencyTotals = {
  currency: string
  paid: string
  captured: string
  refunded: string
  voided: string
  pending: string
  fees: string | null
}

export type FieldChange = { field: string; ledger: string | null; report: string | null }

export type RowAdd = { line: number; session_id: string; order_no: string | null; amount: string; currency: string; state: string }
export type RowUpdate = { line: number; session_id: string; changes: FieldChange[] }
export type RowConflict = { line: number; session_id: string; field: string; ledger: string | null; report: string | null; reason: string }
export type RowReject = { line: number; code: string; field: string | null; reason: string }

export type ReportProgress = { rows: number; bytes: number; total_bytes: number }

export type ReportImportSummary = {
  profile: string
  file: string
  format: string
  committed: boolean
  columns: MappedColumn[]
  rows: number
  added: RowAdd[]
  added_count: number
  updated: RowUpdate[]
  updated_count: number
  unchanged_count: number
  conflicts: RowConflict[]
  conflict_count: number
  rejected: RowReject[]
  rejected_count: number
  rejects_file: string | null
  totals: CurrencyTotals[]
}

/** One report Ottu has generated for the profile (a token downloads it). */
export type ReportListItem = {
  token: string | null
  name: string | null
  interval: string | null
  format: string | null
  records: number | null
  status: string | null
  generated_at: string | null
}
export type ReportList = { profile: string; reports: ReportListItem[] }

export type MatchClass =
  | 'matched'
  | 'amount_differs'
  | 'state_differs'
  | 'totals_differ'
  | 'report_only'
  | 'ledger_only'
  | 'queued'
  | 'changed_late'

export type ReconcileProgress = { phase: string; rows: number; total: number }

export type ClassTotal = { class: MatchClass; currency: string; count: number; ledger_amount: string; report_amount: string }

export type ReconcileSummary = {
  id: number
  profile: string
  from: string | null
  to: string | null
  source: string
  classes: ClassTotal[]
  totals: CurrencyTotals[]
  report_totals: CurrencyTotals[]
  clean: boolean
  outside_period: number
  rejected: RowReject[]
  rejected_count: number
}

export type ReconcileItemView = {
  id: number
  class: MatchClass
  session_id: string | null
  order_no: string | null
  currency: string | null
  ledger: unknown
  report: unknown
  decision: string | null
  differences: FieldChange[]
}

export type ReconcileItemQuery = { id: number; class: MatchClass | null; after: string | null; limit: number | null }
export type ReconcileItemPage = { items: ReconcileItemView[]; next: string | null; total: number }
export type ReconcileDecision = { item: number; decision: 'accept' | 'keep'; reason: string | null }
export type LockPeriodRequest = { profile: string; from: string; to: string; reconciliation: number | null }
export type PeriodView = {
  profile: string
  from: string
  to: string
  reconciliation: number | null
  locked_at: string
  reopened: boolean
  reopened_at: string | null
}

export type SettlementImportSummary = {
  profile: string
  file: string
  format: string
  committed: boolean
  columns: MappedColumn[]
  rows: number
  added_count: number
  duplicate_count: number
  rejected: RowReject[]
  rejected_count: number
  rejects_file: string | null
  totals: CurrencyTotals[]
}
export type SettlementMatchRequest = { profile: string; from: string | null; to: string | null; window_days: number | null }
export type SettledItem = {
  session_id: string
  order_no: string | null
  reference: string | null
  currency: string
  amount: string
  settled_amount: string
  fee: string | null
  settled_on: string
}
export type UnsettledItem = { session_id: string; order_no: string | null; currency: string; amount: string; created_at: string; due_by: string }
export type SettlementLineView = { line: number; order_no: string | null; reference: string | null; currency: string; amount: string; settled_on: string }
export type SettlementTotals = { currency: string; settled: string; fees: string; net: string; expected: string; not_settled: string }
export type SettlementReport = {
  matched: SettledItem[]
  matched_count: number
  amount_differs: SettledItem[]
  not_settled: UnsettledItem[]
  not_settled_count: number
  unknown: SettlementLineView[]
  unknown_count: number
  totals: SettlementTotals[]
}

export type ExportProgress = { rows: number; total: number }
export type ExportSummary = { file: string; what: string; format: string; rows: number; totals: CurrencyTotals[] }

// --- the shell's (src-tauri/src/contract.rs) ---

/** A file the merchant picked, copied by the shell into the app's cache; `id` names it. */
export type Upload = { id: string; file_name: string; bytes: number }
export type ReportImportStart = { profile: string; upload: string | null; token: string | null; map: string[]; commit: boolean }
export type ReportListRequest = { profile: string; from: string | null; to: string | null }
export type ReconcileStart = { profile: string; upload: string | null; token: string | null; from: string | null; to: string | null; map: string[] }
export type SettlementImportStart = { profile: string; upload: string; map: string[]; commit: boolean }
export type ReconciliationRef = { id: number }
export type ReconciliationsQuery = { profile: string | null }
export type ExportStart = {
  what: 'ledger' | 'operations' | 'reconciliation'
  format: 'csv' | 'xlsx'
  profile: string | null
  from: string | null
  to: string | null
  reconciliation: number | null
  lang: 'en' | 'ar' | null
  bom: boolean
}
export type JobProgressEvent<P> = { job: number; progress: P }
export type JobFinishedEvent<S> = { job: number; summary: S | null; error: import('./bindings').ErrorView | null }
export type ReportProgressEvent = JobProgressEvent<ReportProgress>
export type ReportFinishedEvent = JobFinishedEvent<ReportImportSummary>
export type ReconcileProgressEvent = JobProgressEvent<ReconcileProgress>
export type ReconcileFinishedEvent = JobFinishedEvent<ReconcileSummary>
export type ExportProgressEvent = JobProgressEvent<ExportProgress>
export type ExportFinishedEvent = JobFinishedEvent<ExportSummary>
