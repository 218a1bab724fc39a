//! `daftar settlement import --profile P FILE [--map H=f]... [--commit] [--rejects FILE]`
//! and `daftar settlement match --profile P [--from D --to D] [--window-days N]`: the
//! acquirer's settlement file read into the ledger (a dry run unless `--commit`), and
//! matched with paid payments and refunds. `--json` prints the core's
//! `SettlementImportSummary` / `SettlementReport` as they are.
//!
//! Exit codes: 0 when it ran (rejected lines, unknown or unsettled items are results, not
//! failures); 2 bad input (an unreadable file, an unmapped required column, a bad `--map`,
//! a bad date or window); 4 an unknown profile; 1 the rejects file could not be written
//! or the import was interrupted (Ctrl-C; nothing written).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, Subcommand};
use daftar::settlement::{
    SettlementImportRequest, SettlementImportSummary, SettlementMatchRequest, SettlementProgress,
    SettlementReport,
};
use daftar::{Error, Ledger};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::interrupt::cancel_on_ctrl_c;
use crate::render::Output;

#[derive(Debug, Args)]
pub struct SettlementArgs {
    #[command(subcommand)]
    pub command: SettlementCommand,
}

#[derive(Debug, Subcommand)]
pub enum SettlementCommand {
    /// Reads a settlement file (CSV or XLSX): a dry run that lists what it would add and
    /// the rejected lines, unless --commit.
    Import(ImportArgs),
    /// Matches the stored settlement lines with paid payments and refunds.
    Match(MatchArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long, value_name = "NAME")]
    pub profile: String,
    /// The settlement file (.csv or .xlsx).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Maps a column: HEADER=field (order_no, reference, amount, fee, net, currency,
    /// settled_on) or HEADER=- to ignore it; saved for the profile on --commit.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    pub map: Vec<String>,
    /// Store the valid lines (without it, nothing is written to the ledger).
    #[arg(long)]
    pub commit: bool,
    /// Where rejected lines go (default FILE.rejects.csv; written only when there are).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    #[arg(long, value_name = "NAME")]
    pub profile: String,
    /// Payments and refunds created from this day (2025-12-01) or instant (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Created up to this day (included) or instant (excluded).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Business days (Sunday to Thursday) a line may come after the transaction (default 3).
    #[arg(long, value_name = "N")]
    pub window_days: Option<u32>,
}

const TEMPLATE: &str = "{spinner} settlement [{bar:30}] {bytes}/{total_bytes} ({msg} lines)";

pub fn run(ledger: &mut Ledger, args: SettlementArgs, out: &Output) -> Result<(), Error> {
    match args.command {
        SettlementCommand::Import(args) => import(ledger, args, out),
        SettlementCommand::Match(args) => {
            let report = ledger.settlement_match(&SettlementMatchRequest {
                profile: args.profile,
                from: args.from,
                to: args.to,
                window_days: args.window_days,
            })?;
            render_report(&report, out);
            Ok(())
        }
    }
}

fn import(ledger: &mut Ledger, args: ImportArgs, out: &Output) -> Result<(), Error> {
    let request = SettlementImportRequest {
        profile: args.profile,
        path: args.file,
        map: args.map,
        commit: args.commit,
        rejects_path: args.rejects,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    cancel_on_ctrl_c(Arc::clone(&cancel));
    let bar = if out.json {
        ProgressBar::hidden()
    } else {
        // indicatif draws nothing when stderr is not a terminal.
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let result = ledger.settlement_import_with(
        &request,
        &mut |p: SettlementProgress| {
            bar.set_length(p.total_bytes);
            bar.set_position(p.bytes);
            bar.set_message(p.rows.to_string());
        },
        &cancel,
    );
    bar.finish_and_clear();
    render_import(&result?, out);
    Ok(())
}

fn json(value: &impl serde::Serialize) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    // A closed pipe (`| head`) is not the command's failure.
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn render_import(s: &SettlementImportSummary, out: &Output) {
    if out.json {
        return json(s);
    }
    let mut o = std::io::stdout().lock();
    let what = if s.committed {
        "Imported"
    } else {
        "Dry run (nothing written; --commit to store)"
    };
    let _ = writeln!(
        o,
        "{what}: {} ({}) for profile {}",
        s.file, s.format, s.profile
    );
    let mapped: Vec<String> = s
        .columns
        .iter()
        .map(|c| match &c.field {
            Some(f) => format!("{} → {f}", c.header),
            None => format!("{} (ignored)", c.header),
        })
        .collect();
    let _ = writeln!(o, "  columns: {}", mapped.join(", "));
    let _ = writeln!(
        o,
        "  {} lines: {} {}, {} already imported, {} rejected",
        s.rows,
        s.added_count,
        if s.committed { "added" } else { "to add" },
        s.duplicate_count,
        s.rejected_count
    );
    for t in &s.totals {
        let _ = writeln!(
            o,
            "  {}  settled {}  refunds {}  fees {}  net {}",
            t.currency,
            t.settled,
            t.refunds,
            t.fees.as_deref().unwrap_or("-"),
            t.net
        );
    }
    for r in &s.rejected {
        let _ = writeln!(o, "  line {}: {} ({})", r.line, r.reason, r.code);
    }
    if s.rejected.len() as u64 != s.rejected_count {
        let _ = writeln!(o, "  … {} more", s.rejected_count - s.rejected.len() as u64);
    }
    if let Some(file) = &s.rejects_file {
        let _ = writeln!(o, "  rejected lines written to {file}");
    }
}

fn render_report(r: &SettlementReport, out: &Output) {
    if out.json {
        return json(r);
    }
    let mut o = std::io::stdout().lock();
    let period = match (&r.from, &r.to) {
        (None, None) => "all payments".to_string(),
        (from, to) => format!(
            "payments from {} to {}",
            from.as_deref().unwrap_or("the start"),
            to.as_deref().unwrap_or("now")
        ),
    };
    let _ = writeln!(
        o,
        "Settlement of profile {}: {period}, window {} business days (Fri/Sat weekend), as of {}",
        r.profile, r.window_days, r.as_of
    );
    let _ = writeln!(
        o,
        "  matched {}  amount differs {}  not settled {}  awaiting {}  unknown lines {}",
        r.matched_count,
        r.amount_differs_count,
        r.not_settled_count,
        r.awaiting_count,
        r.unknown_count
    );
    for t in &r.totals {
        let _ = writeln!(
            o,
            "  {}  expected {}  settled {}  fees {}  net {}  not settled {}  awaiting {}  unknown {}",
            t.currency, t.expected, t.settled, t.fees, t.net, t.not_settled, t.awaiting, t.unknown
        );
    }
    for i in &r.amount_differs {
        let _ = writeln!(
            o,
            "  amount differs: {} {} {} expected {} settled {} on {} ({} {})",
            i.kind,
            i.order_no.as_deref().unwrap_or(&i.session_id),
            i.currency,
            i.expected,
            i.settled,
            i.settled_on,
            i.source,
            i.line
        );
    }
    for i in &r.not_settled {
        let _ = writeln!(
            o,
            "  not settled: {} {} {} {} created {} (due by {})",
            i.kind,
            i.order_no.as_deref().unwrap_or(&i.session_id),
            i.currency,
            i.amount,
            i.created_at,
            i.due_by
        );
    }
    for l in &r.unknown {
        let _ = writeln!(
            o,
            "  unknown line: {} {} {} {} on {} ({}; {} line {})",
            l.order_no.as_deref().unwrap_or("-"),
            l.reference.as_deref().unwrap_or("-"),
            l.currency,
            l.amount,
            l.settled_on,
            l.reason,
            l.source,
            l.line
        );
    }
}
