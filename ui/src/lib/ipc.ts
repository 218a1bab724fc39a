// The one module that talks to the Tauri shell (IPC.md): one typed function per command,
// one `on...` per event. Nothing else imports `@tauri-apps/*`, so the browser tests can
// mock the whole backend at one seam and the rest of the UI stays plain TypeScript.
// Every command takes no argument or one named `request`; a failure rejects with the
// core's ErrorView unchanged (see `asErrorView` for anything that is not one).

import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import type {
  ActionView,
  ConnectionCheck,
  ErrorView,
  OperationPage,
  OperationView,
  PaymentDetail,
  PaymentInput,
  PaymentLookup,
  PaymentPage,
  PaymentQuery,
  ProfileChange,
  ProfileChanged,
  ProfileDetail,
  ProfileView,
  QueuedView,
  QueueQuery,
  QueueRequest,
  RetryRequest,
  StatusReport,
  SyncEvent,
} from './bindings'
import type {
  AppInfo,
  DemoOnline,
  DemoStatus,
  DropRequest,
  ExportFinishedEvent,
  ExportProgressEvent,
  ExportStart,
  ImportFinishedEvent,
  ImportStart,
  ImportProgressEvent,
  JobRef,
  JobStarted,
  NewProfile,
  OperationRef,
  Painted,
  ProfileFilter,
  ProfileRef,
  ReconcileFinishedEvent,
  ReconcileProgressEvent,
  ReconcileStart,
  ReconciliationRef,
  ReportFinishedEvent,
  ReportImportStart,
  ReportProgressEvent,
  SetKeyRequest,
  SettlementImportStart,
  SyncState,
  Upload,
} from './app-bindings'

import type * as M from './month-end-types'

export type * from './app-bindings'
export type * from './month-end-types'
// The core's types the commands return, for modules that import their types from here.
export type { ActionView, ConnectionCheck }

/** Every rejection is an ErrorView (a plain string from Tauri itself becomes `app.bad_request`). */
async function call<T>(command: string, request?: unknown): Promise<T> {
  try {
    return await (request === undefined ? invoke<T>(command) : invoke<T>(command, { request }))
  } catch (e) {
    throw asErrorView(e)
  }
}

// --- commands ---

export const appInfo = () => call<AppInfo>('app_info')
export const listPayments = (request: PaymentQuery) => call<PaymentPage>('list_payments', request)
export const showPayment = (request: PaymentLookup) => call<PaymentDetail>('show_payment', request)
export const paymentActions = (request: PaymentLookup) => call<ActionView[]>('payment_actions', request)
/** The amount queueing would reserve, or null; rejects with the error `queue_operation` would give. */
export const previewOperation = (request: QueueRequest) => call<string | null>('preview_operation', request)
export const queueOperation = (request: QueueRequest) => call<QueuedView>('queue_operation', request)
export const addPayment = (request: PaymentInput) => call<PaymentDetail>('add_payment', request)
export const listQueue = (request: QueueQuery) => call<OperationPage>('list_queue', request)
export const retryOperation = (request: RetryRequest) => call<QueuedView>('retry_operation', request)
export const resendOperation = (request: OperationRef) => call<OperationView>('resend_operation', request)
export const dropOperation = (request: DropRequest) => call<OperationView>('drop_operation', request)
export const status = () => call<StatusReport>('status')
export const syncState = () => call<SyncState>('sync_state')
export const syncNow = () => call<SyncState>('sync_now')
export const syncPause = () => call<SyncState>('sync_pause')
export const syncResume = () => call<SyncState>('sync_resume')
export const importStart = (request: ImportStart) => call<JobStarted>('import_start', request)
export const jobCancel = (request: JobRef) => call<null>('job_cancel', request)
export const profiles = () => call<ProfileDetail[]>('profiles')
export const addProfile = (request: NewProfile) => call<ProfileDetail>('add_profile', request)
export const setProfile = (request: ProfileChange) => call<ProfileChanged>('set_profile', request)
export const removeProfile = (request: ProfileRef) => call<ProfileView>('remove_profile', request)
/** The secret goes to the keyring; nothing ever sends it back. */
export const setKey = (request: SetKeyRequest) => call<ProfileDetail>('set_key', request)
export const removeKey = (request: ProfileRef) => call<ProfileDetail>('remove_key', request)
export const testConnection = (request: ProfileRef) => call<ConnectionCheck>('test_connection', request)
export const demoStatus = () => call<DemoStatus>('demo_status')
export const demoStart = () => call<DemoStatus>('demo_start')
/** Back to the merchant's own ledger (the demo ran on its own file). */
export const demoLeave = () => call<DemoStatus>('demo_leave')
export const demoSetOnline = (request: DemoOnline) => call<DemoStatus>('demo_set_online', request)
/** The demo sandbox's settlement file, kept by the shell like a picked file. */
export const demoSettlementFile = () => call<Upload>('demo_settlement_file')
export const smokePainted = (request: Painted) => call<null>('smoke_painted', request)

// --- month end (report import, reconciliation, settlement, export) ---

/**
 * Hands a file the merchant picked to the shell as its bytes (the window never names a
 * path): the shell writes them to a file of its own in the app's cache and answers with an
 * id the other commands take. The name travels in a header, percent-encoded.
 */
export async function reportUpload(file: File): Promise<Upload> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  try {
    return await invoke<Upload>('report_upload', bytes, { headers: { 'x-daftar-file-name': encodeURIComponent(file.name) } })
  } catch (e) {
    throw asErrorView(e)
  }
}
export const reportList = (request: M.ReportListRequest) => call<M.ReportList>('report_list', request)
/** A dry run (`commit: false`) or the import; progress and result come as `report-*` events. */
export const reportImportStart = (request: ReportImportStart) => call<JobStarted>('report_import_start', request)
export const reconcileStart = (request: ReconcileStart) => call<JobStarted>('reconcile_start', request)
export const reconciliations = (request: ProfileFilter) => call<M.ReconcileSummary[]>('reconciliations', request)
export const reconciliation = (request: ReconciliationRef) => call<M.ReconcileSummary>('reconciliation', request)
export const reconcileItems = (request: M.ReconcileItemQuery) => call<M.ReconcileItemPage>('reconcile_items', request)
export const reconcileDecide = (request: M.ReconcileDecision) => call<M.ReconcileItemView>('reconcile_decide', request)
export const lockPeriod = (request: M.LockPeriodRequest) => call<M.PeriodView>('lock_period', request)
export const periods = (request: ProfileFilter) => call<M.PeriodView[]>('periods', request)
export const settlementImport = (request: SettlementImportStart) => call<M.SettlementImportSummary>('settlement_import', request)
export const settlementMatch = (request: M.SettlementMatchRequest) => call<M.SettlementReport>('settlement_match', request)
/** The shell writes the file to the Downloads folder under a name of its own; `summary.file` says where. */
export const exportStart = (request: ExportStart) => call<JobStarted>('export_start', request)

// --- events ---

export type Unsubscribe = UnlistenFn

function on<T>(event: string, handler: (payload: T) => void): Promise<Unsubscribe> {
  return listen<T>(event, (e) => handler(e.payload))
}

export const onSyncEvent = (handler: (e: SyncEvent) => void) => on<SyncEvent>('sync-event', handler)
export const onSyncState = (handler: (s: SyncState) => void) => on<SyncState>('sync-state', handler)
export const onImportProgress = (handler: (e: ImportProgressEvent) => void) => on<ImportProgressEvent>('import-progress', handler)
export const onImportFinished = (handler: (e: ImportFinishedEvent) => void) => on<ImportFinishedEvent>('import-finished', handler)
export const onDemoStatus = (handler: (s: DemoStatus) => void) => on<DemoStatus>('demo-status', handler)
export const onReportProgress = (handler: (e: ReportProgressEvent) => void) => on<ReportProgressEvent>('report-progress', handler)
export const onReportFinished = (handler: (e: ReportFinishedEvent) => void) => on<ReportFinishedEvent>('report-finished', handler)
export const onReconcileProgress = (handler: (e: ReconcileProgressEvent) => void) => on<ReconcileProgressEvent>('reconcile-progress', handler)
export const onReconcileFinished = (handler: (e: ReconcileFinishedEvent) => void) => on<ReconcileFinishedEvent>('reconcile-finished', handler)
export const onExportProgress = (handler: (e: ExportProgressEvent) => void) => on<ExportProgressEvent>('export-progress', handler)
export const onExportFinished = (handler: (e: ExportFinishedEvent) => void) => on<ExportFinishedEvent>('export-finished', handler)

// --- errors ---

const KINDS = new Set(['invalid_input', 'refused', 'not_found', 'unavailable', 'conflict', 'internal'])

export function isErrorView(e: unknown): e is ErrorView {
  if (typeof e !== 'object' || e === null) return false
  const v = e as Record<string, unknown>
  return typeof v.code === 'string' && typeof v.kind === 'string' && KINDS.has(v.kind) && typeof v.message === 'string'
}

/**
 * Any rejection as an ErrorView: the core's passes through; anything else (Tauri's own
 * string for a request it could not read, a bug) becomes `app.bad_request`, its text kept
 * as the (English, never shown) message.
 */
export function asErrorView(e: unknown): ErrorView {
  if (isErrorView(e)) return { ...e, field: e.field ?? null, params: e.params ?? {} }
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e) ?? String(e)
  return { code: 'app.bad_request', kind: 'internal', message, field: null, params: {} }
}
