//! Reconciliation end to end on a real ledger file: a known ledger against a known report
//! with every class present (each payment's class, the summary's counts and totals), the
//! three ways of matching, the period filter, decisions (accept changes the ledger with an
//! audit event, keep only records one, twice is refused), and locked periods reopened by
//! the ledger's triggers on a late change inside the period, never by one outside it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use daftar::Ledger;
use daftar::ledger::{PaymentInput, PaymentLookup, QueueRequest};
use daftar::model::{ChildState, OperationKind, PaymentId, PaymentState, SessionId};
use daftar::money::{Amount, Currency};
use daftar::reconcile::{
    LockPeriodRequest, MatchClass, ReconcileDecision, ReconcileItemQuery, ReconcileItemView,
    ReconcileRequest, ReconcileSummary,
};
use daftar::sources::{FixedClock, SequentialKeys};
use daftar::store::{self, ChildInsert, Store};

/// 2026-11-20T12:00:00Z: the clock of every change the tests make.
const NOW_MS: i64 = 1_795_176_000_000;
/// 2026-11-10T10:00:00Z, 2026-10-20T10:00:00Z: a day in the period, one before it.
const NOV_10: i64 = 1_794_304_800_000;
const OCT_20: i64 = 1_792_490_400_000;

struct Env {
    ledger: Ledger,
    clock: Arc<FixedClock>,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let clock = Arc::new(FixedClock::new(NOW_MS));
        let mut ledger = Ledger::with_sources(
            store,
            clock.clone(),
            Arc::new(SequentialKeys::new()),
            "test:reconcile",
        );
        ledger
            .add_profile("shop", "https://shop.ottu.net", "KWD")
            .unwrap();
        Env { ledger, clock, dir }
    }

    /// A payment created at `created_ms`.
    fn add(
        &mut self,
        session: &str,
        order: Option<&str>,
        amount: &str,
        state: &str,
        created_ms: i64,
    ) {
        self.ledger
            .add_payment(&PaymentInput {
                profile: "shop".into(),
                session_id: session.into(),
                order_no: order.map(Into::into),
                amount: amount.into(),
                currency: "KWD".into(),
                state: state.into(),
            })
            .unwrap();
        self.sql(&format!(
            "UPDATE payments SET created_at_ms = {created_ms} WHERE session_id = '{session}'"
        ));
    }

    fn sql(&mut self, sql: &str) {
        self.ledger.store().connection().execute_batch(sql).unwrap();
    }

    fn payment_id(&mut self, session: &str) -> PaymentId {
        PaymentId(
            self.ledger
                .store()
                .connection()
                .query_row(
                    "SELECT id FROM payments WHERE session_id = ?1",
                    [session],
                    |r| r.get(0),
                )
                .unwrap(),
        )
    }

    fn write_report(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn reconcile(
        &mut self,
        report: &Path,
        from: Option<&str>,
        to: Option<&str>,
    ) -> ReconcileSummary {
        let job = self
            .ledger
            .reconcile_job(ReconcileRequest {
                profile: "shop".into(),
                report: Some(report.to_path_buf()),
                from: from.map(Into::into),
                to: to.map(Into::into),
                ..ReconcileRequest::default()
            })
            .unwrap();
        job.run(&mut |_| {}).unwrap()
    }

    /// Every item of a reconciliation, by the session id it names.
    fn items(&mut self, id: i64) -> Vec<ReconcileItemView> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .ledger
                .reconcile_items(&ReconcileItemQuery {
                    id,
                    class: None,
                    after: after.clone(),
                    limit: Some(3),
                })
                .unwrap();
            all.extend(page.items);
            match page.next_cursor {
                Some(c) => after = Some(c),
                None => return all,
            }
        }
    }

    fn decide(&mut self, item: i64, decision: &str) -> daftar::Result<ReconcileItemView> {
        self.ledger.reconcile_decide(&ReconcileDecision {
            item,
            decision: decision.into(),
            reason: Some("checked with Ottu's dashboard".into()),
        })
    }

    fn detail(&mut self, session: &str) -> daftar::ledger::PaymentDetail {
        self.ledger
            .show_payment(&PaymentLookup::session_id(session))
            .unwrap()
    }

    /// A refund child of `session` in KWD, as sync or an earlier import recorded it.
    fn refund_child(&mut self, session: &str, child: &str, minor: i64, state: ChildState) {
        let payment = self.payment_id(session);
        let child = SessionId::parse(child).unwrap();
        self.ledger
            .store()
            .write(|tx| {
                store::children::upsert(
                    tx,
                    &ChildInsert {
                        payment_id: payment,
                        operation_id: None,
                        kind: OperationKind::Refund,
                        session_id: &child,
                        amount: Amount::from_minor(minor, Currency::KWD),
                        state,
                    },
                    NOW_MS,
                )
            })
            .unwrap();
    }

    fn lock(&mut self, from: &str, to: &str) -> daftar::Result<daftar::reconcile::PeriodView> {
        self.ledger.lock_period(&LockPeriodRequest {
            profile: "shop".into(),
            from: from.into(),
            to: to.into(),
            reconciliation: None,
        })
    }
}

/// The ledger every test starts from: one payment per situation, in November 2026 unless
/// said otherwise.
fn known_ledger() -> Env {
    let mut env = Env::new();
    env.add("s-match", Some("ORD-1"), "10", "paid", NOV_10);
    env.add("s-amount", Some("ORD-2"), "10", "paid", NOV_10);
    env.add("s-state", Some("ORD-3"), "5.5", "paid", NOV_10);
    env.add("s-totals", Some("ORD-4"), "8", "paid", NOV_10);
    env.add("s-late", Some("ORD-5"), "7", "failed", NOV_10);
    env.add("s-queued", Some("ORD-6"), "6", "paid", NOV_10);
    env.ledger
        .queue(&QueueRequest {
            kind: "refund".into(),
            payment: PaymentLookup::session_id("s-queued"),
            amount: Some("1".into()),
            reason: None,
        })
        .unwrap();
    env.add("s-lonely", Some("ORD-8"), "3", "paid", NOV_10);
    // The report names these two by another session id: by order number, by reference.
    env.add("s-ord-ledger", Some("ORD-7"), "12", "paid", NOV_10);
    env.add("s-ref-ledger", None, "5", "paid", NOV_10);
    env.sql("UPDATE payments SET reference_number = 'RRN-9' WHERE session_id = 's-ref-ledger'");
    // Before the period, in the report too: outside.
    env.add("s-oct", Some("ORD-10"), "2", "paid", OCT_20);
    // Deleted at Ottu: left out even though the report names it.
    env.add("s-hidden", Some("ORD-11"), "9", "paid", NOV_10);
    env.sql("UPDATE payments SET hidden = 1 WHERE session_id = 's-hidden'");
    env
}

const HEADER: &str = "session_id,order_no,parent_session_id,operation,amount,currency,state,created,reference_number,refunded_amount\n";

/// The report: each line's comment in the test says what it is.
fn known_report() -> String {
    let rows = [
        "s-match,ORD-1,,purchase,10.000,KWD,paid,2026-11-10 10:00:00,,",
        "s-amount,ORD-2,,purchase,9.500,KWD,paid,2026-11-10 10:00:00,,",
        "s-state,ORD-3,,purchase,5.500,KWD,refunded,2026-11-10 10:00:00,,5.500",
        "s-totals,ORD-4,,purchase,8.000,KWD,paid,2026-11-10 10:00:00,,",
        "c-totals-1,,s-totals,refund,2.000,KWD,refunded,2026-11-12 09:00:00,RRN-C1,",
        "s-late,ORD-5,,purchase,7.000,KWD,paid,2026-11-10 10:00:00,,",
        "s-queued,ORD-6,,purchase,6.000,KWD,paid,2026-11-10 10:00:00,,1.000",
        "s-new,ORD-12,,purchase,4.000,KWD,paid,2026-11-11 08:00:00,RRN-NEW,",
        "s-ord-report,ORD-7,,purchase,12.000,KWD,paid,2026-11-10 10:00:00,,",
        "s-ref-report,,,purchase,5.000,KWD,paid,2026-11-10 10:00:00,RRN-9,",
        "s-oct,ORD-10,,purchase,2.000,KWD,paid,2026-10-20 10:00:00,,",
        "s-dec,ORD-13,,purchase,1.000,KWD,paid,2026-12-02 10:00:00,,",
        "s-hidden,ORD-11,,purchase,9.000,KWD,paid,2026-11-10 10:00:00,,",
        "s-bad,ORD-14,,purchase,abc,KWD,paid,2026-11-10 10:00:00,,",
    ];
    let mut text = HEADER.to_string();
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

fn by_session<'a>(items: &'a [ReconcileItemView], session: &str) -> &'a ReconcileItemView {
    items
        .iter()
        .find(|i| i.session_id.as_deref() == Some(session))
        .unwrap_or_else(|| panic!("no item for {session}"))
}

fn run_known(env: &mut Env) -> ReconcileSummary {
    let report = env.write_report("report.csv", &known_report());
    env.reconcile(&report, Some("2026-11-01"), Some("2026-11-30"))
}

#[test]
fn every_class_from_a_known_ledger_and_report() {
    let mut env = known_ledger();
    let s = run_known(&mut env);
    let items = env.items(s.id);
    let expected = [
        ("s-match", MatchClass::Matched),
        ("s-amount", MatchClass::AmountDiffers),
        ("s-state", MatchClass::StateDiffers),
        ("s-totals", MatchClass::TotalsDiffer),
        ("s-late", MatchClass::ChangedLate),
        ("s-queued", MatchClass::Queued),
        ("s-new", MatchClass::ReportOnly),
        ("s-lonely", MatchClass::LedgerOnly),
        ("s-ord-ledger", MatchClass::Matched),
        ("s-ref-ledger", MatchClass::Matched),
    ];
    for (session, class) in expected {
        assert_eq!(by_session(&items, session).class, class, "{session}");
    }
    assert_eq!(items.len(), expected.len(), "{items:#?}");
    // Mismatches are listed first.
    let first_ok = items.iter().position(|i| !i.class.is_mismatch()).unwrap();
    assert!(items[first_ok..].iter().all(|i| !i.class.is_mismatch()));
    assert_eq!(first_ok, 6);

    // How each was matched: the report's own session id stays in its side.
    let by_order = by_session(&items, "s-ord-ledger");
    let report = by_order.report.as_ref().unwrap();
    assert_eq!(report["matched_by"], "order_no");
    assert_eq!(report["session_id"], "s-ord-report");
    let by_reference = by_session(&items, "s-ref-ledger").report.as_ref().unwrap();
    assert_eq!(by_reference["matched_by"], "reference_number");
    assert_eq!(by_reference["session_id"], "s-ref-report");
    assert_eq!(
        by_session(&items, "s-match").report.as_ref().unwrap()["matched_by"],
        "session_id"
    );

    // The differences, in both sides' words.
    let amount = by_session(&items, "s-amount");
    assert_eq!(amount.differences.len(), 1);
    assert_eq!(amount.differences[0].field, "amount");
    assert_eq!(amount.differences[0].ledger.as_deref(), Some("10.000"));
    assert_eq!(amount.differences[0].report.as_deref(), Some("9.500"));
    let totals = by_session(&items, "s-totals");
    assert_eq!(totals.differences[0].field, "refunded");
    assert_eq!(totals.differences[0].ledger.as_deref(), Some("0.000"));
    assert_eq!(totals.differences[0].report.as_deref(), Some("2.000"));
    assert_eq!(
        totals.report.as_ref().unwrap()["children"][0]["session_id"],
        "c-totals-1"
    );
    assert!(by_session(&items, "s-new").ledger.is_none());
    assert!(by_session(&items, "s-lonely").report.is_none());

    // The summary: counts and both sides' sums per class and currency.
    let expect = [
        (MatchClass::Matched, 3, "27.000", "27.000"),
        (MatchClass::Queued, 1, "6.000", "6.000"),
        (MatchClass::AmountDiffers, 1, "10.000", "9.500"),
        (MatchClass::StateDiffers, 1, "5.500", "5.500"),
        (MatchClass::TotalsDiffer, 1, "8.000", "8.000"),
        (MatchClass::ChangedLate, 1, "7.000", "7.000"),
        (MatchClass::ReportOnly, 1, "0.000", "4.000"),
        (MatchClass::LedgerOnly, 1, "3.000", "0.000"),
    ];
    assert_eq!(s.classes.len(), expect.len(), "{:?}", s.classes);
    for (i, (class, count, ledger, report)) in expect.into_iter().enumerate() {
        let line = &s.classes[i];
        assert_eq!(
            (
                line.class,
                line.currency.as_str(),
                line.count,
                line.ledger_amount.as_str(),
                line.report_amount.as_str()
            ),
            (class, "KWD", count, ledger, report)
        );
    }
    assert!(!s.clean);
    assert_eq!(s.undecided, 6);
    assert_eq!(s.report_rows, 12);
    assert_eq!(s.child_rows, 1);
    assert_eq!(s.outside_period, 2, "s-oct and s-dec");
    assert_eq!(s.hidden_rows, 1);
    assert_eq!(s.rejected_count, 1);
    assert_eq!(s.rejected[0].code, "row.bad_amount");
    assert_eq!(s.rejected[0].line, 15);
    assert_eq!(s.from.as_deref(), Some("2026-11-01T00:00:00Z"));
    assert_eq!(s.to.as_deref(), Some("2026-12-01T00:00:00Z"));
    assert_eq!(s.source, "report.csv");

    // Totals: the ledger's over the period (as the exports compute them), the report's
    // from its rows in the period.
    assert_eq!(s.totals.len(), 1);
    let t = &s.totals[0];
    // paid: 10 + 10 + 5.5 + 8 + 6 + 3 + 12 + 5 (s-late failed, s-oct outside, s-hidden deleted).
    assert_eq!(
        (t.paid.as_str(), t.refunded.as_str(), t.pending.as_str()),
        ("59.500", "0.000", "1.000")
    );
    let r = &s.report_totals[0];
    // paid: 10 + 12 + 5 + 9.5 + 5.5 + 8 + 7 + 6 + 4; refunded: 5.5 + 2 + 1.
    assert_eq!(
        (
            r.currency.as_str(),
            r.paid.as_str(),
            r.refunded.as_str(),
            r.captured.as_str()
        ),
        ("KWD", "67.000", "8.500", "0.000")
    );

    // The run is listed, and reads back the same.
    assert_eq!(env.ledger.reconciliation(s.id).unwrap(), s);
    let list = env.ledger.reconciliations(Some("shop")).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, s.id);

    // A class page.
    let page = env
        .ledger
        .reconcile_items(&ReconcileItemQuery {
            id: s.id,
            class: Some("matched".into()),
            after: None,
            limit: Some(2),
        })
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items.len(), 2);
    assert!(page.next_cursor.is_some());
    let bad = env
        .ledger
        .reconcile_items(&ReconcileItemQuery {
            id: s.id,
            class: Some("nope".into()),
            ..ReconcileItemQuery::default()
        })
        .unwrap_err();
    assert_eq!(bad.code(), "input.unknown_word");
}

/// One item as SQL reads it: session id, class, ledger state and amount, report state and
/// amount, creation time.
type SidesRow = (
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// Each side's state and amount per item, as SQL reads them (exports, sums).
fn sides_in_sql(env: &mut Env, id: i64) -> Vec<SidesRow> {
    let conn = env.ledger.store().connection();
    let mut stmt = conn
        .prepare(
            "SELECT session_id, class, ledger_state, ledger_amount_minor, report_state,
                 report_amount_minor, created_at_ms
             FROM reconciliation_item_sides WHERE reconciliation_id = ?1 ORDER BY id",
        )
        .unwrap();
    stmt.query_map([id], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn a_match_by_session_id_is_stored_compact_and_reads_like_a_whole_one() {
    let mut env = known_ledger();
    let s = run_known(&mut env);
    // Stored: the match by session id without JSON, the facts in columns; a match by
    // order number and every mismatch keep both sides whole.
    let stored = |env: &mut Env, session: &str| -> (bool, bool, Option<i64>, Option<String>) {
        env.ledger
            .store()
            .connection()
            .query_row(
                "SELECT ledger_json IS NULL, report_json IS NULL, amount_minor, state
                 FROM reconciliation_items WHERE session_id = ?1",
                [session],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    };
    assert_eq!(
        stored(&mut env, "s-match"),
        (true, true, Some(10_000), Some("paid".into()))
    );
    assert_eq!(stored(&mut env, "s-ord-ledger"), (false, false, None, None));
    assert_eq!(stored(&mut env, "s-amount"), (false, false, None, None));
    assert_eq!(stored(&mut env, "s-queued"), (false, false, None, None));

    // Read back: both sides from the agreed facts.
    let items = env.items(s.id);
    let compact = by_session(&items, "s-match").clone();
    let ledger = compact.ledger.as_ref().unwrap();
    let report = compact.report.as_ref().unwrap();
    assert_eq!(ledger["amount"], "10.000");
    assert_eq!(ledger["state"], "paid");
    assert_eq!(ledger["created_at"], "2026-11-10T10:00:00Z");
    assert_eq!(ledger["refunded"], "0.000");
    assert_eq!(ledger["unfinished"], false);
    assert_eq!(report["amount"], "10.000");
    assert_eq!(report["state"], "paid");
    assert_eq!(report["line"], 2);
    assert!(compact.differences.is_empty());

    // An item in the whole form (as runs before the compact form wrote them) reads the
    // same through SQL as the compact one did.
    let before = sides_in_sql(&mut env, s.id);
    env.sql(
        "UPDATE reconciliation_items SET
             ledger_json = json_object('amount_minor', 10000, 'currency', 'KWD',
                 'state', 'paid', 'created_at_ms', 1794304800000),
             report_json = json_object('amount_minor', 10000, 'currency', 'KWD',
                 'state', 'paid', 'created_at_ms', 1794304800000),
             amount_minor = NULL, state = NULL, created_at_ms = NULL
         WHERE session_id = 's-match'",
    );
    assert_eq!(sides_in_sql(&mut env, s.id), before);
    let row = before.iter().find(|r| r.0 == "s-match").unwrap();
    assert_eq!(
        (row.2.as_deref(), row.3, row.4.as_deref(), row.5, row.6),
        (
            Some("paid"),
            Some(10_000),
            Some("paid"),
            Some(10_000),
            Some(NOV_10)
        )
    );
    // A side that is missing stays missing (not filled from the columns).
    let lonely = before.iter().find(|r| r.0 == "s-lonely").unwrap();
    assert_eq!((lonely.4.as_deref(), lonely.5), (None, None));
    assert_eq!(lonely.3, Some(3_000));
}

#[test]
fn without_a_period_everything_is_classified() {
    let mut env = known_ledger();
    let report = env.write_report("report.csv", &known_report());
    let s = env.reconcile(&report, None, None);
    assert_eq!(s.outside_period, 0);
    let items = env.items(s.id);
    assert_eq!(by_session(&items, "s-oct").class, MatchClass::Matched);
    assert_eq!(by_session(&items, "s-dec").class, MatchClass::ReportOnly);
}

fn events(env: &mut Env, session: &str) -> Vec<String> {
    env.detail(session)
        .events
        .iter()
        .map(|e| e.action.clone())
        .collect()
}

#[test]
fn accepting_changes_the_ledger_with_an_event_and_keeping_only_records() {
    let mut env = known_ledger();
    let s = run_known(&mut env);
    let items = env.items(s.id);
    let id = |session: &str| by_session(&items, session).id;

    let accepted = env.decide(id("s-amount"), "accept").unwrap();
    assert_eq!(accepted.decision.as_deref(), Some("accepted"));
    assert_eq!(accepted.decided_by.as_deref(), Some("test:reconcile"));
    let d = env.detail("s-amount");
    assert_eq!(d.amount, "9.500");
    let event = d.events.last().unwrap();
    assert_eq!(event.action, "payment.reconciled");
    assert_eq!(event.before.as_ref().unwrap()["amount"], "10.000");
    assert_eq!(event.after.as_ref().unwrap()["amount"], "9.500");
    assert_eq!(event.after.as_ref().unwrap()["reconciliation"], s.id);
    assert_eq!(
        event.after.as_ref().unwrap()["reason"],
        "checked with Ottu's dashboard"
    );

    env.decide(id("s-state"), "accept").unwrap();
    assert_eq!(env.detail("s-state").state, PaymentState::Refunded);

    env.decide(id("s-late"), "accept").unwrap();
    assert_eq!(env.detail("s-late").state, PaymentState::Paid);

    env.decide(id("s-totals"), "accept").unwrap();
    let d = env.detail("s-totals");
    assert_eq!(d.children.len(), 1);
    assert_eq!(d.balances.refunded, "2.000");
    assert_eq!(
        events(&mut env, "s-totals").last().unwrap(),
        "payment.reconciled"
    );

    let added = env.decide(id("s-new"), "accept").unwrap();
    assert_eq!(added.decision.as_deref(), Some("accepted"));
    let d = env.detail("s-new");
    assert_eq!((d.amount.as_str(), d.state), ("4.000", PaymentState::Paid));
    assert_eq!(d.source.as_str(), "report");
    assert_eq!(d.order_no.as_deref(), Some("ORD-12"));
    assert_eq!(d.events.last().unwrap().action, "payment.reconciled");

    // Keep: an event, the ledger unchanged.
    let before = env.detail("s-lonely");
    let kept = env.decide(id("s-lonely"), "keep").unwrap();
    assert_eq!(kept.decision.as_deref(), Some("kept"));
    let after = env.detail("s-lonely");
    assert_eq!(
        (after.amount.clone(), after.state),
        (before.amount, before.state)
    );
    assert_eq!(after.events.len(), before.events.len() + 1);
    assert_eq!(after.events.last().unwrap().action, "reconcile.kept");

    // Deciding twice is refused, either way.
    for decision in ["accept", "keep"] {
        let err = env.decide(id("s-amount"), decision).unwrap_err();
        assert_eq!(err.code(), "reconcile.already_decided");
        assert_eq!(err.kind(), daftar::ErrorKind::Refused);
    }
    // Nothing to accept on ledger_only (even undecided), queued or matched.
    let mut env2 = known_ledger();
    let s2 = run_known(&mut env2);
    let items2 = env2.items(s2.id);
    for session in ["s-lonely", "s-queued", "s-match"] {
        let err = env2
            .decide(by_session(&items2, session).id, "accept")
            .unwrap_err();
        assert_eq!(err.code(), "reconcile.nothing_to_accept", "{session}");
    }
    let err = env2
        .decide(by_session(&items2, "s-match").id, "keep")
        .unwrap_err();
    assert_eq!(err.code(), "reconcile.nothing_to_decide");
    let err = env2
        .decide(by_session(&items2, "s-match").id, "ignore")
        .unwrap_err();
    assert_eq!(err.code(), "input.unknown_word");
    let err = env2.decide(999_999, "keep").unwrap_err();
    assert_eq!(err.code(), "not_found");
    // The refusals changed nothing.
    assert_eq!(
        env2.items(s2.id)
            .iter()
            .filter(|i| i.decision.is_some())
            .count(),
        0
    );
}

#[test]
fn accepting_over_a_later_change_is_refused() {
    let mut env = known_ledger();
    let s = run_known(&mut env);
    let items = env.items(s.id);
    env.sql("UPDATE payments SET amount_minor = 11000 WHERE session_id = 's-amount'");
    let err = env
        .decide(by_session(&items, "s-amount").id, "accept")
        .unwrap_err();
    assert_eq!(err.code(), "reconcile.stale");
    assert_eq!(env.detail("s-amount").amount, "11.000");
    // Keeping stays possible: it changes nothing.
    env.decide(by_session(&items, "s-amount").id, "keep")
        .unwrap();
}

/// Accepting Ottu's amount keeps the payment rules: never another currency, never below
/// what the ledger already counts as refunded or captured.
#[test]
fn accepting_an_amount_keeps_the_payment_rules() {
    let mut env = known_ledger();
    env.add("s-refunded", Some("ORD-20"), "10", "paid", NOV_10);
    env.add("s-usd", Some("ORD-21"), "10", "paid", NOV_10);
    env.refund_child("s-refunded", "c-refund-20", 6_000, ChildState::Refunded);
    let mut text = known_report();
    text.push_str("s-refunded,ORD-20,,purchase,5.000,KWD,paid,2026-11-10 10:00:00,,6.000\n");
    text.push_str("s-usd,ORD-21,,purchase,10.00,USD,paid,2026-11-10 10:00:00,,\n");
    let report = env.write_report("rules.csv", &text);
    let s = env.reconcile(&report, Some("2026-11-01"), Some("2026-11-30"));
    let items = env.items(s.id);
    for (session, code) in [
        ("s-refunded", "reconcile.amount_below_spent"),
        ("s-usd", "reconcile.currency_differs"),
    ] {
        let item = by_session(&items, session);
        assert_eq!(item.class, MatchClass::AmountDiffers, "{session}");
        let err = env.decide(item.id, "accept").unwrap_err();
        assert_eq!(err.code(), code, "{session}");
        assert_eq!(err.kind(), daftar::ErrorKind::Refused);
        assert_eq!(env.detail(session).amount, "10.000", "{session}");
        // Keeping the ledger's value stays possible.
        env.decide(item.id, "keep").unwrap();
    }
    let err_params = {
        let mut env = known_ledger();
        env.add("s-refunded", Some("ORD-20"), "10", "paid", NOV_10);
        env.refund_child("s-refunded", "c-refund-20", 6_000, ChildState::Refunded);
        let report = env.write_report("rules.csv", &text);
        let s = env.reconcile(&report, Some("2026-11-01"), Some("2026-11-30"));
        let items = env.items(s.id);
        env.decide(by_session(&items, "s-refunded").id, "accept")
            .unwrap_err()
            .params()
    };
    assert_eq!(err_params["spent"], "6.000");
    // An amount still above what was refunded is accepted.
    let mut env = known_ledger();
    let s = run_known(&mut env);
    let items = env.items(s.id);
    env.decide(by_session(&items, "s-amount").id, "accept")
        .unwrap();
    assert_eq!(env.detail("s-amount").amount, "9.500");
}

/// Payment `s-unnamed` (10.000) with what sync records when Ottu's success names no child
/// (src/sync/record.rs): our own refund of 2.000 under `unreported-<tracking key>`. The
/// report (its child rows after the payment's) is reconciled, and its `totals_differ` item
/// accepted.
fn accept_children_of_unnamed(child_rows: &str) -> (Env, PathBuf) {
    let mut env = Env::new();
    env.add("s-unnamed", Some("ORD-1"), "10", "paid", NOV_10);
    env.refund_child(
        "s-unnamed",
        "unreported-00000000-0000-4000-8000-000000000001",
        2_000,
        ChildState::RefundQueued,
    );
    let text = format!(
        "{HEADER}s-unnamed,ORD-1,,purchase,10.000,KWD,paid,2026-11-10 10:00:00,,\n{child_rows}"
    );
    let report = env.write_report("unnamed.csv", &text);
    let s = env.reconcile(&report, Some("2026-11-01"), Some("2026-11-30"));
    let item = by_session(&env.items(s.id), "s-unnamed").clone();
    assert_eq!(item.class, MatchClass::TotalsDiffer);
    env.decide(item.id, "accept").unwrap();
    (env, report)
}

#[test]
fn accepting_the_reports_children_names_a_child_ottu_did_not_name_instead_of_counting_it_twice() {
    // Ottu's report names our refund `c-ottu-1` (made a minute before sync recorded it)
    // and has two the ledger never saw: one of the same amount made in Ottu's dashboard a
    // week earlier, listed first, and one of another amount.
    let (mut env, report) = accept_children_of_unnamed(
        "c-dashboard,,s-unnamed,refund,2.000,KWD,refunded,2026-11-13 09:00:00,,\n\
         c-ottu-1,,s-unnamed,refund,2.000,KWD,refunded,2026-11-20 11:59:00,,\n\
         c-ottu-2,,s-unnamed,refund,3.000,KWD,refunded,2026-11-14 09:00:00,,\n",
    );
    let detail = env.detail("s-unnamed");
    // 7.000 refunded as Ottu says, not 9.000: the unnamed child (the first, by id) became
    // c-ottu-1, dated by Ottu; the dashboard's refund of the same amount is another child.
    assert_eq!(detail.balances.refunded, "7.000");
    let children: Vec<(&str, &str, &str)> = detail
        .children
        .iter()
        .map(|c| (c.session_id.as_str(), c.amount.as_str(), c.state.as_str()))
        .collect();
    assert_eq!(
        children,
        [
            ("c-ottu-1", "2.000", "refunded"),
            ("c-dashboard", "2.000", "refunded"),
            ("c-ottu-2", "3.000", "refunded"),
        ]
    );
    assert!(
        detail.children[0]
            .created_at
            .starts_with("2026-11-20T11:59:00"),
        "{}",
        detail.children[0].created_at
    );
    // A second run matches: the ledger and the report now agree.
    let again = env.reconcile(&report, Some("2026-11-01"), Some("2026-11-30"));
    assert_eq!(
        by_session(&env.items(again.id), "s-unnamed").class,
        MatchClass::Matched
    );
}

/// A report without child times cannot tell our refund from a same-amount one made in
/// Ottu's dashboard: the unnamed child stays, and accepting adds Ottu's (the ledger counts
/// more refunded, never less).
#[test]
fn a_report_child_without_a_time_never_names_an_unnamed_child() {
    let (mut env, _) = accept_children_of_unnamed(
        "c-ottu-1,,s-unnamed,refund,2.000,KWD,refunded,,,\n\
         c-ottu-2,,s-unnamed,refund,3.000,KWD,refunded,,,\n",
    );
    let detail = env.detail("s-unnamed");
    let names: Vec<&str> = detail
        .children
        .iter()
        .map(|c| c.session_id.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "unreported-00000000-0000-4000-8000-000000000001",
            "c-ottu-1",
            "c-ottu-2"
        ]
    );
    assert_eq!(detail.balances.refunded, "7.000");
}

/// Decides every mismatch of the run (accept what can be, keep the rest).
fn decide_all(env: &mut Env, id: i64) {
    for item in env.items(id) {
        if item.class.is_mismatch() {
            let decision = if item.class.is_acceptable() {
                "accept"
            } else {
                "keep"
            };
            match env.decide(item.id, decision) {
                // Totals alone (no child rows) cannot be accepted: keep them.
                Err(e) if e.code() == "reconcile.nothing_to_accept" => {
                    env.decide(item.id, "keep").unwrap();
                }
                other => {
                    other.unwrap();
                }
            }
        }
    }
}

#[test]
fn a_locked_period_is_reopened_by_a_late_change_in_it_only() {
    let mut env = known_ledger();
    // Nothing covers the period before a run.
    assert_eq!(
        env.lock("2026-11-01", "2026-11-30").unwrap_err().code(),
        "reconcile.not_covered"
    );
    let s = run_known(&mut env);
    // Undecided mismatches stand in the way.
    let err = env.lock("2026-11-01", "2026-11-30").unwrap_err();
    assert_eq!(err.code(), "reconcile.undecided");
    assert_eq!(err.params()["count"], 6);
    decide_all(&mut env, s.id);
    let locked = env.lock("2026-11-01", "2026-11-30").unwrap();
    assert_eq!(locked.status, "locked");
    assert_eq!(locked.reconciliation, Some(s.id));
    assert_eq!(locked.from, "2026-11-01T00:00:00Z");
    assert_eq!(locked.to, "2026-12-01T00:00:00Z");
    assert!(locked.reopened.is_none());
    // An overlapping lock is refused while it is locked.
    assert_eq!(
        env.lock("2026-11-15", "2026-12-15").unwrap_err().code(),
        "reconcile.period_locked"
    );

    // A change to a payment outside the period leaves it locked.
    let oct = env.payment_id("s-oct");
    env.clock.advance_ms(1_000);
    env.ledger
        .store()
        .write(|tx| store::payments::set_state(tx, oct, PaymentState::Refunded, NOW_MS + 1_000))
        .unwrap();
    assert_eq!(
        env.ledger.periods(Some("shop")).unwrap()[0].status,
        "locked"
    );

    // A state change of a payment in it reopens it, naming the payment.
    let late = env.payment_id("s-match");
    env.ledger
        .store()
        .write(|tx| store::payments::set_state(tx, late, PaymentState::Refunded, NOW_MS + 2_000))
        .unwrap();
    let periods = env.ledger.periods(None).unwrap();
    assert_eq!(periods.len(), 1);
    assert_eq!(periods[0].status, "reopened");
    let reopened = periods[0].reopened.as_ref().unwrap();
    assert_eq!(reopened.reason, "payment_changed");
    assert_eq!(reopened.session_id.as_deref(), Some("s-match"));
    assert_eq!(reopened.order_no.as_deref(), Some("ORD-1"));

    // The change came after the run: locking again needs a new run first.
    let err = env.lock("2026-11-01", "2026-11-30").unwrap_err();
    assert_eq!(err.code(), "reconcile.period_changed");
    assert_eq!(err.kind(), daftar::ErrorKind::Conflict);
    assert_eq!(err.params()["count"], 1);
    assert_eq!(err.params()["session_id"], "s-match");
    env.clock.advance_ms(10_000);
    let s2 = run_known(&mut env);
    decide_all(&mut env, s2.id);

    // Locked again (the reopened one no longer blocks), then a child added to a payment
    // in the period reopens it.
    let again = env.lock("2026-11-01", "2026-11-30").unwrap();
    assert_eq!(again.status, "locked");
    assert_eq!(again.reconciliation, Some(s2.id));
    env.clock.advance_ms(1_000);
    let paid = env.payment_id("s-ord-ledger");
    let child = SessionId::parse("c-late-refund").unwrap();
    env.ledger
        .store()
        .write(|tx| {
            store::children::upsert(
                tx,
                &ChildInsert {
                    payment_id: paid,
                    operation_id: None,
                    kind: OperationKind::Refund,
                    session_id: &child,
                    amount: Amount::from_minor(1_000, Currency::KWD),
                    state: ChildState::Refunded,
                },
                NOW_MS + 12_000,
            )
        })
        .unwrap();
    let periods = env.ledger.periods(Some("shop")).unwrap();
    assert_eq!(periods[0].id, again.id);
    assert_eq!(periods[0].status, "reopened");
    assert_eq!(periods[0].reopened.as_ref().unwrap().reason, "child_added");
    assert_eq!(
        periods[0].reopened.as_ref().unwrap().session_id.as_deref(),
        Some("s-ord-ledger")
    );

    // And a payment that appears in it later (a sync, an import) reopens it too.
    assert_eq!(
        env.lock("2026-11-01", "2026-11-30").unwrap_err().code(),
        "reconcile.period_changed"
    );
    env.clock.advance_ms(10_000);
    let s3 = run_known(&mut env);
    decide_all(&mut env, s3.id);
    let third = env.lock("2026-11-01", "2026-11-30").unwrap();
    env.clock.advance_ms(1_000);
    env.add("s-appears", None, "1", "paid", NOV_10);
    let periods = env.ledger.periods(Some("shop")).unwrap();
    assert_eq!(periods[0].id, third.id);
    assert_eq!(
        periods[0].reopened.as_ref().unwrap().reason,
        "payment_added"
    );
    assert_eq!(
        periods[0].reopened.as_ref().unwrap().session_id.as_deref(),
        Some("s-appears")
    );
}

#[test]
fn a_report_file_that_cannot_be_read_or_mapped_is_refused() {
    let mut env = known_ledger();
    let run = |env: &mut Env, report: Option<PathBuf>, map: Vec<String>| {
        env.ledger
            .reconcile_job(ReconcileRequest {
                profile: "shop".into(),
                report,
                map,
                ..ReconcileRequest::default()
            })
            .unwrap()
            .run(&mut |_| {})
            .unwrap_err()
    };
    assert_eq!(run(&mut env, None, vec![]).code(), "reconcile.no_report");
    let missing = env.dir.path().join("missing.csv");
    assert_eq!(
        run(&mut env, Some(missing), vec![]).kind(),
        daftar::ErrorKind::InvalidInput
    );
    let no_state = env.write_report("no-state.csv", "session_id,amount,currency\ns1,1,KWD\n");
    let err = run(&mut env, Some(no_state.clone()), vec![]);
    assert_eq!(err.code(), "mapping.missing_field");
    // A mapping override names the column.
    let status = env.write_report(
        "status.csv",
        "session_id,amount,currency,Zustand\ns-match,10,KWD,paid\n",
    );
    let s = env
        .ledger
        .reconcile_job(ReconcileRequest {
            profile: "shop".into(),
            report: Some(status),
            map: vec!["Zustand=state".into()],
            ..ReconcileRequest::default()
        })
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert_eq!(s.report_rows, 1);
    // Nothing was saved by the refused runs.
    assert_eq!(env.ledger.reconciliations(None).unwrap().len(), 1);
}

/// `daftar reconcile` through the real binary: `--json` prints the facade's views, a run
/// with mismatches is exit 0, and refusals, bad input and unknown ids keep the CLI's exit
/// codes (3, 2, 4) with the error object.
#[test]
fn cli_json_and_exit_codes() {
    let cli = common::Cli::new();
    cli.seed(&[
        ("s-match", "ORD-1", "10", "paid"),
        ("s-amount", "ORD-2", "10", "paid"),
        ("s-lonely", "ORD-3", "3", "paid"),
    ]);
    let report = cli.dir.path().join("report.csv");
    std::fs::write(
        &report,
        format!(
            "{HEADER}s-match,ORD-1,,purchase,10.000,KWD,paid,,,\n\
             s-amount,ORD-2,,purchase,9.000,KWD,paid,,,\n\
             s-new,ORD-4,,purchase,4.000,KWD,paid,,,\n"
        ),
    )
    .unwrap();
    let report = report.to_str().unwrap();

    // Text mode says what to do next (this run is older: `lock` takes the newest).
    let text = cli.ok(&["reconcile", "--profile", "shop", "--report", report]);
    assert!(text.stdout.contains("of profile shop"), "{}", text.stdout);
    assert!(text.stdout.contains("amount_differs"), "{}", text.stdout);
    assert!(
        text.stdout.contains("daftar reconcile show"),
        "{}",
        text.stdout
    );

    let s = cli.ok_json(&["reconcile", "--profile", "shop", "--report", report]);
    let id = s["id"].as_i64().unwrap();
    assert_eq!(s["profile"], "shop");
    assert_eq!(s["clean"], false);
    assert_eq!(s["undecided"], 3);
    let classes: Vec<(String, u64)> = s["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["class"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        classes,
        [
            ("matched".to_string(), 1),
            ("amount_differs".to_string(), 1),
            ("report_only".to_string(), 1),
            ("ledger_only".to_string(), 1)
        ]
    );
    assert_eq!(s["totals"][0]["paid"], "23.000");
    assert_eq!(s["report_totals"][0]["paid"], "23.000");

    let page = cli.ok_json(&[
        "reconcile",
        "show",
        &id.to_string(),
        "--class",
        "amount_differs",
    ]);
    assert_eq!(page["total"], 1);
    let item = &page["items"][0];
    assert_eq!(item["session_id"], "s-amount");
    assert_eq!(item["differences"][0]["field"], "amount");
    assert_eq!(item["ledger"]["amount"], "10.000");
    assert_eq!(item["report"]["amount"], "9.000");
    let item_id = item["id"].as_i64().unwrap().to_string();

    // Locking first is refused: exit 3 with the error object.
    let lock = [
        "reconcile",
        "lock",
        "--profile",
        "shop",
        "--from",
        "2020-01-01",
        "--to",
        "2040-12-31",
    ];
    let refused = cli.run(&[&["--json"][..], &lock[..]].concat());
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert_eq!(refused.json()["error"]["code"], "reconcile.undecided");

    let accepted = cli.ok_json(&["reconcile", "accept", &item_id, "--reason", "Ottu is right"]);
    assert_eq!(accepted["decision"], "accepted");
    let twice = cli.run(&["--json", "reconcile", "keep", &item_id]);
    assert_eq!(twice.code, 3);
    assert_eq!(twice.json()["error"]["code"], "reconcile.already_decided");
    let payment = cli.ok_json(&["payment", "show", "s-amount"]);
    assert_eq!(payment["amount"], "9.000");

    // The other two: accept the new payment, keep the lonely one (text mode).
    let page = cli.ok_json(&["reconcile", "show", &id.to_string()]);
    for item in page["items"].as_array().unwrap() {
        let item_id = item["id"].as_i64().unwrap().to_string();
        match item["class"].as_str().unwrap() {
            "report_only" => {
                let out = cli.ok(&["reconcile", "accept", &item_id]);
                assert!(out.stdout.contains("accepted"), "{}", out.stdout);
            }
            "ledger_only" => {
                let refused = cli.run(&["--json", "reconcile", "accept", &item_id]);
                assert_eq!(refused.code, 3);
                assert_eq!(
                    refused.json()["error"]["code"],
                    "reconcile.nothing_to_accept"
                );
                let out = cli.ok(&[
                    "reconcile",
                    "keep",
                    &item_id,
                    "--reason",
                    "refunded by cash",
                ]);
                assert!(out.stdout.contains("kept"), "{}", out.stdout);
            }
            _ => {}
        }
    }
    let period = cli.ok_json(&lock);
    assert_eq!(period["status"], "locked");
    assert_eq!(period["reconciliation"], id);
    let periods = cli.ok_json(&["reconcile", "periods", "--profile", "shop"]);
    assert_eq!(periods.as_array().unwrap().len(), 1);
    let again = cli.run(&[&["--json"][..], &lock[..]].concat());
    assert_eq!(again.code, 3);
    assert_eq!(again.json()["error"]["code"], "reconcile.period_locked");
    let list = cli.ok_json(&["reconcile", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], id, "newest first");

    // Bad input is exit 2, unknown ids exit 4.
    let none = cli.run(&["--json", "reconcile", "--profile", "shop"]);
    assert_eq!(none.code, 2, "{}{}", none.stdout, none.stderr);
    assert_eq!(none.json()["error"]["code"], "usage.missing_argument");
    let both = cli.run(&[
        "reconcile",
        "--profile",
        "shop",
        "--report",
        report,
        "--report-token",
        "t",
    ]);
    assert_eq!(both.code, 2);
    let limit = cli.run(&[
        "--json",
        "reconcile",
        "show",
        &id.to_string(),
        "--limit",
        "0",
    ]);
    assert_eq!(limit.code, 2);
    assert_eq!(limit.json()["error"]["code"], "limit.out_of_range");
    let date = cli.run(&[
        "--json",
        "reconcile",
        "--profile",
        "shop",
        "--report",
        report,
        "--from",
        "01/11/2026",
    ]);
    assert_eq!(date.code, 2);
    assert_eq!(date.json()["error"]["code"], "date.invalid");
    let missing = cli.run(&["--json", "reconcile", "show", "999"]);
    assert_eq!(missing.code, 4);
    assert_eq!(missing.json()["error"]["code"], "not_found");
    let profile = cli.run(&[
        "--json",
        "reconcile",
        "--profile",
        "nope",
        "--report",
        report,
    ]);
    assert_eq!(profile.code, 4);
}

/// `--report-token`: the report is downloaded from Ottu (the in-process sandbox over
/// loopback) through the report import's own download, then reconciled like a file. A
/// ledger that has none of its payments sees every row as `report_only`; accepting one
/// adds the payment. An unknown token is `report.token_expired`, and nothing is saved.
#[test]
fn reconcile_by_report_token_against_the_sandbox() {
    use daftar::import::report::ReportListRequest;
    use daftar::ottu::{ClientConfig, Credential};
    use daftar::secrets::{MemoryStore, SecretString};
    use daftar_sandbox::{Config, Sandbox};
    use std::time::Duration;

    let sandbox = Sandbox::start(Config {
        payments: 12,
        ..Config::empty()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
    let mut ledger = Ledger::with_sources(
        store,
        Arc::new(FixedClock::new(NOW_MS)),
        Arc::new(SequentialKeys::new()),
        "test:reconcile",
    )
    .with_secret_store(Arc::new(MemoryStore::new()));
    ledger
        .add_profile("ottu", sandbox.base_url(), "KWD")
        .unwrap();
    ledger
        .set_key(
            "ottu",
            Credential::ApiKey(SecretString::from(sandbox.api_key().to_string())),
        )
        .unwrap();
    let list = ledger
        .report_list(&ReportListRequest {
            profile: "ottu".into(),
            from: None,
            to: None,
        })
        .unwrap();
    let token = list
        .reports
        .iter()
        .filter(|r| {
            r.format
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case("csv"))
        })
        .filter(|r| r.token.is_some())
        .max_by_key(|r| r.rows.unwrap_or(0))
        .and_then(|r| r.token.clone())
        .expect("a CSV report listed");
    let quick = ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
    };
    let run = |ledger: &Ledger, token: &str| {
        ledger
            .reconcile_job(ReconcileRequest {
                profile: "ottu".into(),
                report_token: Some(token.to_string()),
                ..ReconcileRequest::default()
            })
            .unwrap()
            .with_client_config(quick)
            .run(&mut |_| {})
    };
    let s = run(&ledger, &token).unwrap();
    assert_eq!(s.source, format!("token:{token}"));
    assert_eq!(s.rejected_count, 0, "{:?}", s.rejected);
    assert!(s.report_rows > 0);
    assert_eq!(s.classes.len(), 1, "{:?}", s.classes);
    assert_eq!(s.classes[0].class, MatchClass::ReportOnly);
    assert_eq!(s.classes[0].count, s.report_rows);

    let item = ledger
        .reconcile_items(&ReconcileItemQuery {
            id: s.id,
            limit: Some(1),
            ..ReconcileItemQuery::default()
        })
        .unwrap()
        .items
        .remove(0);
    ledger
        .reconcile_decide(&ReconcileDecision {
            item: item.id,
            decision: "accept".into(),
            reason: None,
        })
        .unwrap();
    let added = ledger
        .show_payment(&PaymentLookup::session_id(item.session_id.clone().unwrap()))
        .unwrap();
    assert_eq!(
        Some(added.amount),
        item.report
            .as_ref()
            .and_then(|r| r["amount"].as_str().map(str::to_string))
    );

    let unknown = run(&ledger, "00000000-0000-0000-0000-000000000000").unwrap_err();
    assert_eq!(unknown.code(), "report.token_expired");
    assert_eq!(ledger.reconciliations(None).unwrap().len(), 1);
}
