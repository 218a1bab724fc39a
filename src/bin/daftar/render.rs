//! Rendering: one JSON document on stdout with `--json`, plain text otherwise. Errors go
//! to stderr as text, and also to stdout as `{"error": {code, message, field}}` in JSON mode.

use std::io::Write;

use daftar::Error;
use daftar::ledger::{
    OperationView, PaymentDetail, PaymentView, ProfileView, QueuedView, StatusReport,
};
use serde::Serialize;
use serde_json::json;

pub struct Output {
    pub json: bool,
}

fn money(amount: Option<&str>, currency: &str) -> String {
    amount.map_or_else(|| "—".to_string(), |a| format!("{a} {currency}"))
}

impl Output {
    fn print_json<T: Serialize>(&self, value: &T) {
        // Serialising our own view types cannot fail: no maps with non-string keys, no I/O.
        let text = serde_json::to_string_pretty(value).expect("views serialise to JSON");
        println!("{text}");
    }

    fn lines(&self, lines: &[String]) {
        let mut stdout = std::io::stdout().lock();
        for line in lines {
            // A closed pipe (e.g. `| head`) is not an error worth a panic.
            if writeln!(stdout, "{line}").is_err() {
                return;
            }
        }
    }

    pub fn error(&self, error: &Error) {
        if self.json {
            self.print_json(&json!({ "error": error.view() }));
        }
        eprintln!("error: {error}");
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

    pub fn payments(&self, payments: &[PaymentView]) {
        if self.json {
            return self.print_json(&json!({ "payments": payments }));
        }
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

    pub fn operations(&self, ops: &[OperationView]) {
        if self.json {
            return self.print_json(&json!({ "operations": ops }));
        }
        if ops.is_empty() {
            return self.lines(&["the queue is empty".into()]);
        }
        let lines: Vec<String> = ops.iter().map(operation_line).collect();
        self.lines(&lines);
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

    pub fn status(&self, s: &StatusReport) {
        if self.json {
            return self.print_json(s);
        }
        let row = |name: &str, c: &daftar::store::StatusCounts| {
            format!(
                "{:<20} {:>8} {:>9} {:>9} {:>6} {:>15} {:>7}",
                name, c.queued, c.in_flight, c.succeeded, c.failed, c.needs_attention, c.dropped
            )
        };
        let mut lines = vec![format!(
            "{:<20} {:>8} {:>9} {:>9} {:>6} {:>15} {:>7}",
            "PROFILE", "QUEUED", "IN FLIGHT", "SUCCEEDED", "FAILED", "NEEDS ATTENTION", "DROPPED"
        )];
        lines.extend(s.profiles.iter().map(|(name, c)| row(name, c)));
        lines.push(row("total", &s.total));
        self.lines(&lines);
    }
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
