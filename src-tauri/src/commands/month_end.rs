//! Month end (issue 10): `report_upload`, `report_list`, `report_import_start`, `reconcile_start`, `reconciliations`,
//! `reconciliation`, `reconcile_items`, `reconcile_decide`, `lock_period`, `periods`,
//! `settlement_import`, `settlement_match`, `export_start`. Files come from the window as bytes (`report_upload`): the shell writes
//! them to the app's cache folder and hands back an id; no command takes a path from the
//! window. Exports are written to the Downloads folder under a name the shell picks.
//! Long work (reconciling, exporting) runs as jobs ([`crate::jobs`]).

use std::path::{Path, PathBuf};

use daftar::ErrorView;
use daftar::reconcile::{
    LockPeriodRequest, PeriodView, ReconcileDecision, ReconcileItemPage, ReconcileItemQuery,
    ReconcileItemView, ReconcileRequest, ReconcileSummary,
};
use tauri::State;
use tauri::ipc::{InvokeBody, Request};

use super::{Reply, Req};
use crate::contract::{
    ExportStart, JobStarted, ProfileFilter, ReconcileStart, ReconciliationRef, ReportImportStart,
    SettlementImportStart, Upload,
};
use crate::jobs;
use crate::state::{Shared, UploadFile, blocking, lock, with_ledger};
use daftar::import::report::{ReportImportRequest, ReportList, ReportListRequest};
use daftar::settlement::{
    SettlementImportRequest, SettlementImportSummary, SettlementMatchRequest, SettlementReport,
};

/// The largest file the window may hand over. A report of 1,000,000 rows is ~250 MB of CSV;
/// the window holds the whole file in memory to send it, so a bound keeps a wrong pick
/// (a disk image) from exhausting memory.
pub const UPLOAD_MAX_BYTES: usize = 512 * 1024 * 1024;

/// The header that carries the file's name, percent-encoded (`encodeURIComponent`).
pub const FILE_NAME_HEADER: &str = "x-daftar-file-name";

fn shell_error(code: &'static str, message: String) -> ErrorView {
    daftar::Error::Unavailable { code, message }.view()
}

fn invalid(field: &'static str, code: &'static str, message: String) -> ErrorView {
    daftar::Error::invalid(field, code, message).view()
}

/// A file picked in the window: its bytes are the request's body, its name a header. The
/// shell writes it to `uploads/<n>.<csv|xlsx|bin>` in the app's cache folder (the name the
/// merchant gave it is kept only to show) and answers with its id.
#[tauri::command]
pub async fn report_upload(state: State<'_, Shared>, request: Request<'_>) -> Reply<Upload> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(shell_error(
            "app.bad_request",
            "report_upload takes the file's bytes as its body".into(),
        ));
    };
    let name = request
        .headers()
        .get(FILE_NAME_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(percent_decode)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "report".to_string());
    if bytes.is_empty() {
        return Err(daftar::Error::invalid(
            "file",
            "app.upload_empty",
            format!("the file {name} is empty"),
        )
        .with("name", &name)
        .view());
    }
    if bytes.len() > UPLOAD_MAX_BYTES {
        let max_mb = UPLOAD_MAX_BYTES / (1024 * 1024);
        return Err(daftar::Error::invalid(
            "file",
            "app.upload_too_large",
            format!("the file {name} is larger than {max_mb} MB"),
        )
        .with("name", &name)
        .with("max_mb", max_mb)
        .view());
    }
    keep(&state, name, bytes.clone()).await
}

/// Writes `bytes` to a new file in the uploads folder and registers it under a new id.
pub async fn keep(state: &Shared, name: String, bytes: Vec<u8>) -> Reply<Upload> {
    let dir = state
        .config
        .uploads_dir
        .clone()
        .ok_or_else(|| shell_error("app.no_folder", "the app has no cache folder".into()))?;
    let id = format!("u{}", state.next_upload());
    // A folder per upload, the file under the merchant's name made safe: the core shows
    // the name (a reconciliation's `source`), and no name can leave the folder.
    let dir = dir.join(&id);
    let path = dir.join(safe_name(&name));
    let size = bytes.len() as u64;
    let written = path.clone();
    blocking(move || {
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&written, &bytes))
            .map_err(|e| {
                shell_error(
                    "app.upload_failed",
                    format!("the file could not be kept in {}: {e}", dir.display()),
                )
            })
    })
    .await?;
    lock(&state.uploads).insert(
        id.clone(),
        UploadFile {
            path,
            name: name.clone(),
        },
    );
    Ok(Upload {
        id,
        file_name: name,
        bytes: size,
    })
}

/// The file name to keep an upload under: no path separator, control character or leading
/// dot, at most 100 characters, ending in `.csv`/`.xlsx` as [`extension`] reads it.
fn safe_name(name: &str) -> String {
    let ext = extension(name);
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    let stem: String = match cleaned.rsplit_once('.') {
        Some((stem, _)) if ext != "bin" => stem.chars().take(100).collect(),
        _ => cleaned.chars().take(100).collect(),
    };
    let stem = if stem.trim().is_empty() {
        "report".to_string()
    } else {
        stem
    };
    format!("{stem}.{ext}")
}

/// `csv` or `xlsx` from the name (the reader also sniffs the bytes), else `bin`.
fn extension(name: &str) -> &'static str {
    let lower = name.to_lowercase();
    if lower.ends_with(".xlsx") {
        "xlsx"
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        "csv"
    } else {
        "bin"
    }
}

/// `%XX` sequences to bytes, then UTF-8; `None` when it is not.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file an upload id names.
pub fn upload(state: &Shared, id: &str) -> Result<UploadFile, ErrorView> {
    lock(&state.uploads).get(id).cloned().ok_or_else(|| {
        invalid(
            "upload",
            "app.upload_unknown",
            format!("no file {id} was handed over in this run of the app: pick it again"),
        )
    })
}

/// The reports Ottu generated for a profile. The request to Ottu runs on a handle of its
/// own on the ledger, so the commands' ledger is not held while Ottu answers.
#[tauri::command]
pub async fn report_list(
    state: State<'_, Shared>,
    request: Req<ReportListRequest>,
) -> Reply<ReportList> {
    let request = request.get()?;
    let ledger = with_ledger(&state, |l| l.reopen()).await?;
    blocking(move || {
        let mut ledger = ledger;
        ledger.report_list(&request).map_err(|e| e.view())
    })
    .await
}

/// Starts a report import (a dry run unless `commit`); `report-progress`, then
/// `report-finished`.
#[tauri::command]
pub async fn report_import_start(
    state: State<'_, Shared>,
    request: Req<ReportImportStart>,
) -> Reply<JobStarted> {
    let request = request.get()?;
    let file = request
        .upload
        .as_deref()
        .map(|id| upload(&state, id))
        .transpose()?;
    if file.is_none() && request.token.is_none() {
        return Err(invalid(
            "upload",
            "app.upload_unknown",
            "pick a report file or one of Ottu's reports".into(),
        ));
    }
    // On commit, rejected rows go to a new file in Downloads (not beside the app's copy).
    let rejects = match (request.commit, state.config.exports_dir.clone()) {
        (true, Some(dir)) => Some(blocking(move || reserve(&dir, "rejects", "csv")).await?),
        _ => None,
    };
    let core = ReportImportRequest {
        profile: request.profile,
        path: file.map(|f| f.path).unwrap_or_default(),
        token: if request.upload.is_some() {
            None
        } else {
            request.token
        },
        map: request.map,
        commit: request.commit,
        rejects_path: rejects.clone(),
        reopen: false,
    };
    let job = jobs::start_report_import(&state, core, rejects).await?;
    Ok(JobStarted { job })
}

/// Checks (`commit: false`) or imports an uploaded settlement file. On commit, rejected
/// lines go to a new file in Downloads.
#[tauri::command]
pub async fn settlement_import(
    state: State<'_, Shared>,
    request: Req<SettlementImportStart>,
) -> Reply<SettlementImportSummary> {
    let request = request.get()?;
    let file = upload(&state, &request.upload)?;
    let rejects = match (request.commit, state.config.exports_dir.clone()) {
        (true, Some(dir)) => {
            Some(blocking(move || reserve(&dir, "settlement-rejects", "csv")).await?)
        }
        _ => None,
    };
    let core = SettlementImportRequest {
        profile: request.profile,
        path: file.path,
        map: request.map,
        commit: request.commit,
        rejects_path: rejects.clone(),
    };
    let result = with_ledger(&state, move |l| l.settlement_import(&core)).await;
    if let Some(path) = rejects {
        let written = result
            .as_ref()
            .ok()
            .and_then(|s| s.rejects_file.as_deref())
            .is_some_and(|f| Path::new(f) == path.as_path());
        if !written {
            let _ = std::fs::remove_file(&path);
        }
    }
    result
}

/// Matches the settlement lines with paid payments and refunds.
#[tauri::command]
pub async fn settlement_match(
    state: State<'_, Shared>,
    request: Req<SettlementMatchRequest>,
) -> Reply<SettlementReport> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.settlement_match(&request)).await
}

/// Starts a reconciliation; its progress and result come as `reconcile-progress` and
/// `reconcile-finished`.
#[tauri::command]
pub async fn reconcile_start(
    state: State<'_, Shared>,
    request: Req<ReconcileStart>,
) -> Reply<JobStarted> {
    let request = request.get()?;
    let report = request
        .upload
        .as_deref()
        .map(|id| upload(&state, id))
        .transpose()?;
    let core = ReconcileRequest {
        profile: request.profile,
        report: report.map(|u| u.path),
        report_token: request.token,
        from: request.from,
        to: request.to,
        map: request.map,
    };
    let job = jobs::start_reconcile(&state, core).await?;
    Ok(JobStarted { job })
}

#[tauri::command]
pub async fn reconciliations(
    state: State<'_, Shared>,
    request: Req<ProfileFilter>,
) -> Reply<Vec<ReconcileSummary>> {
    let request = request.get()?;
    with_ledger(&state, move |l| {
        l.reconciliations(request.profile.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn reconciliation(
    state: State<'_, Shared>,
    request: Req<ReconciliationRef>,
) -> Reply<ReconcileSummary> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.reconciliation(request.id)).await
}

#[tauri::command]
pub async fn reconcile_items(
    state: State<'_, Shared>,
    request: Req<ReconcileItemQuery>,
) -> Reply<ReconcileItemPage> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.reconcile_items(&request)).await
}

/// Accept Ottu's value or keep the ledger's, with the merchant's reason (an audit event).
#[tauri::command]
pub async fn reconcile_decide(
    state: State<'_, Shared>,
    request: Req<ReconcileDecision>,
) -> Reply<ReconcileItemView> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.reconcile_decide(&request)).await
}

#[tauri::command]
pub async fn lock_period(
    state: State<'_, Shared>,
    request: Req<LockPeriodRequest>,
) -> Reply<PeriodView> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.lock_period(&request)).await
}

#[tauri::command]
pub async fn periods(
    state: State<'_, Shared>,
    request: Req<ProfileFilter>,
) -> Reply<Vec<PeriodView>> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.periods(request.profile.as_deref())).await
}

/// Starts an export to a new file in the exports folder; `export-finished`'s
/// `summary.file` is its path.
#[tauri::command]
pub async fn export_start(
    state: State<'_, Shared>,
    request: Req<ExportStart>,
) -> Reply<JobStarted> {
    let request = request.get()?;
    let dir = state.config.exports_dir.clone().ok_or_else(|| {
        shell_error(
            "app.no_folder",
            "there is no Downloads or data folder to export to".into(),
        )
    })?;
    let what = request.what.clone();
    let format = request.format.clone();
    // The name is reserved (created empty) so two exports never pick the same one; the
    // job writes beside it and renames over it, and a failed job removes it.
    let path = blocking(move || reserve(&dir, &what, &format)).await?;
    let core = daftar::export::ExportRequest {
        what: request.what,
        format: request.format,
        path: path.clone(),
        profile: request.profile,
        from: request.from,
        to: request.to,
        reconciliation: request.reconciliation,
        lang: request.lang,
        bom: request.bom,
    };
    let job = jobs::start_export(&state, core, path).await?;
    Ok(JobStarted { job })
}

/// A new file `daftar-<what>-<YYYY-MM-DD>[-n].<format>` in `dir`, created empty.
pub fn reserve(dir: &Path, what: &str, format: &str) -> Result<PathBuf, ErrorView> {
    let safe = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(20)
            .collect()
    };
    let (what, format) = (safe(what), safe(format));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let day: String = daftar::sources::format_ms(now).chars().take(10).collect();
    std::fs::create_dir_all(dir).map_err(|e| {
        shell_error(
            "app.export_folder",
            format!("the folder {} cannot be made: {e}", dir.display()),
        )
    })?;
    for n in 1..10_000 {
        let name = if n == 1 {
            format!("daftar-{what}-{day}.{format}")
        } else {
            format!("daftar-{what}-{day}-{n}.{format}")
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(shell_error(
                    "app.export_folder",
                    format!("no file can be made in {}: {e}", dir.display()),
                ));
            }
        }
    }
    Err(shell_error(
        "app.export_folder",
        format!("{} holds too many exports of today", dir.display()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded_and_extensions_kept() {
        assert_eq!(
            percent_decode("%D9%86%D9%88%D9%81%D9%85%D8%A8%D8%B1%20report.csv").as_deref(),
            Some("نوفمبر report.csv")
        );
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
        assert_eq!(extension("Report.XLSX"), "xlsx");
        assert_eq!(extension("a.csv"), "csv");
        assert_eq!(extension("../../etc/passwd"), "bin");
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd.bin");
        assert_eq!(safe_name("نوفمبر report.CSV"), "نوفمبر report.csv");
        assert_eq!(safe_name(".csv"), "csv.csv");
        assert_eq!(safe_name("/"), "_.bin");
        assert_eq!(safe_name(" "), "report.bin");
        assert_eq!(safe_name("a\nb.xlsx"), "a_b.xlsx");
    }

    #[test]
    fn export_names_are_unique_and_safe() {
        let dir = tempfile::tempdir().unwrap();
        let a = reserve(dir.path(), "ledger", "csv").unwrap();
        let b = reserve(dir.path(), "ledger", "csv").unwrap();
        let c = reserve(dir.path(), "../x", "c/sv").unwrap();
        assert_ne!(a, b);
        assert!(b.file_name().unwrap().to_str().unwrap().ends_with("-2.csv"));
        assert_eq!(c.parent().unwrap(), dir.path());
        assert!(
            c.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("daftar-x-")
        );
    }
}
