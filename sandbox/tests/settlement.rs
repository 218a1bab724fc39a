//! The acquirer's settlement file: one line per paid payment (its reference number, 1.5% fee,
//! 1 to 3 business days later, never on Kuwait's Friday/Saturday weekend), refunds negative,
//! one line that matches nothing, the newest paid payment left unsettled; the same file from
//! the function, from `GET /_sandbox/settlement` and from `daftar-sandbox settlement`.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::Harness;
use daftar_sandbox::settlement::{
    SETTLEMENT_CSV_HEADER, SettledWhat, UNKNOWN_ORDER_NO, add_business_days, fee_for, is_weekend,
};
use daftar_sandbox::{ChildState, Config, OperationKind, PaymentState, Sandbox};
use time::Date;
use time::macros::format_description;

fn day(text: &str) -> Date {
    Date::parse(text, format_description!("[year]-[month]-[day]")).unwrap()
}

fn seeded(state_path: Option<std::path::PathBuf>) -> Config {
    Config {
        payments: 80,
        varied_gateways: false,
        state_path,
        ..Config::default()
    }
}

#[test]
fn settles_paid_payments_and_refunds_with_fees_and_lag() {
    let sandbox = Sandbox::start(seeded(None)).unwrap();
    let state = sandbox.state().unwrap();
    let file = sandbox.settlement_file().unwrap();
    assert_eq!(file, sandbox.settlement_file().unwrap(), "deterministic");

    let by_session: HashMap<&str, _> = state
        .payments
        .iter()
        .map(|p| (p.session_id.as_str(), p))
        .collect();
    let paid: Vec<_> = state
        .payments
        .iter()
        .filter(|p| !p.deleted && matches!(p.state, PaymentState::Paid | PaymentState::Refunded))
        .collect();
    let refunds: Vec<_> = state
        .payments
        .iter()
        .filter(|p| !p.deleted)
        .flat_map(|p| &p.children)
        .filter(|c| c.operation == OperationKind::Refund && c.state == ChildState::Refunded)
        .collect();
    assert!(refunds.len() >= 2, "the seed has refunds to settle");

    // The newest paid payment is the one left unsettled.
    let unsettled = file.unsettled.clone().expect("one paid payment unsettled");
    let newest = paid
        .iter()
        .filter(|p| p.state == PaymentState::Paid)
        .max_by_key(|p| (&p.created, &p.session_id))
        .unwrap();
    assert_eq!(unsettled, newest.session_id);

    let mut payments_seen = 0;
    let mut refunds_seen = 0;
    let mut captures_seen = 0;
    // Paid captures of authorizations (not of paid payments: their line covers them).
    let captures: Vec<_> = state
        .payments
        .iter()
        .filter(|p| !p.deleted && !matches!(p.state, PaymentState::Paid | PaymentState::Refunded))
        .flat_map(|p| &p.children)
        .filter(|c| c.operation == OperationKind::Capture && c.state == ChildState::Paid)
        .collect();
    let mut unknown = 0;
    let mut lags = [0usize; 4];
    for line in &file.lines {
        let settled_on = day(&line.settled_on);
        assert!(!is_weekend(settled_on), "{line:?} settles on a weekend");
        match &line.what {
            SettledWhat::Payment(session) => {
                payments_seen += 1;
                let p = by_session[session.as_str()];
                assert_ne!(session, &unsettled);
                assert_eq!(line.reference, p.reference_number, "RRN = reference number");
                assert!(line.reference.starts_with("SBX"));
                assert_eq!(line.order_no, p.order_no);
                assert_eq!(line.amount_minor, p.amount_minor);
                assert_eq!(line.fee_minor, (p.amount_minor * 15 + 500) / 1000);
                assert_eq!(line.net_minor, line.amount_minor - line.fee_minor);
                assert_eq!(line.currency, p.currency_code);
                assert!((1..=3).contains(&line.lag_days));
                lags[line.lag_days as usize] += 1;
                assert_eq!(
                    add_business_days(day(&p.created[..10]), line.lag_days),
                    settled_on
                );
            }
            SettledWhat::Refund(session) => {
                refunds_seen += 1;
                let c = refunds.iter().find(|c| &c.session_id == session).unwrap();
                assert_eq!(line.reference, c.reference_number);
                assert_eq!(line.amount_minor, -c.amount_minor, "refunds are negative");
                assert_eq!((line.fee_minor, line.net_minor), (0, line.amount_minor));
                assert_eq!(
                    add_business_days(day(&c.created[..10]), line.lag_days),
                    settled_on
                );
                assert_eq!(
                    line.order_no,
                    by_session[c.parent_session_id.as_str()].order_no
                );
            }
            SettledWhat::Capture(session) => {
                captures_seen += 1;
                let c = captures.iter().find(|c| &c.session_id == session).unwrap();
                assert_eq!(line.reference, c.reference_number);
                assert_eq!(line.amount_minor, c.amount_minor);
                assert_eq!(line.fee_minor, fee_for(c.amount_minor));
                assert_eq!(
                    add_business_days(day(&c.created[..10]), line.lag_days),
                    settled_on
                );
            }
            SettledWhat::Unknown => {
                unknown += 1;
                assert_eq!(line.order_no.as_deref(), Some(UNKNOWN_ORDER_NO));
                assert!(state.payments.iter().all(|p| {
                    p.reference_number != line.reference
                        && p.children
                            .iter()
                            .all(|c| c.reference_number != line.reference)
                }));
                assert_eq!(line.fee_minor, fee_for(line.amount_minor));
            }
        }
    }
    assert_eq!(payments_seen, paid.len() - 1);
    assert_eq!(refunds_seen, refunds.len());
    assert_eq!(captures_seen, captures.len());
    assert_eq!(unknown, 1);
    assert!(
        lags[1] > 0 && lags[2] > 0 && lags[3] > 0,
        "every lag occurs: {lags:?}"
    );

    // The CSV says the same as the lines.
    let mut reader = csv::Reader::from_reader(file.bytes.as_slice());
    assert_eq!(reader.headers().unwrap(), SETTLEMENT_CSV_HEADER);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), file.lines.len());
    let refund_record = records
        .iter()
        .find(|r| r[2].starts_with('-'))
        .expect("a negative refund line");
    assert!(
        refund_record[3].bytes().all(|b| b == b'0' || b == b'.'),
        "no fee on a refund: {refund_record:?}"
    );
    assert_eq!(refund_record[2], refund_record[4], "net = amount");
    let first = &records[0];
    let line = &file.lines[0];
    assert_eq!(&first[1], line.reference);
    assert_eq!(&first[6], line.settled_on);
}

#[test]
fn reachable_over_http_and_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("ottu.sqlite");
    let h = Harness::start(seeded(Some(state_path.clone())));
    let expected = h.sandbox.settlement_file().unwrap();
    let over_http = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let response = h
                .client
                .get(h.url("/_sandbox/settlement"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert!(
                response.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .contains(&expected.file_name)
            );
            response.bytes().await.unwrap().to_vec()
        });
    assert_eq!(over_http, expected.bytes);
    drop(h);

    let out = dir.path().join("settlement.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_daftar-sandbox"))
        .args(["settlement", "--state"])
        .arg(&state_path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), expected.bytes);

    let missing = Command::new(env!("CARGO_BIN_EXE_daftar-sandbox"))
        .args(["settlement", "--state"])
        .arg(dir.path().join("nope.sqlite"))
        .args(["--out", "-"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(!dir.path().join("nope.sqlite").exists(), "nothing created");
}
