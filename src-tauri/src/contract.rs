//! The shell's own request and reply types: what the IPC contract (`/tmp/coord9/IPC.md`,
//! ARCHITECTURE.md "The desktop shell") adds to the core's views. Each derives ts-rs;
//! `tests/bindings.rs` writes them to `ui/src/lib/app-bindings.ts`, so the UI never
//! hand-writes them. Requests carry the user's text; the core checks it.

use daftar::ErrorView;
use daftar::import::{ImportProgress, ImportSummary};
use daftar::secrets::{SecretString, zeroize::Zeroizing};
use daftar::sync::SyncStatus;
use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

/// What the window shows before anything else: the version, where the ledger is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// The ledger file open now: the merchant's (`DAFTAR_DB`, else the OS data
    /// directory), or the demo's own (`<stem>.demo.sqlite3`) while the demo runs; empty
    /// when there is none (`ledger_error` says why).
    pub ledger_path: String,
    /// Where the log files are written; `null` when there is no file log.
    pub log_dir: Option<String>,
    /// `DAFTAR_RUN_SMOKE=1`: the UI calls `smoke_painted` once its first screen is drawn.
    pub smoke: bool,
    /// Whether the ledger holds any profile (the first-run panel shows when it does not).
    pub has_profiles: bool,
    /// Why the ledger could not be opened (every ledger command then fails with it).
    pub ledger_error: Option<ErrorView>,
    /// The keyring is a throwaway one (`DAFTAR_KEYRING_EPHEMERAL=1`, set by
    /// `scripts/with-keyring.sh` when no system keyring was found): keys saved now are
    /// lost when the app closes.
    pub keyring_ephemeral: bool,
}

/// The sync worker as the merchant sees it: paused by them, and what it is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct SyncState {
    /// The merchant paused sending (`sync_pause`) for this run of the app.
    pub paused_by_merchant: bool,
    /// The worker's board; `running: false` when paused or when it could not start.
    pub status: SyncStatus,
    /// Why the worker is not running when it should be (e.g. `sync.running`: a
    /// `daftar sync` in a terminal holds this ledger); `null` otherwise.
    pub worker_error: Option<ErrorView>,
}

/// The bundled demo: the Ottu sandbox in the app, and its profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct DemoStatus {
    /// The demo profile exists and the app manages its sandbox.
    pub active: bool,
    /// The sandbox answers (false: it is shut down, as if the network were gone).
    pub online: bool,
    /// The demo profile's name (`demo`) when active.
    pub profile: Option<String>,
    /// The sandbox's base URL when active.
    pub base_url: Option<String>,
}

/// `import_start`'s request: payments to fetch from a profile, by session id. No file
/// path: the window never names a file for the app to read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ImportStart {
    pub profile: String,
    pub session_ids: Vec<String>,
}

impl From<ImportStart> for daftar::import::ImportRequest {
    fn from(request: ImportStart) -> Self {
        daftar::import::ImportRequest {
            profile: request.profile,
            session_ids: request.session_ids,
            from_file: None,
        }
    }
}

/// `import_start`'s reply: the job's number, named by its events and `job_cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct JobStarted {
    pub job: u64,
}

/// Names a running job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct JobRef {
    pub job: u64,
}

/// Names a queued operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OperationRef {
    pub id: i64,
}

/// Drops an operation that never reached Ottu.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct DropRequest {
    pub id: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Names a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProfileRef {
    pub name: String,
}

/// A profile to add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewProfile {
    pub name: String,
    pub base_url: String,
    pub currency: String,
}

/// A key for a profile: the API key, or a dashboard user's password when `basic_user`
/// is set. The secret goes straight to the OS keyring; no reply ever carries it, and
/// `Debug` prints it as `[REDACTED]`.
#[derive(Debug, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SetKeyRequest {
    pub profile: String,
    #[serde(default)]
    pub basic_user: Option<String>,
    #[ts(type = "string")]
    pub secret: KeySecret,
}

/// The secret of a [`SetKeyRequest`], wrapped as it is read.
#[derive(Debug)]
pub struct KeySecret(pub SecretString);

impl<'de> Deserialize<'de> for KeySecret {
    /// Wraps the secret at once; the plain copy serde made is wiped when dropped.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeySecret, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        Ok(KeySecret(SecretString::from(text.as_str())))
    }
}

/// Turns the demo's sandbox off (as if the network were gone) or on again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DemoOnline {
    pub online: bool,
}

/// Smoke mode: the UI's first screen is drawn, with this many payment rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Painted {
    pub rows: u64,
}

/// `import-progress`: how far job `job` is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ImportProgressEvent {
    pub job: u64,
    pub progress: ImportProgress,
}

/// `import-finished`: the job's summary (also when it stopped early: then `error` is the
/// stop's error too), or only `error` when it was refused before anything was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ImportFinishedEvent {
    pub job: u64,
    pub summary: Option<ImportSummary>,
    pub error: Option<ErrorView>,
}

// --- month end: report import, reconciliation, settlement, export (issue 10) ---

/// `report_upload`'s reply: a file the merchant picked, whose bytes the window sent (it never
/// names a path); the shell keeps it in the app's cache under this id for the commands
/// below. Ids live as long as the app runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Upload {
    pub id: String,
    /// The name the file had on the merchant's computer (shown, never opened).
    pub file_name: String,
    pub bytes: u64,
}

/// `reconcile_start`'s request: a reconciliation of a profile against an uploaded file or
/// an Ottu report token, for a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct ReconcileStart {
    pub profile: String,
    /// An id from `report_upload`; exactly one of this and `token`.
    pub upload: Option<String>,
    pub token: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Column overrides, `HEADER=field`.
    pub map: Vec<String>,
}

/// Names a reconciliation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReconciliationRef {
    pub id: i64,
}

/// Reconciliations or periods, of one profile or all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct ProfileFilter {
    pub profile: Option<String>,
}

/// `export_start`'s request: the core's export without a path. The shell writes the file
/// to the Downloads folder (else the app's data folder) under a name of its own,
/// `daftar-<what>-<date>[-n].<format>`; the result event's `summary.file` says where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct ExportStart {
    pub what: String,
    pub format: String,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub reconciliation: Option<i64>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default = "bom_default")]
    pub bom: bool,
}

fn bom_default() -> bool {
    true
}

/// `reconcile-progress`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReconcileProgressEvent {
    pub job: u64,
    pub progress: daftar::reconcile::ReconcileProgress,
}

/// `reconcile-finished`: the saved reconciliation, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReconcileFinishedEvent {
    pub job: u64,
    pub summary: Option<daftar::reconcile::ReconcileSummary>,
    pub error: Option<ErrorView>,
}

/// `export-progress`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ExportProgressEvent {
    pub job: u64,
    pub progress: daftar::export::ExportProgress,
}

/// `export-finished`: what was written and where, or why nothing was (a cancelled
/// export leaves no file: `interrupted`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ExportFinishedEvent {
    pub job: u64,
    pub summary: Option<daftar::export::ExportSummary>,
    pub error: Option<ErrorView>,
}

/// `report_import_start`'s request: a dry run (`commit: false`) or the import of an
/// uploaded file or an Ottu report token. On commit the shell writes rejected rows to a
/// new file in the Downloads folder (the summary's `rejects_file`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct ReportImportStart {
    pub profile: String,
    /// An id from `report_upload`; exactly one of this and `token`.
    pub upload: Option<String>,
    pub token: Option<String>,
    /// Column overrides, `HEADER=field`; saved for the profile when the import commits.
    pub map: Vec<String>,
    pub commit: bool,
}

/// `report-progress`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReportProgressEvent {
    pub job: u64,
    pub progress: daftar::import::report::ReportProgress,
}

/// `report-finished`: the plan (dry run) or what was imported, or why neither.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReportFinishedEvent {
    pub job: u64,
    pub summary: Option<daftar::import::report::ReportImportSummary>,
    pub error: Option<ErrorView>,
}

/// `settlement_import`'s request: an uploaded settlement file, checked (dry run) or imported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct SettlementImportStart {
    pub profile: String,
    /// An id from `report_upload`.
    pub upload: String,
    /// Column overrides, `HEADER=field`; saved for the profile when the import commits.
    pub map: Vec<String>,
    pub commit: bool,
}
