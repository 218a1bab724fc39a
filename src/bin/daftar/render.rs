//! Rendering: one JSON document on stdout with `--json`, plain text otherwise. Errors go
//! to stderr as text, and also to stdout as `{"error": {code, kind, message, field, params}}`
//! in JSON mode: the core's `ErrorView`, its message followed by the CLI's hint ([`hint`]).
//! The core never names a command or flag; the words "run `daftar ...`" live here.

use std::io::Write;

use daftar::error::Params;
use daftar::ledger::{
    OperationPage, OperationView, PaymentDetail, PaymentPage, ProfileDetail, ProfileView,
    QueuedView, StatusReport,
};
use daftar::{Error, ErrorView};
use serde::Serialize;
use serde_json::{Value, json};

pub struct Output {
    pub json: bool,
    /// Set once a JSON document carrying the command's error was printed (a run that
    /// stopped part way): [`Output::error`] then prints no second document.
    error_in_document: std::cell::Cell<bool>,
}

fn money(amount: Option<&str>, currency: &str) -> String {
    amount.map_or_else(|| "—".to_string(), |a| format!("{a} {currency}"))
}

impl Output {
    pub fn new(json: bool) -> Output {
        Output {
            json,
            error_in_document: std::cell::Cell::new(false),
        }
    }

    /// A document that carries the run's error itself: with `--json` the error joins it as
    /// `"error"`, so stdout stays one document; the caller returns the error for the exit
    /// code and the line on stderr.
    /// A closed pipe does not end the process here when `error` is given: the command
    /// failed, and the caller's error keeps its exit code and its line on stderr.
    fn print_json_with_error<T: Serialize>(&self, value: &T, error: Option<&Error>) {
        let mut document = serde_json::to_value(value).expect("views serialise to JSON");
        if let (Some(error), Some(map)) = (error, document.as_object_mut()) {
            map.insert("error".into(), json!(view(error)));
            self.error_in_document.set(true);
        }
        let text = serde_json::to_string_pretty(&document).expect("views serialise to JSON");
        write_stdout(&[text], ClosedPipe::from(error));
    }

    pub(crate) fn print_json<T: Serialize>(&self, value: &T) {
        // Serialising our own view types cannot fail: no maps with non-string keys, no I/O.
        let text = serde_json::to_string_pretty(value).expect("views serialise to JSON");
        write_stdout(&[text], ClosedPipe::Success);
    }

    pub(crate) fn lines(&self, lines: &[String]) {
        write_stdout(lines, ClosedPipe::Success);
    }

    /// [`Output::lines`] for a report that comes with the command's error (see
    /// [`Output::print_json_with_error`]).
    fn lines_with_error(&self, lines: &[String], error: Option<&Error>) {
        write_stdout(lines, ClosedPipe::from(error));
    }

    /// A usage error clap found: its own text on stderr, and the JSON object in JSON mode.
    pub fn usage_error(&self, view: &daftar::ErrorView, text: &str) {
        if self.json {
            print_error_json(&json!({ "error": view }));
        }
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    pub fn profile_changed(&self, c: &daftar::ledger::ProfileChanged) {
        if self.json {
            return self.print_json(c);
        }
        let p = &c.profile;
        let mut lines = vec![if c.changed.is_empty() {
            format!(
                "profile {} unchanged ({}, {})",
                p.name, p.base_url, p.currency
            )
        } else {
            format!(
                "profile {} changed ({}, {})",
                p.name, p.base_url, p.currency
            )
        }];
        if let Some(reason) = &c.pause_lifted {
            lines.push(format!("  its queue is no longer paused (was: {reason})"));
        }
        if c.set_key_again {
            lines.push(format!(
                "  the key was entered for the old base URL and is not sent to the new one: set it again with `daftar profile set-key {}`",
                p.name
            ));
        }
        self.lines(&lines);
    }

    pub fn profile_removed(&self, p: &ProfileView) {
        if self.json {
            return self.print_json(p);
        }
        self.lines(&[format!(
            "profile {} removed, with its key in the OS keyring",
            p.name
        )]);
    }

    pub fn error(&self, error: &Error) {
        let view = view(error);
        if self.json && !self.error_in_document.get() {
            print_error_json(&json!({ "error": view }));
        }
        eprintln!("error: {}", view.message);
    }

    pub fn profile(&self, p: &ProfileView) {
        if self.json {
            return self.print_json(p);
        }
        self.lines(&[format!(
            "profile {} added ({}, {})",
            p.name, p.base_url, p.currency
        )]);
    }

    pub fn profile_detail(&self, p: &ProfileDetail) {
        if self.json {
            return self.print_json(p);
        }
        let auth = match p.basic_user.as_deref() {
            Some(user) if p.auth == daftar::model::AuthKind::Basic => {
                format!("Basic, as dashboard user {user}")
            }
            _ => "API key".to_string(),
        };
        let key = if p.key_stored {
            "stored in the OS keyring".to_string()
        } else {
            format!(
                "not stored: add it with `daftar profile set-key {}{}`",
                p.name,
                match p.basic_user.as_deref() {
                    Some(user) if p.auth == daftar::model::AuthKind::Basic =>
                        format!(" --basic-user {user}"),
                    _ => String::new(),
                }
            )
        };
        let queue = match (&p.paused_reason, &p.paused_at) {
            (Some(reason), Some(at)) => format!("paused since {at}: {reason}"),
            (Some(reason), None) => format!("paused: {reason}"),
            _ => "running".to_string(),
        };
        self.lines(&[
            format!("profile {}", p.name),
            format!("  base URL  {}", p.base_url),
            format!("  currency  {}", p.currency),
            format!("  auth      {auth}"),
            format!("  key       {key}"),
            format!("  queue     {queue}"),
        ]);
    }

    pub fn key_set(&self, p: &ProfileDetail) {
        if self.json {
            return self.print_json(p);
        }
        let what = match p.basic_user.as_deref() {
            Some(user) if p.auth == daftar::model::AuthKind::Basic => {
                format!("password of dashboard user {user}")
            }
            _ => "API key".to_string(),
        };
        self.lines(&[format!(
            "{what} for profile {} stored in the OS keyring",
            p.name
        )]);
    }

    pub fn key_removed(&self, p: &ProfileDetail) {
        if self.json {
            return self.print_json(p);
        }
        self.lines(&[format!(
            "profile {} has no key in the OS keyring now",
            p.name
        )]);
    }

    pub fn profiles(&self, profiles: &[ProfileView]) {
        if self.json {
            return self.print_json(&json!({ "profiles": profiles }));
        }
        if profiles.is_empty() {
            return self.lines(&["no profiles yet: add one with `daftar profile add`".into()]);
        }
        let lines: Vec<String> = profiles
            .iter()
            .map(|p| format!("{:<20} {:<4} {}", p.name, p.currency, p.base_url))
            .collect();
        self.lines(&lines);
    }

    /// `{"payments": [...], "next_cursor": ..., "total": n, "total_capped": false}`; the table, then how to get
    /// the next page when there is one.
    pub fn payments(&self, page: &PaymentPage) {
        if self.json {
            return self.print_json(page);
        }
        let payments = &page.payments;
        let mut lines = vec![format!(
            "{:<24} {:<16} {:>18} {:<10} {:<12} {}",
            "SESSION ID", "ORDER NO", "AMOUNT", "STATE", "PROFILE", "CREATED"
        )];
        lines.extend(payments.iter().map(|p| {
            format!(
                "{:<24} {:<16} {:>18} {:<10} {:<12} {}",
                p.session_id,
                p.order_no.as_deref().unwrap_or("—"),
                money(Some(&p.amount), &p.currency),
                p.state,
                p.profile,
                p.created_at
            )
        }));
        let more = more_line(page.next_cursor.as_deref(), page.total);
        // A capped total is a lower bound: say so rather than print it as the count.
        lines.extend(more.map(|line| match page.total_capped {
            true => line.replacen(" in all", " or more in all", 1),
            false => line,
        }));
        self.lines(&lines);
    }

    pub fn payment_added(&self, d: &PaymentDetail) {
        if self.json {
            return self.print_json(d);
        }
        self.lines(&[format!(
            "payment {} added to {}: {} {}, {}",
            d.session_id, d.profile, d.amount, d.currency, d.state
        )]);
    }

    pub fn payment_detail(&self, d: &PaymentDetail) {
        if self.json {
            return self.print_json(d);
        }
        let c = &d.currency;
        let b = &d.balances;
        let mut lines = vec![
            format!(
                "payment {} (order {}) in profile {}",
                d.session_id,
                d.order_no.as_deref().unwrap_or("—"),
                d.profile
            ),
            format!(
                "  {} {}, state {}{}",
                d.amount,
                c,
                d.state,
                if d.hidden { ", deleted at Ottu" } else { "" }
            ),
            format!(
                "  captured {}  refunded {}  voided {}  pending {}",
                b.captured, b.refunded, b.voided, b.pending
            ),
            format!("  refundable {}  capturable {}", b.refundable, b.capturable),
        ];
        if !d.operations.is_empty() {
            lines.push("operations:".into());
            lines.extend(d.operations.iter().map(operation_line));
        }
        if !d.children.is_empty() {
            lines.push("children:".into());
            lines.extend(d.children.iter().map(|ch| {
                format!(
                    "  {} {} {} {}",
                    ch.session_id,
                    ch.kind,
                    money(Some(&ch.amount), c),
                    ch.state
                )
            }));
        }
        if !d.events.is_empty() {
            lines.push("events:".into());
            lines.extend(
                d.events
                    .iter()
                    .map(|e| format!("  {} {} {} #{}", e.at, e.actor, e.action, e.entity_id)),
            );
        }
        self.lines(&lines);
    }

    pub fn queued(&self, q: &QueuedView) {
        if self.json {
            return self.print_json(q);
        }
        let op = &q.operation;
        self.lines(&[
            format!(
                "queued {} {} on {}: operation {} with tracking key {}",
                op.kind,
                money(op.amount.as_deref(), &op.currency),
                op.session_id,
                op.id,
                op.tracking_key
            ),
            format!(
                "  refundable now {} {}, capturable {} {}",
                q.balances.refundable, op.currency, q.balances.capturable, op.currency
            ),
        ]);
    }

    /// `{"operations": [...], "next_cursor": ..., "total": n}`, or one line each and how
    /// to get the next page when there is one.
    pub fn operations(&self, page: &OperationPage) {
        if self.json {
            return self.print_json(page);
        }
        let ops = &page.operations;
        if ops.is_empty() && page.total == 0 {
            return self.lines(&["the queue is empty".into()]);
        }
        let mut lines: Vec<String> = ops.iter().map(operation_line).collect();
        lines.extend(more_line(page.next_cursor.as_deref(), page.total));
        self.lines(&lines);
    }

    pub fn resent(&self, op: &OperationView) {
        if self.json {
            return self.print_json(op);
        }
        self.lines(&[format!(
            "operation {} ({} on {}) queued again with its tracking key {}",
            op.id, op.kind, op.session_id, op.tracking_key
        )]);
    }

    pub fn dropped(&self, op: &OperationView) {
        if self.json {
            return self.print_json(op);
        }
        self.lines(&[format!(
            "dropped operation {} ({} on {})",
            op.id, op.kind, op.session_id
        )]);
    }

    pub fn imported(&self, s: &daftar::import::ImportSummary, error: Option<&Error>) {
        if self.json {
            return self.print_json_with_error(s, error);
        }
        let mut lines = vec![format!(
            "import: {} added, {} updated, {} unchanged, {} failed, {} line(s) rejected",
            s.added, s.updated, s.unchanged, s.failed_count, s.rejected_count
        )];
        // `{:?}`: a line's text is shown quoted, control and bidi characters escaped.
        lines.extend(
            s.rejected
                .iter()
                .map(|r| format!("  line {}: {:?}: {}", r.line, r.text, r.error)),
        );
        if s.rejected_count > s.rejected.len() as u64 {
            lines.push(format!(
                "  ... and {} more rejected line(s)",
                s.rejected_count - s.rejected.len() as u64
            ));
        }
        lines.extend(s.failed.iter().map(|f| match f.line {
            Some(line) => format!("  line {line}: {}: {}", f.session_id, f.error),
            None => format!("  {}: {}", f.session_id, f.error),
        }));
        if s.failed_count > s.failed.len() as u64 {
            lines.push(format!(
                "  ... and {} more failed",
                s.failed_count - s.failed.len() as u64
            ));
        }
        self.lines_with_error(&lines, error);
    }

    /// Each profile's refresh, or why it failed; `error` is the run's (some profile failed).
    pub fn refreshed(
        &self,
        profiles: &[(String, Result<daftar::import::RefreshSummary, Error>)],
        error: Option<&Error>,
    ) {
        if self.json {
            let map: std::collections::BTreeMap<_, _> = profiles
                .iter()
                .map(|(name, result)| {
                    let value = match result {
                        Ok(summary) => json!(summary),
                        Err(e) => json!({ "error": view(e) }),
                    };
                    (name.clone(), value)
                })
                .collect();
            return self.print_json_with_error(&json!({ "profiles": map }), error);
        }
        let mut lines = Vec::new();
        for (name, result) in profiles {
            let s = match result {
                Ok(s) => s,
                Err(e) => {
                    lines.push(format!("refresh {name}: failed: {e}"));
                    continue;
                }
            };
            lines.push(format!(
                "refresh {name}: {} unsettled refund(s) checked, {} settled, {} failed",
                s.checked,
                s.settled,
                s.failed.len()
            ));
            lines.extend(
                s.failed
                    .iter()
                    .map(|f| format!("  {}: {}", f.session_id, f.error)),
            );
        }
        if lines.is_empty() {
            lines.push("nothing to refresh".into());
        }
        self.lines_with_error(&lines, error);
    }

    pub fn sync_summary(&self, s: &daftar::sync::SyncSummary) {
        if self.json {
            return self.print_json(s);
        }
        let mut lines = vec![format!(
            "sync: {} succeeded, {} failed, {} need attention, {} blocked, {} to retry, {} still queued",
            s.succeeded, s.failed, s.needs_attention, s.blocked, s.retried, s.remaining
        )];
        if s.recovered > 0 {
            lines.push(format!(
                "  {} resent after an interrupted sync (same tracking keys)",
                s.recovered
            ));
        }
        if s.offline {
            lines.push("  Ottu is unreachable: the rest waits in the queue; run `daftar sync` again when online".into());
        }
        lines.extend(s.paused_profiles.iter().map(paused_line));
        self.lines(&lines);
    }

    pub fn status(&self, s: &StatusReport) {
        if self.json {
            return self.print_json(s);
        }
        let row = |name: &str, c: &daftar::ledger::StatusCounts| {
            format!(
                "{:<20} {:>8} {:>9} {:>9} {:>6} {:>15} {:>7} {:>7}",
                name,
                c.queued,
                c.in_flight,
                c.succeeded,
                c.failed,
                c.needs_attention,
                c.dropped,
                c.blocked
            )
        };
        let mut lines = vec![format!(
            "{:<20} {:>8} {:>9} {:>9} {:>6} {:>15} {:>7} {:>7}",
            "PROFILE",
            "QUEUED",
            "IN FLIGHT",
            "SUCCEEDED",
            "FAILED",
            "NEEDS ATTENTION",
            "DROPPED",
            "BLOCKED"
        )];
        lines.extend(s.profiles.iter().map(|(name, p)| row(name, &p.counts)));
        lines.push(row("total", &s.total));
        lines.extend(s.paused.iter().map(paused_line));
        self.lines(&lines);
    }
}

/// A paused profile, with the work it holds and what resumes it.
fn paused_line(p: &daftar::sync::PausedProfileView) -> String {
    let when = match &p.since {
        Some(since) => format!("paused since {since}"),
        None => "held in this run".to_string(),
    };
    let resume = if p.this_run_only {
        "the next `daftar sync` tries again".to_string()
    } else {
        format!("`daftar profile set-key {}` resumes it", p.profile)
    };
    format!(
        "  profile {} {when}, {} operation(s) waiting: {}; {resume}",
        p.profile, p.queued, p.reason
    )
}

fn operation_line(op: &OperationView) -> String {
    format!(
        "  #{:<6} {:<8} {:>18} {:<16} {} {} key {}",
        op.id,
        op.kind,
        money(op.amount.as_deref(), &op.currency),
        op.status,
        op.session_id,
        op.created_at,
        op.tracking_key
    )
}

/// The error as the CLI shows it: the core's view, its message followed by the command
/// that fixes it, if there is one.
pub fn view(error: &Error) -> ErrorView {
    let mut view = error.view();
    if let Some(hint) = hint(&view.code, &view.params) {
        view.message = format!("{}; {hint}", view.message);
    }
    view
}

/// What to run, worded for this CLI from the error's code and params.
pub fn hint(code: &str, params: &Params) -> Option<String> {
    let text = |key: &str| params.get(key).and_then(Value::as_str);
    let profile = text("profile").unwrap_or("PROFILE");
    let id = params
        .get("id")
        .map(|id| id.to_string())
        .unwrap_or_else(|| "ID".to_string());
    Some(match code {
        "ottu.credential" if text("missing") == Some("basic_user") => format!(
            "set one with `daftar profile set-key {profile} --basic-user USER`"
        ),
        "ottu.credential" => format!("store it with `daftar profile set-key {profile}`"),
        "base_url.invalid" if text("profile").is_some() => format!(
            "fix the URL first with `daftar profile set {profile} --base-url URL`"
        ),
        "key.empty" => "enter it at the prompt, or pipe it with --stdin".to_string(),
        "profile.changed" if text("change") == Some("key") => {
            format!("run `daftar profile set-key {profile}` again")
        }
        "profile.changed" => "run `daftar profile set` again".to_string(),
        "profile.nothing_to_change" => "give --base-url URL and/or --currency CUR".to_string(),
        "profile.unresolved_sends" => "run `daftar sync` at the current base URL until Ottu answers (`daftar queue resend ID` sends one left needs_attention again, same key and host), or `daftar queue retry ID --confirm-not-applied` once Ottu's dashboard shows it did not take effect; `daftar queue list` lists them".to_string(),
        "retry.unconfirmed" => {
            "check at Ottu that it did not take effect, then pass --confirm-not-applied with --reason"
                .to_string()
        }
        "retry.reason_missing" => {
            "say why it is safe to retry (e.g. what Ottu's dashboard shows) with --reason".to_string()
        }
        "queue.not_droppable" => format!(
            "retry a sent one with `daftar queue retry {id} --confirm-not-applied --reason TEXT`"
        ),
        "input.ambiguous_payment" => "name it with --profile".to_string(),
        "amount.not_accepted" => "leave out --amount".to_string(),
        "import.nothing" => "--session-id S... or --from-file FILE".to_string(),
        _ => return None,
    })
}

/// The JSON error object on stdout. Unlike [`write_stdout`], a closed pipe does not end the
/// process with 0 here: the command failed, and its exit code and stderr message must stay.
fn print_error_json(value: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{value:#}").and_then(|()| stdout.flush());
}

/// What a reader that went away means for the command being printed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClosedPipe {
    /// It succeeded: end at once with exit 0.
    Success,
    /// Its report carries its error: the caller returns that error next, and its exit code
    /// (exit 1 for a stopped import, not 0) and its line on stderr must stay.
    KeepError,
}

impl From<Option<&Error>> for ClosedPipe {
    fn from(error: Option<&Error>) -> ClosedPipe {
        match error {
            Some(_) => ClosedPipe::KeepError,
            None => ClosedPipe::Success,
        }
    }
}

/// Writes whole lines to stdout. A reader that went away (`| head -c 10`) is no error for
/// a command that succeeded: its work is committed before anything is printed, so the
/// process ends at once with exit 0 and nothing on stderr, as ripgrep does. For a report
/// that carries the command's error it returns instead, and the error decides the exit
/// code. Any other write failure (a full disk behind a redirect) is reported, and ends the
/// process with exit 1 unless the command's own error follows.
fn write_stdout(lines: &[String], closed: ClosedPipe) {
    let mut stdout = std::io::stdout().lock();
    let written = lines
        .iter()
        .try_for_each(|line| writeln!(stdout, "{line}"))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            if closed == ClosedPipe::Success {
                std::process::exit(0);
            }
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the output: {error}");
            if closed == ClosedPipe::Success {
                std::process::exit(1);
            }
        }
    }
}

/// The line under a page that has a next one: the total and the flag that shows it.
fn more_line(next_cursor: Option<&str>, total: u64) -> Option<String> {
    next_cursor.map(|cursor| format!("{total} in all; more: --after {cursor}"))
}
