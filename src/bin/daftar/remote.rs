//! The commands that talk to Ottu: `sync` (the outbox worker, with a progress bar in text
//! mode; Ctrl-C stops it at the next safe point), `import` and `refresh`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use daftar::connect::Remote;
use daftar::import::{ImportSummary, RefreshSummary};
use daftar::sources::SplitMix;
use daftar::sync::{self, SyncDeps, SyncEvent, SyncMode, SyncOptions, SyncSummary};
use daftar::{Error, Ledger};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{ImportArgs, SyncArgs};

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

fn remote(runtime: &tokio::runtime::Runtime) -> Remote {
    Remote {
        runtime: runtime.handle().clone(),
        client_config: daftar::ottu::ClientConfig::default(),
    }
}

fn bar(json: bool, what: &str) -> ProgressBar {
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"
        ))
        .expect("a valid progress template")
        .progress_chars("=> "),
    );
    bar
}

pub fn import(ledger: &mut Ledger, args: &ImportArgs, json: bool) -> Result<ImportSummary, Error> {
    let mut ids = args.session_id.clone();
    if let Some(file) = &args.from_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::invalid(
                "from_file",
                "input.unreadable",
                format!("cannot read {}: {e}", file.display()),
            )
        })?;
        ids.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    if ids.is_empty() {
        return Err(Error::invalid(
            "session_id",
            "import.nothing",
            "name at least one payment: --session-id S... or --from-file FILE",
        ));
    }
    let runtime = runtime()?;
    let bar = bar(json, "import");
    bar.set_length(ids.len() as u64);
    let summary = ledger.import_from_ottu(&remote(&runtime), &args.profile, &ids, &mut |done| {
        bar.set_position(done)
    });
    bar.finish_and_clear();
    summary
}

pub fn refresh(
    ledger: &mut Ledger,
    profile: Option<&str>,
    json: bool,
) -> Result<Vec<(String, RefreshSummary)>, Error> {
    let runtime = runtime()?;
    let profiles = match profile {
        Some(p) => vec![p.to_string()],
        None => ledger.profiles()?.into_iter().map(|p| p.name).collect(),
    };
    let mut out = Vec::new();
    for name in profiles {
        let bar = bar(json, &format!("refresh {name}"));
        let summary =
            ledger.refresh_from_ottu(&remote(&runtime), &name, &mut |done| bar.set_position(done));
        bar.finish_and_clear();
        match summary {
            Ok(s) => out.push((name, s)),
            // A profile without a key has nothing of ours at Ottu to refresh.
            Err(Error::Remote {
                code: "ottu.credential",
                ..
            }) if profile.is_none() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Exit code after a second Ctrl-C: 128 + SIGINT, as shells report a process ended by it.
const EXIT_INTERRUPTED: i32 = 130;

/// Ctrl-C during `sync`: the first stops claiming and lets the requests in flight be
/// answered and recorded (up to the request timeout), saying so; the second exits at once.
/// Exiting mid-request is safe: those operations stay `in_flight`, and the next sync
/// resends them with the same tracking keys. Registered before it returns, so no Ctrl-C
/// falls between the sync starting and the handler being in place.
fn on_ctrl_c(
    runtime: &tokio::runtime::Runtime,
    cancel: Arc<AtomicBool>,
    bar: ProgressBar,
) -> Result<(), Error> {
    let _entered = runtime.enter();
    let failed = |e: std::io::Error| Error::Remote {
        code: "runtime",
        message: format!("cannot listen for Ctrl-C: {e}"),
    };
    #[cfg(unix)]
    let mut interrupts = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt()).map_err(failed)?
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
        bar.suspend(|| {
            eprintln!(
                "stopping: no more operations will be sent; waiting for the answers to those in flight to record them. Press Ctrl-C again to stop at once (the next `daftar sync` resends them with the same tracking keys)"
            )
        });
        if next().await {
            bar.suspend(|| {
                eprintln!(
                    "stopped: operations in flight stay in_flight and are resent with their tracking keys by the next `daftar sync`"
                )
            });
            std::process::exit(EXIT_INTERRUPTED);
        }
    });
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
        SyncEvent::Outstanding { total } => bar.set_length(*total),
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
        SyncEvent::Offline { retry_in_ms } => {
            bar.set_message(format!("offline: trying again in {} s", retry_in_ms / 1000))
        }
        SyncEvent::Paused { profile, reason } => {
            bar.println(format!("profile {profile} paused: {reason}"))
        }
        SyncEvent::Finished(_) => bar.finish_and_clear(),
    };
    let summary = sync::run(ledger, &deps, &options, &mut on_event);
    bar.finish_and_clear();
    runtime.shutdown_background();
    summary
}
    #[cfg(not(unix))]
    let _ = failed;
    Ok(())
}

pub fn sync(ledger: &mut Ledger, args: &SyncArgs, json: bool) -> Result<SyncSummary, Error> {
    let runtime = runtime()?;
    let cancel = Arc::new(AtomicBool::new(false));
    let bar = bar(json, "sync");
    on_ctrl_c(&runtime, Arc::clone(&cancel), bar.clone())?;
