//! Real concurrent writers on one ledger file: refunds raced from separate processes and
//! from threads released by a barrier can never add up to more than was paid.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Barrier};

use common::Cli;
use daftar::Ledger;
use daftar::ledger::{PaymentLookup, QueueRequest};

const RACERS: usize = 12;

/// Twelve `daftar` processes each try to refund 3.000 of a 10.000 KWD payment at the same
/// instant: exactly three may win, the rest are refused with exit 3, never a fourth.
#[test]
fn racing_processes_never_refund_more_than_was_paid() {
    let cli = Cli::new();
    let payments: Vec<String> = (0..4).map(|i| format!("race-{i}")).collect();
    cli.seed(&[]);
    for session in &payments {
        cli.ok(&[
            "payment",
            "add",
            "--profile",
            "shop",
            "--session-id",
            session,
            "--amount",
            "10",
            "--currency",
            "KWD",
            "--state",
            "paid",
        ]);
    }
    for session in &payments {
        let children: Vec<_> = (0..RACERS)
            .map(|_| {
                cli.command(&["queue", "refund", "--session-id", session, "--amount", "3"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn daftar")
            })
            .collect();
        let codes: Vec<i32> = children
            .into_iter()
            .map(|c| common::finish(c.wait_with_output().unwrap()).code)
            .collect();
        let won = codes.iter().filter(|&&c| c == 0).count();
        let refused = codes.iter().filter(|&&c| c == 3).count();
        assert_eq!(
            (won, refused),
            (3, RACERS - 3),
            "{session}: exit codes {codes:?}"
        );
        let show = cli.ok_json(&["payment", "show", session]);
        assert_eq!(show["balances"]["pending"], "9.000");
        assert_eq!(show["balances"]["refundable"], "1.000");
        assert_eq!(show["operations"].as_array().unwrap().len(), 3);
    }
}

/// Threads with their own connections, released together by a barrier, many rounds.
#[test]
fn racing_connections_never_overspend_a_payment() {
    let cli = Cli::new();
    cli.seed(&[("pay", "ord", "1", "paid")]);
    let db = Arc::new(cli.db.clone());
    let barrier = Arc::new(Barrier::new(RACERS));
    // 1.000 KWD refunded 0.007 at a time by 12 threads: 142 fit (0.994), never 143.
    let handles: Vec<_> = (0..RACERS)
        .map(|_| {
            let db = Arc::clone(&db);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut ledger = Ledger::open(&db, "thread").unwrap();
                barrier.wait();
                let mut won = 0;
                loop {
                    let result = ledger.queue(&QueueRequest {
                        kind: "refund".into(),
                        payment: PaymentLookup {
                            session_id: Some("pay".into()),
                            ..PaymentLookup::default()
                        },
                        amount: Some("0.007".into()),
                        reason: None,
                    });
                    match result {
                        Ok(_) => won += 1,
                        Err(e) => {
                            assert_eq!(e.code(), "rules.refund_exceeds", "{e}");
                            return won;
                        }
                    }
                }
            })
        })
        .collect();
    let won: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(won, 142);
    let show = cli.ok_json(&["payment", "show", "pay"]);
    assert_eq!(show["balances"]["pending"], "0.994");
    assert_eq!(show["balances"]["refundable"], "0.006");
}
