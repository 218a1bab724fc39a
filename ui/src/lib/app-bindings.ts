// Generated from the desktop shell's Rust types (src-tauri/src/contract.rs) by
// src-tauri/tests/bindings.rs (ts-rs). Do not edit by hand: change the Rust type, then run
//   DAFTAR_UPDATE_BINDINGS=1 cargo test --locked -p daftar-app --test bindings
// The core's types (ErrorView, SyncStatus, ImportSummary...) come from ./bindings.

import type { ErrorView, ExportProgress, ExportSummary, ImportProgress, ImportSummary, ReconcileProgress, ReconcileSummary, ReportImportSummary, ReportProgress, SyncStatus } from './bindings'

/**
 * What the window shows before anything else: the version, where the ledger is.
 */
export type AppInfo = { version: string, 
/**
 * The ledger file open now: the merchant's (`DAFTAR_DB`, else the OS data
 * directory), or the demo's own (`<stem>.demo.sqlite3`) while the demo runs; empty
 * when there is none (`ledger_error` says why).
 */
ledger_path: string, 
/**
 * Where the log files are written; `null` when there is no file log.
 */
log_dir: string | null, 
/**
 * `DAFTAR_RUN_SMOKE=1`: the UI calls `smoke_painted` once its first screen is drawn.
 */
smoke: boolean, 
/**
 * Whether the ledger holds any profile (the first-run panel shows when it does not).
 */
has_profiles: boolean, 
/**
 * Why the ledger could not be opened (every ledger command then fails with it).
 */
ledger_error: ErrorView | null, 
/**
 * The keyring is a throwaway one (`DAFTAR_KEYRING_EPHEMERAL=1`, set by
 * `scripts/with-keyring.sh` when no system keyring was found): keys saved now are
 * lost when the app closes.
 */
keyring_ephemeral: boolean, };

/**
 * The sync worker as the merchant sees it: paused by them, and what it is doing.
 */
export type SyncState = { 
/**
 * The merchant paused sending (`sync_pause`) for this run of the app.
 */
paused_by_merchant: boolean, 
/**
 * The worker's board; `running: false` when paused or when it could not start.
 */
status: SyncStatus, 
/**
 * Why the worker is not running when it should be (e.g. `sync.running`: a
 * `daftar sync` in a terminal holds this ledger); `null` otherwise.
 */
worker_error: ErrorView | null, };

/**
 * The bundled demo: the Ottu sandbox in the app, and its profile.
 */
export type DemoStatus = { 
/**
 * The demo profile exists and the app manages its sandbox.
 */
active: boolean, 
/**
 * The sandbox answers (false: it is shut down, as if the network were gone).
 */
online: boolean, 
/**
 * The demo profile's name (`demo`) when active.
 */
profile: string | null, 
/**
 * The sandbox's base URL when active.
 */
base_url: string | null, };

/**
 * `import_start`'s request: payments to fetch from a profile, by session id. No file
 * path: the window never names a file for the app to read.
 */
export type ImportStart = { profile: string, session_ids: Array<string>, };

/**
 * `import_start`'s reply: the job's number, named by its events and `job_cancel`.
 */
export type JobStarted = { job: number, };

/**
 * Names a running job.
 */
export type JobRef = { job: number, };

/**
 * Names a queued operation.
 */
export type OperationRef = { id: number, };

/**
 * Drops an operation that never reached Ottu.
 */
export type DropRequest = { id: number, reason?: string | null, };

/**
 * Names a profile.
 */
export type ProfileRef = { name: string, };

/**
 * A profile to add.
 */
export type NewProfile = { name: string, base_url: string, currency: string, };

/**
 * A key for a profile: the API key, or a dashboard user's password when `basic_user`
 * is set. The secret goes straight to the OS keyring; no reply ever carries it, and
 * `Debug` prints it as `[REDACTED]`.
 */
export type SetKeyRequest = { profile: string, basic_user?: string | null, secret: string, };

/**
 * Turns the demo's sandbox off (as if the network were gone) or on again.
 */
export type DemoOnline = { online: boolean, };

/**
 * Smoke mode: the UI's first screen is drawn, with this many payment rows.
 */
export type Painted = { rows: number, };

/**
 * `import-progress`: how far job `job` is.
 */
export type ImportProgressEvent = { job: number, progress: ImportProgress, };

/**
 * `import-finished`: the job's summary (also when it stopped early: then `error` is the
 * stop's error too), or only `error` when it was refused before anything was sent.
 */
export type ImportFinishedEvent = { job: number, summary: ImportSummary | null, error: ErrorView | null, };

/**
 * `report_upload`'s reply: a file the merchant picked, whose bytes the window sent (it never
 * names a path); the shell keeps it in the app's cache under this id for the commands
 * below. Ids live as long as the app runs.
 */
export type Upload = { id: string, 
/**
 * The name the file had on the merchant's computer (shown, never opened).
 */
file_name: string, bytes: number, };

/**
 * `reconcile_start`'s request: a reconciliation of a profile against an uploaded file or
 * an Ottu report token, for a period.
 */
export type ReconcileStart = { profile: string, 
/**
 * An id from `report_upload`; exactly one of this and `token`.
 */
upload?: string | null, token?: string | null, from?: string | null, to?: string | null, 
/**
 * Column overrides, `HEADER=field`.
 */
map: Array<string>, };

/**
 * Names a reconciliation.
 */
export type ReconciliationRef = { id: number, };

/**
 * Reconciliations or periods, of one profile or all.
 */
export type ProfileFilter = { profile?: string | null, };

/**
 * `export_start`'s request: the core's export without a path. The shell writes the file
 * to the Downloads folder (else the app's data folder) under a name of its own,
 * `daftar-<what>-<date>[-n].<format>`; the result event's `summary.file` says where.
 */
export type ExportStart = { what: string, format: string, profile?: string | null, from?: string | null, to?: string | null, reconciliation?: number | null, lang?: string | null, bom: boolean, };

/**
 * `reconcile-progress`.
 */
export type ReconcileProgressEvent = { job: number, progress: ReconcileProgress, };

/**
 * `reconcile-finished`: the saved reconciliation, or why there is none.
 */
export type ReconcileFinishedEvent = { job: number, summary: ReconcileSummary | null, error: ErrorView | null, };

/**
 * `export-progress`.
 */
export type ExportProgressEvent = { job: number, progress: ExportProgress, };

/**
 * `export-finished`: what was written and where, or why nothing was (a cancelled
 * export leaves no file: `interrupted`).
 */
export type ExportFinishedEvent = { job: number, summary: ExportSummary | null, error: ErrorView | null, };

/**
 * `report_import_start`'s request: a dry run (`commit: false`) or the import of an
 * uploaded file or an Ottu report token. On commit the shell writes rejected rows to a
 * new file in the Downloads folder (the summary's `rejects_file`).
 */
export type ReportImportStart = { profile: string, 
/**
 * An id from `report_upload`; exactly one of this and `token`.
 */
upload?: string | null, token?: string | null, 
/**
 * Column overrides, `HEADER=field`; saved for the profile when the import commits.
 */
map: Array<string>, commit: boolean, };

/**
 * `report-progress`.
 */
export type ReportProgressEvent = { job: number, progress: ReportProgress, };

/**
 * `report-finished`: the plan (dry run) or what was imported, or why neither.
 */
export type ReportFinishedEvent = { job: number, summary: ReportImportSummary | null, error: ErrorView | null, };

/**
 * `settlement_import`'s request: an uploaded settlement file, checked (dry run) or imported.
 */
export type SettlementImportStart = { profile: string, 
/**
 * An id from `report_upload`.
 */
upload: string, 
/**
 * Column overrides, `HEADER=field`; saved for the profile when the import commits.
 */
map: Array<string>, commit: boolean, };
