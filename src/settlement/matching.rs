//! Matching settlement lines with the ledger.
//!
//! What should settle: every payment of the profile in state `paid` or `refunded` (a
//! refunded payment was paid first; its refund settles as a line of its own), every
//! capture child in state `paid` of a payment in any other state (an authorization: the
//! capture is the money collected, as the export's `paid` total counts it; a `paid`
//! payment's own amount already covers its captures) and every refund child in state
//! `refunded` (queued or rejected refunds moved no money). Hidden
//! (deleted) payments are left out, as Ottu's reports leave them out. A payment counts in
//! the period of its creation, a refund in the period of its own creation.
//!
//! Each stored line, oldest settlement day first, is matched to at most one transaction, and
//! each transaction to at most one line:
//! - a positive line to a payment or a capture child, a negative line to a refund child;
//! - found by reference first (the line's RRN or auth code against the payment's, capture's
//!   or refund's `reference_number`, which Ottu's reports carry), else by order number (a
//!   child's is its payment's);
//! - only within the window: the settlement day is on or after the transaction's UTC day
//!   and at most `window_days` business days after it (default
//!   [`SETTLEMENT_WINDOW_BUSINESS_DAYS`]; Friday and Saturday are not business days). Of
//!   several candidates, one with the same amount wins, then the oldest.
//!
//! A matched line whose amount is not the transaction's is `amount_differs`. A transaction
//! with no line is `not_settled` once its window has ended before today, `awaiting` until
//! then. A line that matches nothing is `unknown`, with the reason. The report lists the
//! transactions of the period and the unknown lines settled from the period's first day to
//! its last day plus the window.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Transaction, params};
use time::{Date, OffsetDateTime};

use super::Sql;
use super::days::{add_business_days, business_days_between};
use super::{
    SettledItem, SettlementLineView, SettlementMatchRequest, SettlementReport, SettlementTotals,
    UnsettledItem,
};
use crate::Ledger;
use crate::error::{Error, Result};
use crate::ledger::parse_bound;
use crate::limits::{
    IMPORT_MAX_LISTED, SETTLEMENT_MAX_WINDOW_BUSINESS_DAYS, SETTLEMENT_WINDOW_BUSINESS_DAYS,
};
use crate::money::{Amount, Currency};
use crate::sources::format_ms;

/// What kind of transaction settles: a payment, a capture of an authorization (positive
/// lines) or a refund (negative lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Payment,
    Capture,
    Refund,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Payment => "payment",
            Kind::Capture => "capture",
            Kind::Refund => "refund",
        }
    }
}

/// A transaction that should settle.
#[derive(Clone, Debug)]
struct Expected {
    kind: Kind,
    id: i64,
    session_id: String,
    parent_session_id: Option<String>,
    order_no: Option<String>,
    reference: Option<String>,
    currency: String,
    /// Signed: negative for a refund.
    amount_minor: i64,
    created_at_ms: i64,
    /// `paid`/`refunded` payment, `paid` capture of a payment in another state,
    /// `refunded` refund child.
    eligible: bool,
}

/// A stored line.
#[derive(Clone, Debug)]
struct StoredLine {
    id: i64,
    source: String,
    line: u64,
    order_no: Option<String>,
    reference: Option<String>,
    amount_minor: i64,
    fee_minor: Option<i64>,
    net_minor: Option<i64>,
    currency: String,
    settled_on: String,
}

fn day_of_ms(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

fn iso_day(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn parse_iso_day(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn text(minor: i64, currency: &str) -> String {
    match Currency::from_code(currency) {
        Ok(c) => Amount::from_minor(minor, c).to_string(),
        Err(_) => minor.to_string(),
    }
}

const EXPECTED_PAYMENTS: &str = "
    SELECT id, session_id, order_no, reference_number, amount_minor, currency, created_at_ms,
           state IN ('paid', 'refunded')
    FROM payments WHERE profile_id = ?1 AND hidden = 0";
const EXPECTED_REFUNDS: &str = "
    SELECT c.id, c.session_id, p.session_id, p.order_no, c.reference_number, c.amount_minor,
           c.currency, c.created_at_ms, c.state = 'refunded'
    FROM children c JOIN payments p ON p.id = c.payment_id
    WHERE p.profile_id = ?1 AND p.hidden = 0 AND c.kind = 'refund'";
/// Captures of payments not `paid`/`refunded` (a paid payment's amount covers its captures:
/// counting both would expect the money twice).
const EXPECTED_CAPTURES: &str = "
    SELECT c.id, c.session_id, p.session_id, p.order_no, c.reference_number, c.amount_minor,
           c.currency, c.created_at_ms, c.state = 'paid'
    FROM children c JOIN payments p ON p.id = c.payment_id
    WHERE p.profile_id = ?1 AND p.hidden = 0 AND c.kind = 'capture'
      AND p.state NOT IN ('paid', 'refunded')";

fn expected_rows(
    tx: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
    kind: Kind,
) -> Result<Vec<Expected>> {
    let mut stmt = tx.prepare_cached(sql).sql()?;
    let rows = stmt
        .query_map(params, |r| {
            let (parent, next) = if kind == Kind::Payment {
                (None, 2)
            } else {
                (Some(r.get::<_, String>(2)?), 3)
            };
            let amount: i64 = r.get(next + 2)?;
            Ok(Expected {
                kind,
                id: r.get(0)?,
                session_id: r.get(1)?,
                parent_session_id: parent,
                order_no: r.get(next)?,
                reference: r.get(next + 1)?,
                amount_minor: if kind == Kind::Refund {
                    -amount
                } else {
                    amount
                },
                currency: r.get(next + 3)?,
                created_at_ms: r.get(next + 4)?,
                eligible: r.get(next + 5)?,
            })
        })
        .sql()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().sql()
}

/// The transactions a line names, by reference else by order number, and how.
fn candidates(
    tx: &Transaction<'_>,
    profile: i64,
    line: &StoredLine,
) -> Result<(Vec<Expected>, &'static str)> {
    let kinds: &[(Kind, &str)] = if line.amount_minor < 0 {
        &[(Kind::Refund, EXPECTED_REFUNDS)]
    } else {
        &[
            (Kind::Payment, EXPECTED_PAYMENTS),
            (Kind::Capture, EXPECTED_CAPTURES),
        ]
    };
    let find = |column: &str, value: &str| -> Result<Vec<Expected>> {
        let mut found = Vec::new();
        for (kind, base) in kinds {
            let alias = match (kind, column) {
                (Kind::Payment, _) => "",
                (_, "reference_number") => "c.",
                _ => "p.",
            };
            let sql = format!("{base} AND {alias}{column} = ?2");
            found.extend(expected_rows(tx, &sql, params![profile, value], *kind)?);
        }
        Ok(found)
    };
    if let Some(reference) = &line.reference {
        let found = find("reference_number", reference)?;
        if !found.is_empty() {
            return Ok((found, "reference"));
        }
    }
    if let Some(order_no) = &line.order_no {
        let found = find("order_no", order_no)?;
        if !found.is_empty() {
            return Ok((found, "order_no"));
        }
    }
    Ok((Vec::new(), ""))
}

/// The payment a line names at all (any state), for an unknown line's `session_id`.
fn named_payment(tx: &Transaction<'_>, profile: i64, line: &StoredLine) -> Result<Option<String>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT session_id FROM payments WHERE profile_id = ?1 AND hidden = 0
           AND (reference_number = ?2 OR order_no = ?3) ORDER BY id LIMIT 1",
        )
        .sql()?;
    let mut rows = stmt
        .query(params![profile, line.reference, line.order_no])
        .sql()?;
    Ok(match rows.next().sql()? {
        Some(row) => Some(row.get(0).sql()?),
        None => None,
    })
}

/// `*total += value`, or an error: sums beyond `i64` mean the ledger or the file holds
/// what no money can (`rules.balance_overflow`), never a wrapped total.
fn add(total: &mut i64, what: &'static str, value: i64) -> Result<()> {
    *total = total
        .checked_add(value)
        .ok_or(crate::rules::RuleError::BalanceOverflow { balance: what })?;
    Ok(())
}

#[derive(Default)]
struct Sums {
    expected: i64,
    settled: i64,
    fees: i64,
    net: i64,
    not_settled: i64,
    awaiting: i64,
    unknown: i64,
}

impl Ledger {
    /// Matches the profile's stored settlement lines with its paid payments and refunds
    /// (the rules are in [`crate::settlement::matching`]). Reads only.
    pub fn settlement_match(
        &mut self,
        request: &SettlementMatchRequest,
    ) -> Result<SettlementReport> {
        let window = request
            .window_days
            .unwrap_or(SETTLEMENT_WINDOW_BUSINESS_DAYS);
        if window > SETTLEMENT_MAX_WINDOW_BUSINESS_DAYS {
            return Err(Error::invalid(
                "window_days",
                "settlement.bad_window",
                format!(
                    "a window of {window} business days is too wide: at most {SETTLEMENT_MAX_WINDOW_BUSINESS_DAYS}"
                ),
            )
            .with("window_days", window)
            .with("max", SETTLEMENT_MAX_WINDOW_BUSINESS_DAYS));
        }
        let from_ms = request
            .from
            .as_deref()
            .map(|t| parse_bound("from", t, false))
            .transpose()?;
        let to_ms = request
            .to
            .as_deref()
            .map(|t| parse_bound("to", t, true))
            .transpose()?;
        let today = day_of_ms(self.clock().now_ms());
        self.store()
            .read(|tx| match_lines(tx, request, window, from_ms, to_ms, today))
    }
}

fn match_lines(
    tx: &Transaction<'_>,
    request: &SettlementMatchRequest,
    window: u32,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    today: Date,
) -> Result<SettlementReport> {
    let profile = super::profile_by_name(tx, &request.profile)?.id.0;
    let in_period = |ms: i64| from_ms.is_none_or(|f| ms >= f) && to_ms.is_none_or(|t| ms < t);
    let in_window = |created_ms: i64, settled: Date| {
        let created = day_of_ms(created_ms);
        settled >= created && business_days_between(created, settled) <= window
    };

    let lines: Vec<StoredLine> =
        {
            let mut stmt = tx.prepare_cached(
            "SELECT id, source, line, order_no, reference, amount_minor, fee_minor, net_minor,
                    currency, settled_on
             FROM settlement_lines WHERE profile_id = ?1 ORDER BY settled_on, id",
        ).sql()?;
            let rows = stmt
                .query_map([profile], |r| {
                    Ok(StoredLine {
                        id: r.get(0)?,
                        source: r.get(1)?,
                        line: r.get::<_, i64>(2)? as u64,
                        order_no: r.get(3)?,
                        reference: r.get(4)?,
                        amount_minor: r.get(5)?,
                        fee_minor: r.get(6)?,
                        net_minor: r.get(7)?,
                        currency: r.get(8)?,
                        settled_on: r.get(9)?,
                    })
                })
                .sql()?;
            rows.collect::<rusqlite::Result<_>>().sql()?
        };

    let mut report = SettlementReport {
        profile: request.profile.clone(),
        from: request.from.clone(),
        to: request.to.clone(),
        window_days: window,
        as_of: iso_day(today),
        matched: Vec::new(),
        matched_count: 0,
        amount_differs: Vec::new(),
        amount_differs_count: 0,
        not_settled: Vec::new(),
        not_settled_count: 0,
        awaiting: Vec::new(),
        awaiting_count: 0,
        unknown: Vec::new(),
        unknown_count: 0,
        totals: Vec::new(),
    };
    let mut sums: BTreeMap<String, Sums> = BTreeMap::new();
    // (kind, id) of every transaction a line settled.
    let mut settled: HashSet<(Kind, i64)> = HashSet::new();
    // Unknown lines are listed from the period's first day to its last day + the window.
    let first_day = from_ms.map(day_of_ms);
    let last_day = to_ms.map(|t| add_business_days(day_of_ms(t - 1), window));

    for line in &lines {
        let Some(settled_on) = parse_iso_day(&line.settled_on) else {
            return Err(Error::Invariant {
                what: format!(
                    "settlement line {} has the day '{}'",
                    line.id, line.settled_on
                ),
            });
        };
        let (found, matched_by) = candidates(tx, profile, line)?;
        let pick = found
            .iter()
            .filter(|e| {
                e.eligible
                    && e.currency == line.currency
                    && !settled.contains(&(e.kind, e.id))
                    && in_window(e.created_at_ms, settled_on)
            })
            .min_by_key(|e| (e.amount_minor != line.amount_minor, e.created_at_ms, e.id));
        let Some(e) = pick else {
            let listed = first_day.is_none_or(|d| settled_on >= d)
                && last_day.is_none_or(|d| settled_on <= d);
            if !listed {
                continue;
            }
            let reason = if found.is_empty() {
                let named = named_payment(tx, profile, line)?;
                if named.is_some() && line.amount_minor < 0 {
                    "no_refund"
                } else if named.is_some() {
                    "not_paid"
                } else {
                    "no_payment"
                }
            } else if found.iter().all(|e| !e.eligible) {
                "not_paid"
            } else if found.iter().all(|e| e.currency != line.currency) {
                "currency_differs"
            } else if found.iter().any(|e| {
                e.eligible
                    && settled.contains(&(e.kind, e.id))
                    && in_window(e.created_at_ms, settled_on)
            }) {
                "already_settled"
            } else {
                "outside_window"
            };
            let session_id = match found.first() {
                Some(e) => Some(e.parent_session_id.clone().unwrap_or(e.session_id.clone())),
                None => named_payment(tx, profile, line)?,
            };
            add(
                &mut sums.entry(line.currency.clone()).or_default().unknown,
                "unknown",
                line.amount_minor,
            )?;
            report.unknown_count += 1;
            if report.unknown.len() < IMPORT_MAX_LISTED {
                report.unknown.push(SettlementLineView {
                    id: line.id,
                    source: line.source.clone(),
                    line: line.line,
                    order_no: line.order_no.clone(),
                    reference: line.reference.clone(),
                    currency: line.currency.clone(),
                    amount: text(line.amount_minor, &line.currency),
                    fee: line.fee_minor.map(|f| text(f, &line.currency)),
                    net: line.net_minor.map(|n| text(n, &line.currency)),
                    settled_on: line.settled_on.clone(),
                    reason: reason.to_string(),
                    session_id,
                });
            }
            continue;
        };
        settled.insert((e.kind, e.id));
        if !in_period(e.created_at_ms) {
            continue;
        }
        let fee = line.fee_minor;
        let net = line
            .net_minor
            .or_else(|| fee.and_then(|f| line.amount_minor.checked_sub(f)));
        let s = sums.entry(e.currency.clone()).or_default();
        add(&mut s.settled, "settled", line.amount_minor)?;
        add(&mut s.fees, "fees", fee.unwrap_or(0))?;
        add(&mut s.net, "net", net.unwrap_or(line.amount_minor))?;
        let item = SettledItem {
            kind: e.kind.as_str().to_string(),
            session_id: e.session_id.clone(),
            parent_session_id: e.parent_session_id.clone(),
            order_no: e.order_no.clone(),
            reference: e.reference.clone().or_else(|| line.reference.clone()),
            currency: e.currency.clone(),
            expected: text(e.amount_minor, &e.currency),
            settled: text(line.amount_minor, &e.currency),
            difference: text(
                line.amount_minor.saturating_sub(e.amount_minor),
                &e.currency,
            ),
            fee: fee.map(|f| text(f, &e.currency)),
            net: net.map(|n| text(n, &e.currency)),
            created_at: format_ms(e.created_at_ms),
            settled_on: line.settled_on.clone(),
            lag_days: business_days_between(day_of_ms(e.created_at_ms), settled_on),
            matched_by: matched_by.to_string(),
            line_id: line.id,
            line: line.line,
            source: line.source.clone(),
        };
        if line.amount_minor == e.amount_minor {
            report.matched_count += 1;
            if report.matched.len() < IMPORT_MAX_LISTED {
                report.matched.push(item);
            }
        } else {
            report.amount_differs_count += 1;
            if report.amount_differs.len() < IMPORT_MAX_LISTED {
                report.amount_differs.push(item);
            }
        }
    }

    // Every transaction of the period that should settle: settled, or not (yet).
    let mut expected = expected_rows(tx, EXPECTED_PAYMENTS, params![profile], Kind::Payment)?;
    expected.extend(expected_rows(
        tx,
        EXPECTED_CAPTURES,
        params![profile],
        Kind::Capture,
    )?);
    expected.extend(expected_rows(
        tx,
        EXPECTED_REFUNDS,
        params![profile],
        Kind::Refund,
    )?);
    expected.retain(|e| e.eligible && in_period(e.created_at_ms));
    expected.sort_by_key(|e| (e.created_at_ms, e.kind, e.id));
    for e in &expected {
        let s = sums.entry(e.currency.clone()).or_default();
        add(&mut s.expected, "expected", e.amount_minor)?;
        if settled.contains(&(e.kind, e.id)) {
            continue;
        }
        let due_by = add_business_days(day_of_ms(e.created_at_ms), window);
        let item = UnsettledItem {
            kind: e.kind.as_str().to_string(),
            session_id: e.session_id.clone(),
            parent_session_id: e.parent_session_id.clone(),
            order_no: e.order_no.clone(),
            reference: e.reference.clone(),
            currency: e.currency.clone(),
            amount: text(e.amount_minor, &e.currency),
            created_at: format_ms(e.created_at_ms),
            due_by: iso_day(due_by),
        };
        if due_by < today {
            add(&mut s.not_settled, "not_settled", e.amount_minor)?;
            report.not_settled_count += 1;
            if report.not_settled.len() < IMPORT_MAX_LISTED {
                report.not_settled.push(item);
            }
        } else {
            add(&mut s.awaiting, "awaiting", e.amount_minor)?;
            report.awaiting_count += 1;
            if report.awaiting.len() < IMPORT_MAX_LISTED {
                report.awaiting.push(item);
            }
        }
    }
    report.totals = sums
        .iter()
        .map(|(currency, s)| SettlementTotals {
            currency: currency.clone(),
            expected: text(s.expected, currency),
            settled: text(s.settled, currency),
            fees: text(s.fees, currency),
            net: text(s.net, currency),
            not_settled: text(s.not_settled, currency),
            awaiting: text(s.awaiting, currency),
            unknown: text(s.unknown, currency),
        })
        .collect();
    Ok(report)
}
