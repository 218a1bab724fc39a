//! `daftar reconcile`: compare the ledger with an Ottu report (a file or a report token)
//! and classify every payment; then look at the result (`show`, `list`), decide each
//! mismatch (`accept`, `keep`) and mark the period reconciled (`lock`, `periods`).
//!
//! A run that found mismatches worked: exit 0 (mismatches are results, not errors). With
//! `--json` each command prints the facade's view as it is. A long run shows a progress
//! bar on stderr (hidden when stderr is not a terminal, and with `--json`); Ctrl-C stops
//! it and nothing is saved.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{ArgGroup, Args, Subcommand};
use daftar::reconcile::{
    LockPeriodRequest, MatchClass, PeriodView, ReconcileDecision, ReconcileItemPage,
    ReconcileItemQuery, ReconcileItemView, ReconcilePhase, ReconcileProgress, ReconcileRequest,
    ReconcileSummary,
};
use daftar::{Error, Ledger};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::render::Output;

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    group(ArgGroup::new("source").required(true).args(["report", "report_token"]))
)]
pub struct ReconcileArgs {
    #[command(subcommand)]
    command: Option<ReconcileCommand>,
    /// The profile whose payments are compared.
    #[arg(long, value_name = "NAME", required = true)]
    profile: Option<String>,
    /// An Ottu transaction report (CSV or XLSX).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// The token of a report Ottu generated (from `daftar import-report --list`).
    #[arg(long, value_name = "TOKEN")]
    report_token: Option<String>,
    /// Payments created at or after this date (2026-11-01) or instant (RFC 3339).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Payments created up to this date, inclusive (or before this instant).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// A column mapping for this run, HEADER=field (repeatable; `-` ignores a column).
    #[arg(long = "map", value_name = "HEADER=field")]
    map: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum ReconcileCommand {
    /// A reconciliation's items, mismatches first.
    Show {
        /// The reconciliation's id.
        id: i64,
        /// Only this class (matched, amount_differs, state_differs, totals_differ,
        /// report_only, ledger_only, queued, changed_late).
        #[arg(long, value_name = "CLASS")]
        class: Option<String>,
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        limit: Option<i64>,
        /// The cursor the previous page printed.
        #[arg(long, value_name = "CURSOR")]
        after: Option<String>,
    },
    /// Reconciliations, newest first.
    List {
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
    },
    /// Take Ottu's value for one mismatch (the ledger changes, with an audit event).
    Accept {
        /// The item's id, as `reconcile show` prints it.
        item: i64,
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Keep the ledger's value for one mismatch (an audit event, nothing changes).
    Keep {
        item: i64,
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Mark a period reconciled; a later change to one of its payments reopens it.
    Lock {
        #[arg(long, value_name = "NAME")]
        profile: String,
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Inclusive when a date.
        #[arg(long, value_name = "DATE")]
        to: String,
        /// The reconciliation covering the period (default: the newest that does).
        #[arg(long, value_name = "ID")]
        reconciliation: Option<i64>,
    },
    /// Reconciled periods: locked, or reopened (when, why, by which payment).
    Periods {
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
    },
}

pub fn run(ledger: &mut Ledger, args: ReconcileArgs, out: &Output) -> Result<(), Error> {
    match args.command {
        None => {
            let summary = reconcile(
                ledger,
                ReconcileRequest {
                    profile: args.profile.unwrap_or_default(),
                    report: args.report,
                    report_token: args.report_token,
                    from: args.from,
                    to: args.to,
                    map: args.map,
                },
                out.json,
            )?;
            summary_out(out, &summary);
        }
        Some(ReconcileCommand::Show {
            id,
            class,
            limit,
            after,
        }) => {
            let page = ledger.reconcile_items(&ReconcileItemQuery {
                id,
                class,
                after,
                limit,
            })?;
            page_out(out, id, &page);
        }
        Some(ReconcileCommand::List { profile }) => {
            let list = ledger.reconciliations(profile.as_deref())?;
            if out.json {
                out.print_json(&list);
            } else if list.is_empty() {
                out.lines(&["no reconciliations yet".to_string()]);
            } else {
                out.lines(&list.iter().map(list_line).collect::<Vec<_>>());
            }
        }
        Some(ReconcileCommand::Accept { item, reason }) => {
            decided(
                out,
                &ledger.reconcile_decide(&ReconcileDecision {
                    item,
                    decision: "accept".into(),
                    reason,
                })?,
            );
        }
        Some(ReconcileCommand::Keep { item, reason }) => {
            decided(
                out,
                &ledger.reconcile_decide(&ReconcileDecision {
                    item,
                    decision: "keep".into(),
                    reason,
                })?,
            );
        }
        Some(ReconcileCommand::Lock {
            profile,
            from,
            to,
            reconciliation,
        }) => {
            let period = ledger.lock_period(&LockPeriodRequest {
                profile,
                from,
                to,
                reconciliation,
            })?;
            if out.json {
                out.print_json(&period);
            } else {
                out.lines(&[format!("locked: {}", period_line(&period))]);
            }
        }
        Some(ReconcileCommand::Periods { profile }) => {
            let periods = ledger.periods(profile.as_deref())?;
            if out.json {
                out.print_json(&periods);
            } else if periods.is_empty() {
                out.lines(&["no reconciled periods yet".to_string()]);
            } else {
                out.lines(&periods.iter().map(period_line).collect::<Vec<_>>());
            }
        }
    }
    Ok(())
}

/// Progress-bar templates: constants, the user's text never goes into one.
const BYTES_TEMPLATE: &str =
    "{spinner} {prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {msg}";
const COUNT_TEMPLATE: &str = "{spinner} {prefix} [{bar:30}] {pos}/{len} {msg}";
const SPINNER_TEMPLATE: &str = "{spinner} {prefix} {msg}";

fn style(template: &'static str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn reconcile(
    ledger: &mut Ledger,
    request: ReconcileRequest,
    json: bool,
) -> Result<ReconcileSummary, Error> {
    let job = ledger.reconcile_job(request)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::Remote {
            code: "runtime",
            message: format!("cannot start the async runtime: {e}"),
        })?;
    // Hidden with --json; indicatif draws nothing when stderr is not a terminal.
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    };
    bar.set_prefix("reconcile");
    bar.set_style(style(SPINNER_TEMPLATE));
    watch_ctrl_c(&runtime, job.cancel_flag(), bar.clone());
    let mut phase = None;
    let result = job.run(&mut |p: &ReconcileProgress| {
        if phase != Some(p.phase) {
            phase = Some(p.phase);
            match p.phase {
                ReconcilePhase::Reading if p.total_bytes > 0 => {
                    bar.set_style(style(BYTES_TEMPLATE));
                    bar.set_length(p.total_bytes);
                }
                ReconcilePhase::Matching => {
                    bar.set_style(style(COUNT_TEMPLATE));
                    bar.set_length(p.total.unwrap_or(0));
                }
                _ => bar.set_style(style(SPINNER_TEMPLATE)),
            }
            bar.set_message(match p.phase {
                ReconcilePhase::Reading => "reading the report",
                ReconcilePhase::Matching => "matching",
                ReconcilePhase::Saving => "saving",
            });
        }
        bar.set_position(match p.phase {
            ReconcilePhase::Reading => p.bytes,
            _ => p.rows,
        });
    });
    bar.finish_and_clear();
    runtime.shutdown_background();
    result
}

/// Ctrl-C sets the job's cancel flag: the run stops at its next check, nothing saved.
fn watch_ctrl_c(runtime: &tokio::runtime::Runtime, cancel: Arc<AtomicBool>, bar: ProgressBar) {
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.store(true, Ordering::SeqCst);
            bar.suspend(|| eprintln!("stopping: nothing of this run is saved"));
        }
    });
}

fn summary_out(out: &Output, s: &ReconcileSummary) {
    if out.json {
        return out.print_json(s);
    }
    let period = match (&s.from, &s.to) {
        (None, None) => "all dates".to_string(),
        (from, to) => format!(
            "{} to {}",
            from.as_deref().unwrap_or("the start"),
            to.as_deref()
                .map_or("now".to_string(), |t| format!("{t} (exclusive)"))
        ),
    };
    let mut lines = vec![format!(
        "reconciliation {} of profile {} ({period}) against {}",
        s.id, s.profile, s.source
    )];
    lines.push(format!(
        "  {:<15} {:<4} {:>8} {:>16} {:>16}",
        "class", "cur", "count", "ledger", "report"
    ));
    for c in &s.classes {
        lines.push(format!(
            "  {:<15} {:<4} {:>8} {:>16} {:>16}",
            c.class, c.currency, c.count, c.ledger_amount, c.report_amount
        ));
    }
    for t in &s.totals {
        lines.push(format!(
            "  ledger {}: paid {}, captured {}, refunded {}, voided {}, pending {}",
            t.currency, t.paid, t.captured, t.refunded, t.voided, t.pending
        ));
    }
    for t in &s.report_totals {
        lines.push(format!(
            "  report {}: paid {}, captured {}, refunded {}, voided {}",
            t.currency, t.paid, t.captured, t.refunded, t.voided
        ));
    }
    lines.push(format!(
        "  report rows: {} payments, {} child rows; {} outside the period, {} of deleted payments, {} rejected",
        s.report_rows, s.child_rows, s.outside_period, s.hidden_rows, s.rejected_count
    ));
    for r in s.rejected.iter().take(10) {
        lines.push(format!(
            "  rejected line {}: {} ({})",
            r.line, r.reason, r.code
        ));
    }
    if s.rejected_count > 10 {
        lines.push(format!("  ... and {} more rejected", s.rejected_count - 10));
    }
    lines.push(if s.clean {
        "clean: nothing but matched and queued payments".to_string()
    } else {
        format!(
            "{} mismatch(es) to decide: `daftar reconcile show {}`, then `daftar reconcile accept ITEM` or `keep ITEM`",
            s.undecided, s.id
        )
    });
    out.lines(&lines);
}

fn side_text(side: Option<&Value>) -> String {
    match side {
        None => "—".to_string(),
        Some(v) => format!(
            "{} {} {}",
            v.get("amount").and_then(Value::as_str).unwrap_or("?"),
            v.get("currency").and_then(Value::as_str).unwrap_or(""),
            v.get("state").and_then(Value::as_str).unwrap_or("?"),
        ),
    }
}

fn item_line(i: &ReconcileItemView) -> String {
    let differences = i
        .differences
        .iter()
        .map(|d| {
            format!(
                "{} {} -> {}",
                d.field,
                d.ledger.as_deref().unwrap_or("—"),
                d.report.as_deref().unwrap_or("—")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let what = if differences.is_empty() {
        format!(
            "ledger {} | report {}",
            side_text(i.ledger.as_ref()),
            side_text(i.report.as_ref())
        )
    } else {
        differences
    };
    let decision = match (&i.decision, i.class.is_mismatch()) {
        (Some(d), _) => d.clone(),
        (None, true) => "undecided".to_string(),
        (None, false) => String::new(),
    };
    format!(
        "{:>8}  {:<14} {:<24} {:<16} {what}  {decision}",
        i.id,
        i.class.as_str(),
        i.session_id.as_deref().unwrap_or("—"),
        i.order_no.as_deref().unwrap_or("—"),
    )
}

fn page_out(out: &Output, id: i64, page: &ReconcileItemPage) {
    if out.json {
        return out.print_json(page);
    }
    let mut lines = vec![format!(
        "{:>8}  {:<14} {:<24} {:<16} differences",
        "item", "class", "session id", "order no"
    )];
    lines.extend(page.items.iter().map(item_line));
    if page.items.is_empty() {
        lines.push(format!("reconciliation {id} has no items here"));
    }
    if let Some(cursor) = &page.next_cursor {
        lines.push(format!("{} in all; more: --after {cursor}", page.total));
    }
    out.lines(&lines);
}

fn decided(out: &Output, item: &ReconcileItemView) {
    if out.json {
        return out.print_json(item);
    }
    let payment = item.session_id.as_deref().unwrap_or("?");
    out.lines(&[match item.decision.as_deref() {
        Some("accepted") => format!(
            "item {} accepted: payment {payment} takes the report's values ({})",
            item.id,
            side_text(item.report.as_ref())
        ),
        _ => format!(
            "item {} kept: payment {payment} stays as the ledger has it ({})",
            item.id,
            side_text(item.ledger.as_ref())
        ),
    }]);
}

fn list_line(s: &ReconcileSummary) -> String {
    let count = |class: MatchClass| -> u64 {
        s.classes
            .iter()
            .filter(|c| c.class == class)
            .map(|c| c.count)
            .sum()
    };
    format!(
        "{:>6}  {}  {:<12} {} to {}  {}  matched {}, mismatches {} ({} undecided)",
        s.id,
        s.created_at,
        s.profile,
        s.from.as_deref().unwrap_or("…"),
        s.to.as_deref().unwrap_or("…"),
        s.source,
        count(MatchClass::Matched),
        s.classes
            .iter()
            .filter(|c| c.class.is_mismatch())
            .map(|c| c.count)
            .sum::<u64>(),
        s.undecided
    )
}

fn period_line(p: &PeriodView) -> String {
    let mut line = format!(
        "period {} of {}: {} to {} (exclusive), {} by {} at {}",
        p.id, p.profile, p.from, p.to, p.status, p.locked_by, p.locked_at
    );
    if let Some(r) = &p.reopened {
        line.push_str(&format!(
            "; reopened at {} ({}) by payment {}",
            r.at,
            r.reason,
            r.session_id.as_deref().unwrap_or("?")
        ));
    }
    line
}
