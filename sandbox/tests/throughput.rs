//! Throughput on loopback with no faults: the sandbox must sustain at least 5,000 operations
//! per second, each committed before its answer. Ignored by default (it measures, and a debug
//! build or a busy machine measures something else); run it with
//! `cargo test -p daftar-sandbox --release --test throughput -- --ignored --nocapture`.

mod common;

use std::time::Instant;

use common::Harness;
use daftar_sandbox::{Config, NewPayment};
use serde_json::json;

const PAYMENTS: usize = 500;
const WORKERS: usize = 16;
const OPERATIONS_PER_WORKER: usize = 1_500;
const REQUIRED_PER_SECOND: f64 = 5_000.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run in release with --ignored"]
async fn sustains_five_thousand_operations_per_second_in_memory() {
    measure(Config::empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run in release with --ignored"]
async fn sustains_five_thousand_operations_per_second_on_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    measure(Config {
        state_path: Some(dir.path().join("throughput.sqlite")),
        ..Config::empty()
    })
    .await;
}

async fn measure(config: Config) {
    let h = Harness::start(config);
    let ids: Vec<String> = (0..PAYMENTS)
        .map(|_| h.add(NewPayment::paid("100000.000")).session_id)
        .collect();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let client = h.client.clone();
        let url = h.url(common::OPERATION);
        let auth = h.sandbox.api_key_header();
        let ids = ids.clone();
        tasks.spawn(async move {
            for i in 0..OPERATIONS_PER_WORKER {
                let session_id = &ids[(worker * OPERATIONS_PER_WORKER + i) % ids.len()];
                let response = client
                    .post(&url)
                    .header("Authorization", &auth)
                    .header("Tracking-Key", format!("tp-{worker}-{i}"))
                    .json(&json!({ "operation": "refund", "session_id": session_id, "amount": "0.001" }))
                    .send()
                    .await
                    .expect("request sent");
                assert_eq!(response.status().as_u16(), 200);
                response.bytes().await.expect("body read");
            }
        });
    }
    tasks.join_all().await;
    let elapsed = started.elapsed();
    let total = WORKERS * OPERATIONS_PER_WORKER;
    let per_second = total as f64 / elapsed.as_secs_f64();
    println!("{total} operations in {elapsed:?}: {per_second:.0} operations/s");
    let state = h.sandbox.state().unwrap();
    assert_eq!(state.operations.len(), total);
    assert!(
        per_second >= REQUIRED_PER_SECOND,
        "{per_second:.0} operations/s is below {REQUIRED_PER_SECOND}"
    );
}
