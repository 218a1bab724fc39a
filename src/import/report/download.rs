//! Ottu's reports through its API: the list of generated reports, and one report
//! downloaded by its token into a temporary file that the import then reads like any
//! other. Ottu allows about [`OTTU_REPORT_DOWNLOADS_PER_HOUR`] downloads an hour and
//! tokens expire: a 429 is `report.download_limit` (with when to try again), a 404/410
//! `report.token_expired`. The requests run on a thread of their own with a small runtime,
//! so a blocking caller (the CLI) and a blocking-pool caller (the desktop app) both work.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::connect;
use crate::error::{Error, FieldContext, Result};
use crate::ledger::Ledger;
use crate::limits::{
    OTTU_MAX_REPORT_LIST_PAGES, OTTU_REPORT_DOWNLOADS_PER_HOUR, OTTU_REPORT_PAGE_ROWS,
};
use crate::model::{ProfileId, ProfileName};
use crate::ottu::{ClientConfig, FetchError, OttuClient, ReportQuery};
use crate::tabular::parse_date;

/// Which reports to list: a profile, optionally created within `[from, to]` (dates).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ReportListRequest {
    pub profile: String,
    #[ts(optional, as = "Option<String>")]
    pub from: Option<String>,
    #[ts(optional, as = "Option<String>")]
    pub to: Option<String>,
}

/// One report Ottu generated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportFile {
    /// What `import-report --token` takes; `None` when Ottu gave no download link.
    pub token: Option<String>,
    pub name: Option<String>,
    pub interval: Option<String>,
    /// `csv`, `xlsx`, as Ottu says.
    pub format: Option<String>,
    pub rows: Option<u64>,
    /// `in_progress`, `finished`, `expired`.
    pub status: Option<String>,
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportList {
    pub profile: String,
    /// Newest first, as Ottu lists them.
    pub reports: Vec<ReportFile>,
    /// How many Ottu says it has (more than listed when past the page limit).
    pub count: u64,
}

/// Runs `f` on a thread of its own with a current-thread runtime: no runtime context is
/// needed or disturbed on the caller's thread.
fn on_own_runtime<T: Send + 'static>(
    f: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send>>
    + Send
    + 'static,
) -> Result<T> {
    let handle = std::thread::Builder::new()
        .name("daftar-report".to_string())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Remote {
                    code: "runtime",
                    message: format!("no async runtime to run on: {e}"),
                })?;
            runtime.block_on(f())
        })
        .map_err(|e| Error::Remote {
            code: "runtime",
            message: format!("cannot start the report download: {e}"),
        })?;
    handle.join().unwrap_or_else(|_| {
        Err(Error::Remote {
            code: "runtime",
            message: "the report download stopped unexpectedly".to_string(),
        })
    })
}

fn client(ledger: &mut Ledger, config: ClientConfig, profile: ProfileId) -> Result<OttuClient> {
    connect::client_for(ledger, config, profile).map_err(Error::from)
}

/// A download's failure as the run's error: the limit and an expired token get codes of
/// their own, the rest the codes every Ottu read uses.
fn download_error(profile: &str, token: &str, error: FetchError) -> Error {
    match &error {
        FetchError::Throttled { retry_after } => {
            let when = retry_after_text(*retry_after);
            Error::Remote {
                code: "report.download_limit",
                message: format!(
                    "Ottu allows about {OTTU_REPORT_DOWNLOADS_PER_HOUR} report downloads an hour; try again after {when}"
                ),
            }
            .with("limit_per_hour", OTTU_REPORT_DOWNLOADS_PER_HOUR)
            .with("retry_after_s", retry_after.map(|d| d.as_secs()))
            .with("profile", profile)
        }
        FetchError::NotFound { .. } => token_expired(profile, token, 404),
        FetchError::Refused { status, .. } | FetchError::NotOttu { status, .. }
            if matches!(status, 404 | 410) =>
        {
            token_expired(profile, token, *status)
        }
        _ => fetch_error(profile, error),
    }
}

fn token_expired(profile: &str, token: &str, status: u16) -> Error {
    // Registered as not_found (exit 4): what it names does not exist (any more).
    Error::Invalid {
        field: "token",
        code: "report.token_expired",
        message: format!(
            "Ottu has no report with the token {token} (it is unknown or has expired): list the reports again for a fresh token"
        ),
        params: crate::error::Params::new(),
    }
    .with("token", token)
    .with("status", status)
    .with("profile", profile)
}

/// `Retry-After` as people read it: "120 s".
fn retry_after_text(wait: Option<Duration>) -> String {
    match wait {
        Some(wait) => format!("{} s", wait.as_secs().max(1)),
        None => "an hour".to_string(),
    }
}

/// Any other failed read, with the codes the other commands that read from Ottu use.
fn fetch_error(profile: &str, error: FetchError) -> Error {
    let code = match &error {
        FetchError::Auth { .. } => "ottu.auth",
        FetchError::Offline { .. } => "ottu.offline",
        FetchError::Unavailable { .. } => "ottu.unavailable",
        FetchError::Throttled { .. } => "ottu.throttled",
        FetchError::NotOttu { .. } | FetchError::BadBody { .. } => "ottu.not_ottu",
        FetchError::Refused { .. } | FetchError::Request(_) | FetchError::NotFound { .. } => {
            "ottu.refused"
        }
    };
    Error::Remote {
        code,
        message: format!("profile {profile}: {error}"),
    }
    .with("profile", profile)
    .with("detail", error.to_string())
}

/// A downloaded report on disk, removed when dropped.
pub(crate) struct TempReport {
    path: PathBuf,
}

impl TempReport {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempReport {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Where a downloaded report waits while it is read: the OS cache directory of Daftar
/// (created 0700 if missing), else the system's temp directory.
fn temp_dir() -> PathBuf {
    if let Some(dirs) = directories::ProjectDirs::from("", "", "daftar") {
        let dir = dirs.cache_dir().join("reports");
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        if builder.create(&dir).is_ok() {
            return dir;
        }
    }
    std::env::temp_dir()
}

/// Downloads the report `token` of the profile into a temporary file named for its
/// format (`.xlsx` when its bytes are a ZIP, else `.csv`).
pub(crate) fn to_temp_file(
    ledger: &mut Ledger,
    config: ClientConfig,
    profile_id: ProfileId,
    profile: &str,
    token: &str,
) -> Result<TempReport> {
    let token = token.trim();
    if token.is_empty()
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::invalid(
            "token",
            "input.bad_character",
            format!("'{token}' is not a report token: copy one from the report list"),
        ));
    }
    let client = client(ledger, config, profile_id)?;
    let (profile_owned, token_owned) = (profile.to_string(), token.to_string());
    let bytes = on_own_runtime(move || {
        Box::pin(async move {
            client
                .download_report(&token_owned)
                .await
                .map_err(|e| download_error(&profile_owned, &token_owned, e))
        })
    })?;
    let extension = if bytes.starts_with(b"PK\x03\x04") {
        "xlsx"
    } else {
        "csv"
    };
    let temp = TempReport {
        path: temp_dir().join(format!(
            "daftar-report-{}-{}.{extension}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        )),
    };
    let unwritable = |e: std::io::Error| {
        Error::invalid(
            "token",
            "table.unreadable",
            format!(
                "cannot write the downloaded report to {}: {e}",
                temp.path().display()
            ),
        )
    };
    // Only the merchant may read it (it names customers): created new, mode 0600.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(temp.path()).map_err(unwritable)?;
    std::io::Write::write_all(&mut file, &bytes).map_err(unwritable)?;
    drop(bytes);
    Ok(temp)
}

impl Ledger {
    /// The reports Ottu generated for the profile, newest first, created within
    /// `[from, to]` when given (dates such as 2026-11-01 or 01/11/2026). Reads at most
    /// [`OTTU_MAX_REPORT_LIST_PAGES`] pages. Blocks while Ottu answers (on a thread of its
    /// own); an async caller runs it on its blocking pool.
    pub fn report_list(&mut self, request: &ReportListRequest) -> Result<ReportList> {
        let name = ProfileName::parse(&request.profile).field("profile")?;
        let profile_id = self.profile_id(name.as_str())?;
        let day = |text: &Option<String>, field: &'static str| -> Result<Option<time::Date>> {
            text.as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    parse_date(t).map_err(|e| {
                        Error::invalid(field, "date.invalid", e.to_string()).with("value", t)
                    })
                })
                .transpose()
        };
        let from = day(&request.from, "from")?;
        let to = day(&request.to, "to")?;
        let client = client(self, ClientConfig::default(), profile_id)?;
        let profile = name.to_string();
        let shown = profile.clone();
        let (reports, count) = on_own_runtime(move || {
            Box::pin(async move {
                let mut reports = Vec::new();
                let mut count = 0;
                for page in 0..OTTU_MAX_REPORT_LIST_PAGES {
                    let query = ReportQuery {
                        created_after: from,
                        created_before: to,
                        limit: OTTU_REPORT_PAGE_ROWS,
                        offset: page * OTTU_REPORT_PAGE_ROWS,
                    };
                    let got = client
                        .list_reports(&query)
                        .await
                        .map_err(|e| fetch_error(&profile, e))?;
                    count = got.count;
                    let last = got.next.is_none() || got.results.is_empty();
                    reports.extend(got.results.into_iter().map(|r| ReportFile {
                        token: r.download_token().map(str::to_string),
                        name: r.report_name.clone(),
                        interval: r.interval.clone(),
                        format: r.file_format.clone(),
                        rows: r.records_amount,
                        status: r.status.clone(),
                        created_at: r.created_at.clone().or(r.generated_at.clone()),
                    }));
                    if last {
                        break;
                    }
                }
                Ok((reports, count))
            })
        })?;
        Ok(ReportList {
            profile: shown,
            reports,
            count,
        })
    }
}
