// Generated from the desktop shell's Rust types (src-tauri/src/contract.rs) by
// src-tauri/tests/bindings.rs (ts-rs). Do not edit by hand: change the Rust type, then run
//   DAFTAR_UPDATE_BINDINGS=1 cargo test --locked -p daftar-app --test bindings
// The core's types (ErrorView, SyncStatus, ImportSummary...) come from ./bindings.

import type { ErrorView, ImportProgress, ImportSummary, SyncStatus } from './bindings'

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
