//! The commands that talk to Ottu: `sync` (the outbox worker, with a progress bar in text
//! mode; Ctrl-C stops it at the next safe point), `import` (a file read as a stream, with
//! its progress in bytes) and `refresh`. Progress-bar templates are constants: any text of
//! the user's (a profile name) goes in through `{prefix}` or `{msg}`, never into a template.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use daftar::import::{ImportProgress, ImportRequest, RefreshProgress, RefreshRequest};
use daftar::sources::SplitMix;
use daftar::sync::{self, SyncDeps, SyncEvent, SyncMode, SyncOptions, SyncSummary};
use daftar::{Error, Ledger};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{ImportArgs, SyncArgs};
use crate::render::Output;

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Remote {
            code: "runtime",
            message: format!("cannot start the async runtime: {e}"),
        })
}

/// A progress bar on stderr (hidden with `--json`). `what` is shown through `{prefix}`, never
/// pasted into the template: a profile name such as `a}b` is text, not template syntax.
fn bar(json: bool, what: &str) -> ProgressBar {
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    };
    bar.set_style(style(COUNT_TEMPLATE));
    bar.set_prefix(what.to_string());
    bar
}

/// A style from one of the constant templates in this file (no user text in them).
fn style(template: &'static str) -> ProgressStyle {
    // The templates are constants checked by `tests::templates_are_valid`; on a mistake the
    // bar falls back to the default style rather than failing the command.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

const COUNT_TEMPLATE: &str = "{spinner} {prefix} [{bar:30}] {pos}/{len} {msg}";
/// The import's bar: through the file by bytes (its size is known, the number of ids is
/// not until the end), or through the `--session-id` list.
const IMPORT_BYTES_TEMPLATE: &str =
    "{spinner} {prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {msg}";
const SPINNER_TEMPLATE: &str = "{spinner} {prefix} {msg}";

/// `daftar import`: renders the summary; a run that stopped part way is the command's
/// error (exit 1) after its summary, which says what was imported and where it stopped.
pub fn import(ledger: &mut Ledger, args: &ImportArgs, out: &Output) -> Result<(), Error> {
    let job = ledger.import_job(ImportRequest {
        profile: args.profile.clone(),
        session_ids: args.session_id.clone(),
        from_file: args.from_file.clone(),
    })?;
    let runtime = runtime()?;
    let bar = bar(out.json, "import");
    on_ctrl_c(
        &runtime,
        job.cancel_flag(),
        bar.clone(),
        CtrlCMessages::reading("import"),
    )?;
    // The bar's kind is known once the job has opened the file: through the file by bytes
    // (its size is known, the number of ids is not until the end), a spinner for a pipe,
    // or through the list of ids.
    let mut by_bytes = None;
    let summary = job.run(runtime.handle(), &mut |p: &ImportProgress| {
        let by_bytes = *by_bytes.get_or_insert_with(|| match (p.from_file, p.bytes_total) {
            (true, Some(size)) => {
                bar.set_style(style(IMPORT_BYTES_TEMPLATE));
                bar.set_length(size);
                true
            }
            (true, None) => {
                bar.set_style(style(SPINNER_TEMPLATE));
                false
            }
            (false, _) => {
                bar.set_length(p.ids_given);
                false
            }
        });
        bar.set_position(if by_bytes { p.bytes_read } else { p.handled });
        bar.set_message(format!("{} imported", p.imported));
    });
    bar.finish_and_clear();
    runtime.shutdown_background();
    let summary = summary?;
    let error = summary.error();
    out.imported(&summary, error.as_ref());
    error.map_or(Ok(()), Err)
}

/// `daftar refresh`: every profile (or the one named), each reported on its own (the
/// core's [`daftar::import::RefreshJob`] decides what is skipped and what stops the run).
pub fn refresh(ledger: &mut Ledger, profile: Option<&str>, out: &Output) -> Result<(), Error> {
    let job = ledger.refresh_job(RefreshRequest {
        profile: profile.map(str::to_string),
    })?;
    let runtime = runtime()?;
    let bar = bar(out.json, "refresh");
    on_ctrl_c(
        &runtime,
        job.cancel_flag(),
        bar.clone(),
        CtrlCMessages::reading("refresh"),
    )?;
    let mut current = None::<String>;
    let report = job.run(runtime.handle(), &mut |p: &RefreshProgress| {
        if current.as_deref() != Some(p.profile.as_str()) {
            bar.reset();
            bar.set_prefix(format!("refresh {}", p.profile));
            current = Some(p.profile.clone());
        }
        bar.set_length(p.total);
        bar.set_position(p.done);
    });
    bar.finish_and_clear();
    runtime.shutdown_background();
    let report = report?;
    let error = report.error();
    out.refreshed(&report.profiles, error.as_ref());
    error.map_or(Ok(()), Err)
}

/// Exit code after a second Ctrl-C: 128 + SIGINT, as shells report a process ended by it.
const EXIT_INTERRUPTED: i32 = 130;

/// What a Ctrl-C says: on the first (the run stops at its next safe point) and, if it has
/// something to add, on the second (the process exits at once).
struct CtrlCMessages {
    stopping: String,
    stopped: Option<&'static str>,
}

impl CtrlCMessages {
    /// `import` or `refresh`: the first Ctrl-C stops at the next answer, writing what was
    /// read (requests in flight are abandoned: a read changes nothing at Ottu); the second
    /// exits at once (a write cut short rolls back; what was committed before stays).
    fn reading(what: &str) -> CtrlCMessages {
        CtrlCMessages {
            stopping: format!(
                "stopping the {what}: writing what was read so far; Ctrl-C again stops at once"
            ),
            stopped: None,
        }
    }

    /// `sync`: the first Ctrl-C stops claiming and lets the requests in flight be answered
    /// and recorded (up to the request timeout); the second exits at once. Exiting
    /// mid-request is safe: those operations stay `in_flight`, and the next sync resends
    /// them with the same tracking keys.
    fn sync() -> CtrlCMessages {
        CtrlCMessages {
            stopping: "stopping: no more operations will be sent; waiting for the answers to those in flight to record them. Press Ctrl-C again to stop at once (the next `daftar sync` resends them with the same tracking keys)".to_string(),
            stopped: Some(
                "stopped: operations in flight stay in_flight and are resent with their tracking keys by the next `daftar sync`",
            ),
        }
    }
}

/// Ctrl-C for a run that polls `cancel`: the first sets it and says `messages.stopping`; the
/// second exits at once ([`EXIT_INTERRUPTED`]). Registered before it returns, so no Ctrl-C
/// falls between the run starting and the handler being in place.
fn on_ctrl_c(
    runtime: &tokio::runtime::Runtime,
    cancel: Arc<AtomicBool>,
    bar: ProgressBar,
    messages: CtrlCMessages,
) -> Result<(), Error> {
    let _entered = runtime.enter();
    #[cfg(unix)]
    let mut interrupts = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt()).map_err(|e| Error::Remote {
            code: "runtime",
            message: format!("cannot listen for Ctrl-C: {e}"),
        })?
    };
    runtime.spawn(async move {
        #[cfg(unix)]
        let mut next = async || interrupts.recv().await.is_some();
        #[cfg(not(unix))]
        let mut next = async || tokio::signal::ctrl_c().await.is_ok();
        if !next().await {
            return;
        }
        cancel.store(true, Ordering::SeqCst);
        bar.suspend(|| eprintln!("{}", messages.stopping));
        if next().await {
            if let Some(stopped) = messages.stopped {
                bar.suspend(|| eprintln!("{stopped}"));
            }
            std::process::exit(EXIT_INTERRUPTED);
        }
    });
    Ok(())
}

pub fn sync(ledger: &mut Ledger, args: &SyncArgs, json: bool) -> Result<SyncSummary, Error> {
    let runtime = runtime()?;
    let cancel = Arc::new(AtomicBool::new(false));
    let bar = bar(json, "sync");
    on_ctrl_c(
        &runtime,
        Arc::clone(&cancel),
        bar.clone(),
        CtrlCMessages::sync(),
    )?;
    let deps = SyncDeps {
        runtime: runtime.handle().clone(),
        client_config: daftar::ottu::ClientConfig::default(),
        random: Arc::new(SplitMix::from_entropy()),
        cancel,
    };
    let options = SyncOptions {
        profile: args.profile.clone(),
        mode: if args.watch {
            SyncMode::Watch
        } else {
            SyncMode::Once
        },
        concurrency: args.concurrency,
        ..SyncOptions::default()
    };
    let mut failures = 0u64;
    let mut on_event = |event: &SyncEvent| match event {
        // Sent again whenever the count changes: what is done plus what is left.
        SyncEvent::Outstanding { total } => bar.set_length(bar.position() + *total),
        SyncEvent::Recovered { count } => bar.println(format!(
            "resending {count} operation(s) whose outcome was unknown (same tracking keys)"
        )),
        SyncEvent::Sent { .. } => {}
        SyncEvent::Recorded(view) => {
            use daftar::model::OperationStatus::*;
            match view.status {
                Succeeded => bar.inc(1),
                Failed | NeedsAttention => {
                    failures += 1;
                    bar.inc(1);
                    bar.println(format!(
                        "operation {} ({} on {}): {}: {}",
                        view.id, view.kind, view.session_id, view.status, view.detail
                    ));
                }
                _ => {}
            }
            bar.set_message(if failures > 0 {
                format!("{failures} failed")
            } else {
                String::new()
            });
        }
        SyncEvent::Offline { retry_in_ms, .. } => {
            bar.set_message(format!("offline: trying again in {} s", retry_in_ms / 1000))
        }
        SyncEvent::Online { .. } | SyncEvent::Idle { .. } | SyncEvent::Resumed { .. } => {}
        SyncEvent::Paused {
            profile, reason, ..
        } => bar.println(format!("profile {profile} paused: {reason}")),
        SyncEvent::StoreError {
            message,
            retry_in_ms,
            ..
        } => bar.println(format!(
            "the ledger could not be written ({message}); trying again in {} ms",
            retry_in_ms
        )),
        SyncEvent::Finished(_) => bar.finish_and_clear(),
    };
    let summary = sync::run(ledger, &deps, &options, &mut on_event);
    bar.finish_and_clear();
    runtime.shutdown_background();
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid() {
        for template in [COUNT_TEMPLATE, IMPORT_BYTES_TEMPLATE, SPINNER_TEMPLATE] {
            ProgressStyle::with_template(template).unwrap();
        }
    }

    #[test]
    fn names_with_template_syntax_are_shown_as_text() {
        for name in ["a}b", "{a", "{spinner}", "}}{{", "{prefix}"] {
            let bar = bar(false, &format!("refresh {name}"));
            bar.set_message(name.to_string());
            assert_eq!(bar.prefix(), format!("refresh {name}"));
            bar.finish_and_clear();
        }
    }
}
