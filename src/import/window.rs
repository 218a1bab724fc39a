//! Reading payments from Ottu a few at a time, in input order, for `import` and `refresh`.
//!
//! The input is pulled lazily from a [`Sink`], so only a window of ids is ever held: memory
//! does not grow with the input. Results are handed back in input order, which makes the
//! point where a run stopped exact: everything before it was handled, nothing after it was.
//!
//! The run stops, keeping what was handled before, at:
//! - a refused credential (401/403): the first request goes alone, so a wrong key costs one
//!   request, not one per id;
//! - Ottu unreachable (no network);
//! - an answer that is not Ottu's (a redirect, an HTML 404 page...): the profile's base URL
//!   leads elsewhere, and every other id would get the same answer;
//! - [`IMPORT_MAX_CONSECUTIVE_UNAVAILABLE`] ids in a row that Ottu did not answer (5xx,
//!   timeouts, broken connections, throttling), each already retried;
//! - the cancel flag (Ctrl-C): requests in flight are abandoned (reads have no effect at Ottu).
//!
//! Writing is the sink's: it is asked to flush when its oldest unwritten result is
//! [`IMPORT_BATCH_MAX_MS`] old (even while a request hangs), and once at the end. A write
//! that fails stops the run and is not tried again: the ledger is locked or broken, and a
//! second try would only wait out the busy timeout again.
//!
//! The requests run as tasks on a tokio runtime; the caller's thread owns the ledger and
//! waits for answers on a plain channel (never `Handle::block_on`), so a run works on any
//! thread that is not one of the runtime's own: a CLI's main thread, or a blocking-pool
//! thread of the caller's runtime ([`crate::import::ImportJob::run_async`]). SQLite stays on
//! that thread.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;

use crate::limits::{
    IMPORT_BATCH_MAX_MS, IMPORT_CANCEL_POLL_MS, IMPORT_CONCURRENCY, IMPORT_FETCH_ATTEMPTS,
    IMPORT_MAX_CONSECUTIVE_UNAVAILABLE, IMPORT_MAX_THROTTLE_WAIT_MS, IMPORT_READ_AHEAD,
    IMPORT_RETRY_BASE_MS,
};
use crate::model::SessionId;
use crate::ottu::{FetchError, OttuClient, PaymentDetails};

/// Why a run stopped before the end of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Ottu refused the credential (401) or a permission (403).
    Auth,
    /// Ottu could not be reached (no network, server down).
    Offline,
    /// What answered is not Ottu (a redirect, an HTML or text 4xx page): the profile's base
    /// URL, or a proxy or captive portal on the way.
    NotOttu,
    /// Ottu stopped answering (5xx, timeouts, broken connections) for many ids in a row.
    Unavailable,
    /// Ctrl-C (the cancel flag).
    Interrupted,
    /// The input file could not be read further.
    Unreadable,
    /// The ledger could not be written.
    Ledger,
}

/// What stopped a run, with the error code the CLI reports it under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopCause {
    pub reason: StopReason,
    pub code: &'static str,
    pub message: String,
}

impl StopCause {
    pub fn new(reason: StopReason, code: &'static str, message: impl Into<String>) -> StopCause {
        StopCause {
            reason,
            code,
            message: message.into(),
        }
    }

    fn of(error: &FetchError) -> Option<StopCause> {
        let (reason, code) = match error {
            FetchError::Auth { .. } => (StopReason::Auth, "ottu.auth"),
            FetchError::Offline { .. } => (StopReason::Offline, "ottu.offline"),
            FetchError::NotOttu { .. } => (StopReason::NotOttu, "ottu.not_ottu"),
            _ => return None,
        };
        Some(StopCause::new(reason, code, error.to_string()))
    }
}

/// The next piece of input.
pub enum Next<T> {
    /// Read this payment from Ottu.
    Fetch {
        item: T,
        id: SessionId,
    },
    /// Nothing to fetch (e.g. a line that is not a session id); handed back in order.
    Skip(T),
    End,
}

/// The two ends of a run: where the ids come from and where the answers go.
pub trait Sink {
    type Item;
    /// The next piece of input; an error stops the run after what was read before.
    fn next(&mut self) -> Result<Next<Self::Item>, StopCause>;
    fn skipped(&mut self, item: Self::Item);
    /// An answer, in input order. Auth, offline and not-Ottu errors never reach here: they
    /// stop the run. An error (a write that failed) stops it too.
    fn fetched(
        &mut self,
        item: Self::Item,
        result: Result<PaymentDetails, FetchError>,
    ) -> Result<(), StopCause>;
    /// When the oldest result not yet written arrived, if any.
    fn unwritten_since(&self) -> Option<Instant>;
    /// Writes what arrived so far.
    fn flush(&mut self) -> Result<(), StopCause>;
}

type Answer = Result<PaymentDetails, FetchError>;

enum Slot<T> {
    /// Sent to the dispatcher; its answer comes back tagged with `seq`.
    Fetch {
        item: T,
        seq: u64,
    },
    Skip(T),
}

enum Waited {
    /// Boxed: an answer is far larger than the other variants.
    Done(Box<Answer>),
    FlushDue,
    Cancelled,
}

/// Runs the sink's input through Ottu. Returns where it stopped early (`None` for the item
/// when the stop is not tied to one, e.g. a failed write or an unreadable file), or `None`
/// when the input was used up. The sink has been flushed either way, except after a write
/// that failed: that batch is reported lost, not written again.
///
/// Blocks this thread while it waits (never inside the runtime: the waits are on a plain
/// channel with a timeout, so `runtime` may be the caller's own as long as this thread is
/// not one of its workers).
pub fn run<S: Sink>(
    runtime: &Handle,
    client: &OttuClient,
    cancel: &AtomicBool,
    sink: &mut S,
) -> Option<(StopCause, Option<S::Item>)> {
    // Ids sent or skipped, not yet handed back, in input order.
    let mut window: VecDeque<Slot<S::Item>> = VecDeque::new();
    // The requests go to a dispatcher on the runtime, which sends them in this order, a few
    // at a time; it keeps sending while this thread writes a batch. Answers come back on
    // one plain channel, tagged with their place in the input; those that arrive before
    // their turn wait in `arrived` (at most the window's size).
    let (requests, queue) = mpsc::channel(IMPORT_READ_AHEAD);
    let (answered, answers) = std_mpsc::channel();
    // Dropped when the run ends: the dispatcher then stops and aborts what is in flight.
    let (stop, stopped) = oneshot::channel::<()>();
    runtime.spawn(dispatch(client.clone(), queue, answered, stopped));
    let mut arrived: HashMap<u64, Answer> = HashMap::new();
    let mut next_seq = 0u64;
    // Requests in the window. The first goes alone: a refused key or an unreachable Ottu
    // then costs one request.
    let mut fetches = 0usize;
    let mut limit = 1usize;
    let mut input_done = false;
    let mut input_error = None;
    let mut unanswered_in_a_row = 0usize;
    // A write that failed is not tried again at the end: the ledger is locked or broken,
    // and a second try would wait out the busy timeout again for the same answer.
    let mut write_failed = false;
    let stopped = loop {
        while !input_done && window.len() < IMPORT_READ_AHEAD && fetches < limit {
            match sink.next() {
                Ok(Next::Fetch { item, id }) => {
                    let seq = next_seq;
                    next_seq += 1;
                    // Never full: the window holds at most as many requests as it has room.
                    // Closed only if the dispatcher died: the wait then says so.
                    let _ = requests.try_send((seq, id));
                    window.push_back(Slot::Fetch { item, seq });
                    fetches += 1;
                }
                Ok(Next::Skip(item)) => window.push_back(Slot::Skip(item)),
                Ok(Next::End) => input_done = true,
                Err(cause) => {
                    input_done = true;
                    input_error = Some(cause);
                }
            }
        }
        let Some(slot) = window.pop_front() else {
            break input_error.map(|cause| (cause, None));
        };
        let (item, seq) = match slot {
            Slot::Skip(item) if cancel.load(Ordering::SeqCst) => {
                break Some((interrupted(), Some(item)));
            }
            Slot::Skip(item) => {
                sink.skipped(item);
                continue;
            }
            Slot::Fetch { item, seq } => (item, seq),
        };
        let flush_at = sink
            .unwritten_since()
            .map(|since| since + Duration::from_millis(IMPORT_BATCH_MAX_MS));
        match wait_for(seq, &answers, &mut arrived, cancel, flush_at) {
            Waited::Cancelled => break Some((interrupted(), Some(item))),
            Waited::FlushDue => {
                window.push_front(Slot::Fetch { item, seq });
                if let Err(cause) = sink.flush() {
                    write_failed = true;
                    break Some((cause, None));
                }
            }
            Waited::Done(result) => {
                let result = *result;
                fetches -= 1;
                if let Some(cause) = result.as_ref().err().and_then(StopCause::of) {
                    break Some((cause, Some(item)));
                }
                if matches!(
                    result,
                    Err(FetchError::Unavailable { .. } | FetchError::Throttled { .. })
                ) {
                    unanswered_in_a_row += 1;
                    if unanswered_in_a_row >= IMPORT_MAX_CONSECUTIVE_UNAVAILABLE {
                        let why = result.err().map(|e| e.to_string()).unwrap_or_default();
                        break Some((
                            StopCause::new(
                                StopReason::Unavailable,
                                "ottu.unavailable",
                                format!(
                                    "Ottu answered none of the last {unanswered_in_a_row} requests ({why})"
                                ),
                            ),
                            Some(item),
                        ));
                    }
                } else {
                    unanswered_in_a_row = 0;
                }
                // Ottu answered and the key is good: now the whole window.
                limit = IMPORT_READ_AHEAD;
                if let Err(cause) = sink.fetched(item, result) {
                    write_failed = true;
                    break Some((cause, None));
                }
            }
        }
    };
    // Ends the dispatcher, which aborts the requests still in flight: what was read ahead
    // is abandoned (a read has no effect at Ottu).
    drop(stop);
    drop(requests);
    drop(window);
    if write_failed {
        return stopped;
    }
    match sink.flush() {
        Ok(()) => stopped,
        // The write failed: that matters more than why the run stopped (if it did).
        Err(cause) => Some((cause, None)),
    }
}

/// Waits on this thread for the answer tagged `seq`, the cancel flag, or the time the
/// sink's oldest unwritten answer is due to be written, whichever comes first (in that
/// order of precedence). Polls the flag every [`IMPORT_CANCEL_POLL_MS`]: it is set from a
/// signal handler or another thread, and an atomic load is all it costs.
fn wait_for(
    seq: u64,
    answers: &std_mpsc::Receiver<(u64, Answer)>,
    arrived: &mut HashMap<u64, Answer>,
    cancel: &AtomicBool,
    flush_at: Option<Instant>,
) -> Waited {
    let poll = Duration::from_millis(IMPORT_CANCEL_POLL_MS);
    loop {
        if cancel.load(Ordering::SeqCst) {
            return Waited::Cancelled;
        }
        if let Some(answer) = arrived.remove(&seq) {
            return Waited::Done(Box::new(answer));
        }
        let now = Instant::now();
        let wait = match flush_at {
            Some(at) if at <= now => return Waited::FlushDue,
            Some(at) => (at - now).min(poll),
            None => poll,
        };
        match answers.recv_timeout(wait) {
            Ok((tag, answer)) => {
                arrived.insert(tag, answer);
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            // The dispatcher and every request are gone (the runtime shut down): no answer
            // is coming for this one.
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                return Waited::Done(Box::new(Err(FetchError::Unavailable {
                    reason: "the request was dropped before it was answered".to_string(),
                })));
            }
        }
    }
}

/// Sends the requests in the order they come, at most [`IMPORT_CONCURRENCY`] at a time,
/// each answer back tagged with its `seq`. Ends when the run drops `stop` (or its request
/// sender); the requests still running are then aborted (dropping the `JoinSet` aborts its
/// tasks), and requests queued but not sent are never sent.
async fn dispatch(
    client: OttuClient,
    mut queue: mpsc::Receiver<(u64, SessionId)>,
    answered: std_mpsc::Sender<(u64, Answer)>,
    mut stop: oneshot::Receiver<()>,
) {
    let permits = Arc::new(Semaphore::new(IMPORT_CONCURRENCY));
    let mut running = JoinSet::new();
    loop {
        let (seq, id) = tokio::select! {
            biased;
            _ = &mut stop => return,
            next = queue.recv() => match next {
                Some(next) => next,
                None => return,
            },
        };
        while running.try_join_next().is_some() {}
        let permit = tokio::select! {
            biased;
            _ = &mut stop => return,
            // The semaphore is never closed.
            Ok(permit) = Arc::clone(&permits).acquire_owned() => permit,
            else => return,
        };
        let client = client.clone();
        let answered = answered.clone();
        running.spawn(async move {
            let answer = fetch(&client, &id).await;
            drop(permit);
            // Never blocks (unbounded); fails only once the run has ended.
            let _ = answered.send((seq, answer));
        });
    }
}

fn interrupted() -> StopCause {
    // The caller's cancel (Ctrl-C in the CLI, a Cancel button in the app): core text names
    // neither.
    StopCause::new(StopReason::Interrupted, "interrupted", "cancelled")
}

/// One retrieve, retried when Ottu did not answer (safe: a read changes nothing).
async fn fetch(client: &OttuClient, id: &SessionId) -> Answer {
    let mut attempt = 1u32;
    loop {
        let result = client.retrieve_payment(id).await;
        let backoff = Duration::from_millis(IMPORT_RETRY_BASE_MS << (attempt - 1).min(8));
        let wait = match &result {
            Err(FetchError::Unavailable { .. }) => backoff,
            Err(FetchError::Throttled { retry_after }) => retry_after
                .unwrap_or(backoff)
                .min(Duration::from_millis(IMPORT_MAX_THROTTLE_WAIT_MS)),
            _ => return result,
        };
        if attempt >= IMPORT_FETCH_ATTEMPTS {
            return result;
        }
        attempt += 1;
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ottu::{ClientConfig, Credential};
    use secrecy::SecretString;

    /// One id to fetch, a batch that is always due, and a ledger that refuses every write.
    struct LockedLedger {
        sent: bool,
        since: Instant,
        flushes: usize,
    }

    impl Sink for LockedLedger {
        type Item = ();

        fn next(&mut self) -> Result<Next<()>, StopCause> {
            if std::mem::replace(&mut self.sent, true) {
                return Ok(Next::End);
            }
            Ok(Next::Fetch {
                item: (),
                id: SessionId::parse("s-1").unwrap(),
            })
        }

        fn skipped(&mut self, (): ()) {}

        fn fetched(&mut self, (): (), _: Answer) -> Result<(), StopCause> {
            Ok(())
        }

        fn unwritten_since(&self) -> Option<Instant> {
            Some(self.since)
        }

        fn flush(&mut self) -> Result<(), StopCause> {
            self.flushes += 1;
            Err(StopCause::new(
                StopReason::Ledger,
                "store.busy",
                "the ledger could not be written: database is locked",
            ))
        }
    }

    #[test]
    fn a_failed_write_is_not_tried_again() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // Accepts connections (the backlog) and never answers: the request hangs, so the
        // due batch is written while it waits.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", silent.local_addr().unwrap());
        let config = ClientConfig::default();
        let client = OttuClient::new(
            &base,
            &Credential::ApiKey(SecretString::from("sk_test_window")),
            config,
        )
        .unwrap();
        let mut sink = LockedLedger {
            sent: false,
            // A batch already due.
            since: Instant::now() - Duration::from_millis(IMPORT_BATCH_MAX_MS),
            flushes: 0,
        };
        let stopped = run(
            runtime.handle(),
            &client,
            &AtomicBool::new(false),
            &mut sink,
        );
        let (cause, at) = stopped.expect("the run stops at the failed write");
        assert_eq!(cause.reason, StopReason::Ledger);
        assert!(at.is_none());
        // A second try would wait out the busy timeout again on a locked ledger.
        assert_eq!(sink.flushes, 1, "the failed batch was written again");
    }
}
