//! [`ReconcileJob`]: a run on its own handle on the ledger file, with progress and cancel,
//! like the import jobs. The request is checked first (profile, period, report source,
//! column overrides); a report token is downloaded into a temporary file and then read
//! like any file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::run::{Period, RowSource, RunSpec, reconcile_rows};
use super::views::{ReconcileProgress, ReconcileRequest, ReconcileSummary};
use crate::error::{Error, Result};
use crate::import::report::to_temp_file;
use crate::ledger::Ledger;
use crate::ledger::parse_bound;
use crate::tabular::mapping::load_saved;
use crate::tabular::{FileKind, parse_override};

/// The period of `from`/`to` (either may be absent); `to` after `from`.
pub(super) fn parse_period(from: Option<&str>, to: Option<&str>) -> Result<Period> {
    let from_ms = from
        .filter(|f| !f.trim().is_empty())
        .map(|f| parse_bound("from", f, false))
        .transpose()?;
    let to_ms = to
        .filter(|t| !t.trim().is_empty())
        .map(|t| parse_bound("to", t, true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from_ms, to_ms)
        && t <= f
    {
        return Err(Error::invalid(
            "to",
            "date.invalid",
            "the period ends before it starts: give a `to` after `from`",
        ));
    }
    Ok(Period { from_ms, to_ms })
}

/// A reconciliation, ready to run on its own handle on the ledger file. Made by
/// [`Ledger::reconcile_job`].
pub struct ReconcileJob {
    ledger: Ledger,
    request: ReconcileRequest,
    client_config: crate::ottu::ClientConfig,
    cancel: Arc<AtomicBool>,
}

impl ReconcileJob {
    /// The Ottu client's timeouts, for a report token (tests shorten them).
    pub fn with_client_config(mut self, config: crate::ottu::ClientConfig) -> ReconcileJob {
        self.client_config = config;
        self
    }

    /// Set it (any thread, Ctrl-C, a Cancel button) to stop the run at its next check:
    /// nothing is saved, the error is `interrupted`.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Runs the reconciliation on this thread (a report token is downloaded on a thread
    /// of its own, so no runtime is needed). Returns the saved reconciliation's summary.
    pub fn run(mut self, progress: &mut dyn FnMut(&ReconcileProgress)) -> Result<ReconcileSummary> {
        let span = tracing::info_span!("reconcile", profile = %self.request.profile);
        let _entered = span.enter();
        let result = self.run_inner(progress);
        match &result {
            Ok(s) => tracing::info!(
                id = s.id,
                rows = s.report_rows,
                clean = s.clean,
                "reconciliation saved"
            ),
            Err(e) => tracing::warn!(code = e.code(), "reconciliation failed: {e}"),
        }
        result
    }

    /// [`ReconcileJob::run`] for an async caller: on the runtime's blocking pool (SQLite
    /// off the async workers); `progress` is called on that thread.
    pub async fn run_async(
        self,
        mut progress: impl FnMut(&ReconcileProgress) + Send + 'static,
    ) -> Result<ReconcileSummary> {
        tokio::task::spawn_blocking(move || self.run(&mut progress))
            .await
            .map_err(|e| Error::Remote {
                code: "runtime",
                message: format!("the reconciliation stopped unexpectedly: {e}"),
            })?
    }

    fn run_inner(
        &mut self,
        progress: &mut dyn FnMut(&ReconcileProgress),
    ) -> Result<ReconcileSummary> {
        let request = self.request.clone();
        let period = parse_period(request.from.as_deref(), request.to.as_deref())?;
        // Checks the profile before any file is opened or anything downloaded.
        let profile = self
            .ledger
            .store()
            .read(|tx| super::profile_by_name(tx, &request.profile))?;
        let (path, source, _download) = match (&request.report, &request.report_token) {
            (Some(path), None) => (path.clone(), file_name(path), None),
            (None, Some(token)) => {
                // Ottu's download, as `import-report --token` does it (its limit and an
                // expired token worded the same); the file is removed when the run ends.
                let download = to_temp_file(
                    &mut self.ledger,
                    self.client_config,
                    profile.id,
                    profile.name.as_str(),
                    token,
                )?;
                let path = download.path().to_path_buf();
                (path, format!("token:{}", token.trim()), Some(download))
            }
            _ => {
                return Err(Error::invalid(
                    "report",
                    "reconcile.no_report",
                    "name the report: exactly one of a report file and a report token",
                ));
            }
        };
        let mut rows = open_report(&mut self.ledger, &profile, &path, &request.map)?;
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Unavailable {
                code: "interrupted",
                message: "the reconciliation was stopped before it started".into(),
            });
        }
        reconcile_rows(
            &mut self.ledger,
            &RunSpec {
                profile: &request.profile,
                period,
                source,
            },
            rows.as_mut(),
            &self.cancel,
            progress,
        )
    }
}

/// The file's name as the summary names its source (not the whole path: a path can say
/// more about the machine than the reconciliation needs to).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The report's rows through the report reader, with the profile's saved column mapping
/// and the request's overrides (not saved: a reconciliation changes no setting).
fn open_report(
    ledger: &mut Ledger,
    profile: &crate::model::Profile,
    path: &Path,
    map: &[String],
) -> Result<Box<dyn RowSource>> {
    let overrides = map
        .iter()
        .map(|m| parse_override(m))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let saved = ledger
        .store()
        .read(|tx| Ok::<_, Error>(load_saved(tx, profile.id, FileKind::Report)?))?;
    Ok(Box::new(crate::import::report::open_report(
        path, &saved, &overrides,
    )?))
}

impl Ledger {
    /// A reconciliation on its own handle on this ledger's file ([`Ledger::reopen`]):
    /// nothing is checked until it runs.
    pub fn reconcile_job(&self, request: ReconcileRequest) -> Result<ReconcileJob> {
        Ok(ReconcileJob {
            ledger: self.reopen()?,
            request,
            client_config: crate::ottu::ClientConfig::default(),
            cancel: Arc::new(AtomicBool::new(false)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_dates_and_instants() {
        let p = parse_period(Some("2026-11-01"), Some("2026-11-30")).unwrap();
        assert_eq!(p.from_ms, Some(1_793_491_200_000));
        // `to` as a date includes that whole day.
        assert_eq!(p.to_ms, Some(1_796_083_200_000));
        let p = parse_period(None, Some("2026-11-30T00:00:00Z")).unwrap();
        assert_eq!(p.from_ms, None);
        assert_eq!(p.to_ms, Some(1_795_996_800_000));
        assert_eq!(
            parse_period(Some("2026-12-01"), Some("2026-11-01"))
                .unwrap_err()
                .code(),
            "date.invalid"
        );
        assert_eq!(
            parse_period(Some("1/11/2026"), None).unwrap_err().field(),
            Some("from")
        );
    }
}
