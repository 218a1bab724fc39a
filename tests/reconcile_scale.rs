//! Reconciliation at scale: a ledger of N payments (default 1,000,000; `RECONCILE_ROWS`)
//! against an N-row report, timed. Ignored by default (minutes in a debug build); run it
//! in release: `cargo test --release --test reconcile_scale -- --ignored --nocapture`.
//! The benchmark of record is BENCH's (`benches/`); this one checks the result too.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use daftar::Ledger;
use daftar::reconcile::{MatchClass, ReconcileRequest};
use daftar::sources::{FixedClock, SequentialKeys};
use daftar::store::Store;

/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200_000;

#[test]
#[ignore = "scale run: minutes in a debug build; run in release with --ignored"]
fn a_million_ledger_rows_against_a_million_row_report() {
    let n: i64 = std::env::var("RECONCILE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
    let mut ledger = Ledger::with_sources(
        store,
        Arc::new(FixedClock::new(NOV_1 + 40 * 86_400_000)),
        Arc::new(SequentialKeys::new()),
        "test:scale",
    );
    ledger
        .add_profile("shop", "https://shop.ottu.net", "KWD")
        .unwrap();
    let started = Instant::now();
    {
        let conn = ledger.store().connection();
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO payments (profile_id, session_id, order_no, amount_minor,
                     currency, state, source, created_at_ms, updated_at_ms)
                     VALUES (1, ?1, ?2, ?3, 'KWD', 'paid', 'ottu', ?4, ?4)",
                )
                .unwrap();
            let mut child = tx
                .prepare(
                    "INSERT INTO children (payment_id, kind, session_id, amount_minor, currency,
                     state, created_at_ms, updated_at_ms)
                     VALUES (?1, 'refund', ?2, 500, 'KWD', 'refunded', ?3, ?3)",
                )
                .unwrap();
            for i in 0..n {
                let created = NOV_1 + (i % 29) * 86_400_000 + i % 86_400_000;
                insert
                    .execute(rusqlite::params![
                        format!("s{i:08}"),
                        format!("ORD-{i:08}"),
                        1_000 + i % 1_000,
                        created
                    ])
                    .unwrap();
                if i % 10 == 0 {
                    let id = tx.last_insert_rowid();
                    child
                        .execute(rusqlite::params![id, format!("c{i:08}"), created])
                        .unwrap();
                }
            }
        }
        tx.commit().unwrap();
    }
    eprintln!("ledger of {n} built in {:?}", started.elapsed());
    // The report: the same payments, with every 100th amount different, every 1000th
    // missing (ledger_only) and as many new ones (report_only); refund child rows.
    let path = dir.path().join("report.csv");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(
            out,
            "session_id,order_no,parent_session_id,operation,amount,currency,state,created"
        )
        .unwrap();
        for i in 0..n {
            if i % 1000 == 999 {
                writeln!(
                    out,
                    "new{i:08},NEW-{i:08},,purchase,1.000,KWD,paid,2026-11-05 10:00:00"
                )
                .unwrap();
                continue;
            }
            let minor = 1_000 + i % 1_000 + if i % 100 == 7 { 1 } else { 0 };
            let day = 1 + (i % 29);
            writeln!(
                out,
                "s{i:08},ORD-{i:08},,purchase,{}.{:03},KWD,paid,2026-11-{day:02} 12:00:00",
                minor / 1000,
                minor % 1000
            )
            .unwrap();
            if i % 10 == 0 {
                writeln!(
                    out,
                    "c{i:08},,s{i:08},refund,0.500,KWD,refunded,2026-11-{day:02} 13:00:00"
                )
                .unwrap();
            }
        }
    }
    let started = Instant::now();
    let job = ledger
        .reconcile_job(ReconcileRequest {
            profile: "shop".into(),
            report: Some(path),
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            ..ReconcileRequest::default()
        })
        .unwrap();
    let mut phases = Vec::new();
    let summary = job
        .run(&mut |p| {
            if phases.last().map(|(ph, _)| *ph) != Some(p.phase) {
                phases.push((p.phase, started.elapsed()));
            }
        })
        .unwrap();
    let elapsed = started.elapsed();
    eprintln!("reconciled {n} vs {n} in {elapsed:?}; phases began at {phases:?}");
    let count = |class: MatchClass| -> u64 {
        summary
            .classes
            .iter()
            .filter(|c| c.class == class)
            .map(|c| c.count)
            .sum()
    };
    let missing = (n / 1000) as u64;
    let amount = (0..n).filter(|i| i % 100 == 7 && i % 1000 != 999).count() as u64;
    assert_eq!(count(MatchClass::ReportOnly), missing);
    assert_eq!(count(MatchClass::LedgerOnly), missing);
    assert_eq!(count(MatchClass::AmountDiffers), amount);
    assert_eq!(count(MatchClass::Matched), n as u64 - missing - amount);
    assert_eq!(summary.outside_period, 0);
}
