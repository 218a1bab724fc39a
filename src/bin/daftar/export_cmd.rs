//! `daftar export ledger|operations|reconciliation --format csv|xlsx -o FILE`: writes the
//! export through the core's [`daftar::export::ExportJob`], with a progress bar on stderr
//! (drawn only when stderr is a terminal, never with `--json`). Ctrl-C stops it: the
//! partial file is removed and the command fails with `interrupted` (exit 1).
//!
//! Exit codes: 0 written; 2 bad input (an unknown WHAT, format or language, a bad date,
//! `-o` naming the ledger itself); 4 an unknown profile or reconciliation; 1 the file
//! could not be written or the export was interrupted.

use std::path::PathBuf;

use clap::Args;
use daftar::export::{ExportProgress, ExportRequest, ExportSummary};
use daftar::{Error, Ledger};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::interrupt::cancel_on_ctrl_c;
use crate::render::Output;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export: ledger (one row per payment), operations (refunds, captures, voids;
    /// refunds negative) or reconciliation (one reconciliation's items and summary).
    #[arg(value_name = "WHAT", value_parser = ["ledger", "operations", "reconciliation"])]
    pub what: String,
    /// csv (RFC 4180, UTF-8 with a BOM) or xlsx.
    #[arg(long, value_name = "FORMAT", value_parser = ["csv", "xlsx"])]
    pub format: String,
    /// Payments created from this day (2026-11-01) or instant (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Payments created up to this day (included) or instant (excluded).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The reconciliation to export (default: the newest).
    #[arg(long, value_name = "ID")]
    pub reconciliation: Option<i64>,
    /// The headers' language.
    #[arg(long, value_name = "LANG", value_parser = ["en", "ar"])]
    pub lang: Option<String>,
    /// No UTF-8 byte order mark at the start of a CSV (for programs; Excel needs it to
    /// read Arabic).
    #[arg(long)]
    pub no_bom: bool,
    /// The file to write (replaced only once the export is complete).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

const TEMPLATE: &str = "{spinner} export [{bar:30}] {pos}/{len} rows";

pub fn run(ledger: &mut Ledger, args: ExportArgs, out: &Output) -> Result<(), Error> {
    let request = ExportRequest {
        what: args.what,
        format: args.format,
        path: args.output,
        profile: args.profile,
        from: args.from,
        to: args.to,
        reconciliation: args.reconciliation,
        lang: args.lang,
        bom: !args.no_bom,
    };
    let job = ledger.export_job(request)?;
    cancel_on_ctrl_c(job.cancel_flag());
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
    let result = job.run(|p: &ExportProgress| {
        bar.set_length(p.total);
        bar.set_position(p.rows);
    });
    bar.finish_and_clear();
    render(&result?, out);
    Ok(())
}

fn render(summary: &ExportSummary, out: &Output) {
    if out.json {
        out.print_json(summary);
        return;
    }
    let mut lines = vec![format!(
        "Wrote {} {} rows to {} ({}).",
        summary.rows, summary.what, summary.file, summary.format
    )];
    for t in &summary.totals {
        lines.push(format!(
            "  {}  paid {}  captured {}  refunded {}  voided {}  pending {}{}",
            t.currency,
            t.paid,
            t.captured,
            t.refunded,
            t.voided,
            t.pending,
            t.fees
                .as_deref()
                .map(|f| format!("  fees {f}"))
                .unwrap_or_default()
        ));
    }
    out.lines(&lines);
}
