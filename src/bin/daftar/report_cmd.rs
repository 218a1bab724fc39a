//! `daftar import-report`: an Ottu transaction report (a CSV or XLSX file, or a report
//! Ottu holds, by token) into the ledger. A dry run by default: it prints the plan (what
//! would be added, updated, left alone, what conflicts and what is rejected, by line);
//! `--commit` applies it in one transaction and saves `--map` for the profile. `--list`
//! lists Ottu's reports, `--show-map` the profile's saved column mapping.
//!
//! Exit 0 when it ran (rejected rows are listed, not a failure), 2 for bad input (a file
//! that cannot be read, a required field with no column, a bad `--map`), 4 for an unknown
//! profile or expired token, 1 when Ottu cannot be reached or refuses the download. With
//! `--json` stdout holds the summary as the facade returns it. The progress bar is on
//! stderr, only when it is a terminal and not with `--json`. Ctrl-C sets the job's cancel
//! flag: the import stops within a few thousand rows, the transaction rolls back (nothing
//! is applied) and no rejects file is left behind (error `interrupted`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{ArgGroup, Args};
use daftar::import::report::{
    ReportImportJob, ReportImportRequest, ReportImportSummary, ReportList, ReportListRequest,
    ReportProgress,
};
use daftar::tabular::{FileKind, MappedColumn};
use daftar::{Error, Ledger};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::interrupt::cancel_on_ctrl_c;
use crate::render::Output;

/// Rows of each list the text output shows; `--json` has up to the core's cap.
const SHOWN_PER_LIST: usize = 10;
/// Rejected rows the text output shows (the rejects file has them all).
const SHOWN_REJECTS: usize = 20;
/// The bar's template: a constant, the file name goes in through `{prefix}`.
const BYTES_TEMPLATE: &str =
    "{spinner} {prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {msg}";

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("source").required(true).args(["file", "token", "list", "show_map"])
))]
pub struct ReportArgs {
    /// The profile the report belongs to.
    #[arg(long, value_name = "NAME")]
    profile: String,
    /// The report file: CSV (UTF-8; a BOM, CRLF, `;` are fine) or XLSX.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Download the report with this token from Ottu (see --list) and import it.
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["file", "list", "show_map"])]
    token: Option<String>,
    /// Which field a column holds, HEADER=field (repeatable; HEADER=- ignores a column).
    /// Saved for the profile when the run commits.
    #[arg(long = "map", value_name = "HEADER=field")]
    map: Vec<String>,
    /// Apply the plan (one transaction). Without it the run is a dry run: nothing is written.
    #[arg(long, conflicts_with_all = ["list", "show_map"])]
    commit: bool,
    /// Where rejected rows go (default: FILE.rejects.csv, written on commit).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["list", "show_map"])]
    rejects: Option<PathBuf>,
    /// Apply rows that change payments of a period locked after a reconciliation (the
    /// period is reopened); without it they are listed as conflicts (period_locked).
    #[arg(long, conflicts_with_all = ["list", "show_map"])]
    reopen: bool,
    /// List the reports Ottu generated for the profile, with their tokens.
    #[arg(long, conflicts_with_all = ["file", "show_map"])]
    list: bool,
    /// With --list: reports created on or after this date (2026-11-01).
    #[arg(long, value_name = "DATE", requires = "list")]
    from: Option<String>,
    /// With --list: reports created on or before this date.
    #[arg(long, value_name = "DATE", requires = "list")]
    to: Option<String>,
    /// Print the profile's saved column mapping.
    #[arg(long, conflicts_with = "file")]
    show_map: bool,
}

pub fn run(ledger: &mut Ledger, args: ReportArgs, out: &Output) -> Result<(), Error> {
    if args.show_map {
        let columns = ledger.column_map(&args.profile, FileKind::Report)?;
        show_map(out, &args.profile, &columns);
        return Ok(());
    }
    if args.list {
        let list = ledger.report_list(&ReportListRequest {
            profile: args.profile.clone(),
            from: args.from.clone(),
            to: args.to.clone(),
        })?;
        show_list(out, &list);
        return Ok(());
    }
    let shown = match (&args.file, &args.token) {
        (Some(file), _) => file.display().to_string(),
        (None, Some(token)) => format!("report {token}"),
        (None, None) => String::new(),
    };
    let job = ReportImportJob::new(
        ledger,
        ReportImportRequest {
            profile: args.profile.clone(),
            path: args.file.clone().unwrap_or_default(),
            token: args.token.clone(),
            map: args.map.clone(),
            commit: args.commit,
            rejects_path: args.rejects.clone(),
            reopen: args.reopen,
        },
    )?;
    let bar = if out.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(BYTES_TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(shown);
    let cancel = Arc::new(AtomicBool::new(false));
    cancel_on_ctrl_c(Arc::clone(&cancel));
    let summary = job.run(
        |p: ReportProgress| {
            bar.set_length(p.total_bytes);
            bar.set_position(p.bytes);
            bar.set_message(format!("{} rows", p.rows));
        },
        &cancel,
    );
    bar.finish_and_clear();
    let summary = summary?;
    if out.json {
        out.print_json(&summary);
    } else {
        out.lines(&plan_lines(&summary));
    }
    Ok(())
}

fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn opt(text: &Option<String>) -> &str {
    text.as_deref().unwrap_or("—")
}

/// The plan (or what was applied) as a few readable lines.
fn plan_lines(s: &ReportImportSummary) -> Vec<String> {
    let mut lines = Vec::new();
    let verb = if s.committed {
        format!(
            "Imported {} ({}) into profile {}.",
            s.file, s.format, s.profile
        )
    } else {
        format!(
            "Dry run of {} ({}) for profile {}: nothing was written; add --commit to apply.",
            s.file, s.format, s.profile
        )
    };
    lines.push(verb);
    let columns: Vec<String> = s
        .columns
        .iter()
        .map(|c| match &c.field {
            Some(field) if normalize(&c.header) == *field => c.header.clone(),
            Some(field) => format!("{} → {field}", c.header),
            None => format!("{} (ignored)", c.header),
        })
        .collect();
    lines.push(format!("Columns: {}", columns.join(", ")));
    let (add, update) = if s.committed {
        ("added", "updated")
    } else {
        ("to add", "to update")
    };
    lines.push(format!(
        "{}: {} {add}, {} {update}, {} unchanged, {}, {}.",
        count(s.rows, "row", "rows"),
        s.added_count,
        s.updated_count,
        s.unchanged_count,
        count(s.conflict_count, "conflict", "conflicts"),
        count(s.rejected_count, "rejected", "rejected"),
    ));
    for t in &s.totals {
        lines.push(format!(
            "  {}: paid {}, captured {}, refunded {}, voided {}",
            t.currency, t.paid, t.captured, t.refunded, t.voided
        ));
    }
    for p in &s.reopened_periods {
        lines.push(format!(
            "{} the locked period {} to {} (id {}).",
            if s.committed {
                "Reopened"
            } else {
                "Would reopen"
            },
            p.from,
            p.to,
            p.id
        ));
    }
    let more = |shown: usize, all: u64| -> Option<String> {
        (all > shown as u64)
            .then(|| format!("  … and {} more (--json lists them)", all - shown as u64))
    };
    if s.added_count > 0 {
        lines.push(format!("{}:", capitalize(add)));
        for a in s.added.iter().take(SHOWN_PER_LIST) {
            let parent = a
                .parent_session_id
                .as_deref()
                .map(|p| format!(" (child of {p})"))
                .unwrap_or_default();
            lines.push(format!(
                "  line {}: {}{parent} {} {} {} {}",
                a.line,
                a.session_id,
                opt(&a.order_no),
                a.amount,
                a.currency,
                a.state
            ));
        }
        lines.extend(more(s.added.len().min(SHOWN_PER_LIST), s.added_count));
    }
    if s.updated_count > 0 {
        lines.push(format!("{}:", capitalize(update)));
        for u in s.updated.iter().take(SHOWN_PER_LIST) {
            let changes: Vec<String> = u
                .changes
                .iter()
                .map(|c| format!("{} {} → {}", c.field, opt(&c.ledger), opt(&c.report)))
                .collect();
            lines.push(format!(
                "  line {}: {} {}",
                u.line,
                u.session_id,
                changes.join("; ")
            ));
        }
        lines.extend(more(s.updated.len().min(SHOWN_PER_LIST), s.updated_count));
    }
    if s.conflict_count > 0 {
        lines.push("Conflicts (never applied; decide them with `daftar reconcile`):".to_string());
        for c in s.conflicts.iter().take(SHOWN_PER_LIST) {
            lines.push(format!(
                "  line {}: {} {}: ledger {}, report {}: {}",
                c.line,
                c.session_id,
                c.field,
                opt(&c.ledger),
                opt(&c.report),
                c.reason
            ));
        }
        lines.extend(more(
            s.conflicts.len().min(SHOWN_PER_LIST),
            s.conflict_count,
        ));
    }
    if s.rejected_count > 0 {
        lines.push("Rejected:".to_string());
        for r in s.rejected.iter().take(SHOWN_REJECTS) {
            let field = r
                .field
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            lines.push(format!(
                "  line {}: {}{field}: {}",
                r.line, r.code, r.reason
            ));
        }
        lines.extend(more(s.rejected.len().min(SHOWN_REJECTS), s.rejected_count));
    }
    if let Some(file) = &s.rejects_file {
        lines.push(format!("Rejected rows, with their line and reason: {file}"));
    }
    lines
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn normalize(header: &str) -> String {
    daftar::tabular::mapping::normalize_header(header).replace(' ', "_")
}

fn show_map(out: &Output, profile: &str, columns: &[MappedColumn]) {
    if out.json {
        return out.print_json(&columns);
    }
    if columns.is_empty() {
        return out.lines(&[format!(
            "Profile {profile} has no saved column mapping: the built-in English and Arabic labels are used."
        )]);
    }
    let mut lines = vec![format!("Saved column mapping of profile {profile}:")];
    for c in columns {
        lines.push(format!(
            "  {} → {}",
            c.header,
            c.field.as_deref().unwrap_or("- (ignored)")
        ));
    }
    out.lines(&lines);
}

fn show_list(out: &Output, list: &ReportList) {
    if out.json {
        return out.print_json(list);
    }
    if list.reports.is_empty() {
        return out.lines(&[format!("Ottu has no reports for profile {}.", list.profile)]);
    }
    let mut lines = vec![format!(
        "{} of profile {} (import one with --token):",
        count(list.count, "report", "reports"),
        list.profile
    )];
    for r in &list.reports {
        lines.push(format!(
            "  {}  {}  {}  {} rows  {}  {}",
            opt(&r.token),
            opt(&r.name),
            opt(&r.format),
            r.rows.map_or("—".to_string(), |n| n.to_string()),
            opt(&r.status),
            opt(&r.created_at),
        ));
    }
    out.lines(&lines);
}
