//! The single writer: one thread owns the SQLite connection and runs every store job, in
//! batches. Jobs queued while a batch runs form the next batch, which runs in one
//! `BEGIN IMMEDIATE` transaction with a savepoint per job (a failing job rolls back alone);
//! one COMMIT makes the whole batch durable, and only then does any job's caller get its
//! answer. That is group commit: under concurrent load many operations share one commit,
//! and still no answer leaves before its effect is on disk.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::clock::{EpochMs, SandboxClock};
use crate::engine::{Env, InquiryWindow};
use crate::store::{Db, Store, StoreError};

/// At most this many jobs share a transaction (bounds the latency a batch adds).
pub const MAX_BATCH: usize = 256;

/// What a job may note for after the commit.
pub struct BatchCtx<'a> {
    pub env: Env,
    pub window: &'a mut InquiryWindow,
    queued_at: Vec<EpochMs>,
    resettle: bool,
}

impl BatchCtx<'_> {
    /// A refund was queued to settle at `at_ms`.
    pub fn note_queued(&mut self, at_ms: EpochMs) {
        self.queued_at.push(at_ms);
    }

    /// Queued refunds were settled out of turn: recompute when the next one is due.
    pub fn note_resettled(&mut self) {
        self.resettle = true;
    }
}

/// Called once the batch's COMMIT is done, with its error if it failed.
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// Runs inside the batch transaction; says whether it succeeded (else its savepoint is rolled
/// back) and how to answer after the commit.
type Job = Box<dyn FnOnce(&Db<'_>, &mut BatchCtx<'_>) -> (bool, Completion) + Send>;

/// The handle the rest of the sandbox submits jobs through.
pub struct Writer {
    sender: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn start(
        store: Store,
        clock: Arc<SandboxClock>,
        seed: u64,
        settle_after_ms: u64,
    ) -> std::io::Result<Writer> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("daftar-sandbox-store".to_owned())
            .spawn(move || run(store, receiver, &clock, seed, settle_after_ms))?;
        Ok(Writer {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db<'_>, &mut BatchCtx<'_>) -> Result<T, StoreError> + Send + 'static,
        done: impl FnOnce(Result<T, StoreError>) + Send + 'static,
    ) {
        let job: Job = Box::new(move |db, ctx| {
            let result = work(db, ctx);
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit_error| {
                done(match commit_error {
                    None => result,
                    Some(e) => Err(StoreError::Commit(e.to_string())),
                })
            });
            (ok, completion)
        });
        // If the writer is gone the job is dropped with its `done`: the caller sees a closed
        // channel and reports `WriterGone`.
        if let Some(sender) = &self.sender {
            let _ = sender.send(job);
        }
    }

    /// Runs `work` and waits (blocking this thread) until its batch is committed.
    pub fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db<'_>, &mut BatchCtx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(work, move |result| {
            let _ = tx.send(result);
        });
        rx.recv().unwrap_or(Err(StoreError::WriterGone))
    }

    /// Runs `work` and awaits its batch's commit.
    pub async fn call_async<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db<'_>, &mut BatchCtx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(work, move |result| {
            let _ = tx.send(result);
        });
        rx.await.unwrap_or(Err(StoreError::WriterGone))
    }
}

impl Drop for Writer {
    /// Closes the queue and waits for the writer to finish, so the state file is closed when
    /// the sandbox is.
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

fn run(
    mut store: Store,
    receiver: mpsc::Receiver<Job>,
    clock: &SandboxClock,
    seed: u64,
    settle_after_ms: u64,
) {
    let mut window = InquiryWindow::default();
    while let Ok(first) = receiver.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let env = Env {
            seed,
            settle_after_ms,
            now_ms: clock.now_ms(),
        };
        let mut ctx = BatchCtx {
            env,
            window: &mut window,
            queued_at: Vec::new(),
            resettle: false,
        };
        let (completions, committed) = store.batch(env.now_ms, |db| {
            jobs.into_iter()
                .map(|job| {
                    let savepoint = db.savepoint().is_ok();
                    let (ok, completion) = job(db, &mut ctx);
                    if savepoint {
                        let _ = if ok { db.release() } else { db.rollback_to() };
                    }
                    completion
                })
                .collect::<Vec<_>>()
        });
        if committed.is_ok() {
            for at in ctx.queued_at {
                store.note_queued(at);
            }
        }
        if ctx.resettle {
            store.refresh_settle_hint();
        }
        if let Err(e) = &committed {
            eprintln!("daftar-sandbox: a batch failed to commit: {e}");
        }
        for completion in completions.into_iter().flatten() {
            completion(committed.as_ref().err());
        }
    }
}
