//! The outbox worker: sends the queue to Ottu exactly once per operation.
//!
//! 1. Claim: in one transaction, mark the next due operations `in_flight` (attempt + 1)
//!    before any byte is sent.
//! 2. Send with the operation's own Tracking-Key on every attempt: Ottu answers a repeat
//!    with the original's result, so a retry after a crash or timeout never acts twice.
//! 3. Record the outcome (and the child Ottu created) in one transaction with its event.
//! 4. On start, every `in_flight` operation is an unknown outcome: it is queued again and
//!    resent with its key.
//!
//! Operations on one payment go in queue order; a refusal or an unknown outcome holds the
//! later ones (`blocked`) until the merchant decides. Different payments go in parallel.

mod backoff;
mod outcome;
mod record;
mod service;
mod worker;

use serde::Serialize;

pub use service::{
    ProfileSyncStatus, Stopped, SyncHandle, SyncService, SyncServiceConfig, SyncStatus,
};
pub use worker::{SyncDeps, run};

use crate::error::Params;
use crate::limits::{
    SYNC_DEFAULT_CONCURRENCY, SYNC_HELD_PROFILE_RETRY_MS, SYNC_MAX_UNKNOWN_ATTEMPTS,
    SYNC_WATCH_POLL_MS,
};
use crate::model::{OperationKind, OperationStatus};

/// How long the worker keeps going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Until nothing more can be done now: the queue is drained, or what is left waits for
    /// the network, the merchant, or a long backoff.
    Once,
    /// Keep running and pick up new work until cancelled.
    Watch,
}

#[derive(Clone, Debug)]
pub struct SyncOptions {
    pub profile: Option<String>,
    pub mode: SyncMode,
    /// Operations in flight at once: 1 to `SYNC_MAX_CONCURRENCY`; anything else is refused.
    pub concurrency: usize,
    pub max_unknown_attempts: u32,
    /// How long a profile that cannot be sent (no credential on this machine, an answer
    /// that was not Ottu's) is left out before `--watch` looks again. Tests shorten it.
    pub held_retry_ms: u64,
    /// Watch mode: how often an idle worker looks for work another process queued. The
    /// sync service is woken by its caller instead, and polls far less often.
    pub poll_ms: u64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            profile: None,
            mode: SyncMode::Once,
            concurrency: SYNC_DEFAULT_CONCURRENCY,
            max_unknown_attempts: SYNC_MAX_UNKNOWN_ATTEMPTS,
            held_retry_ms: SYNC_HELD_PROFILE_RETRY_MS,
            poll_ms: SYNC_WATCH_POLL_MS,
        }
    }
}

/// Progress, as the worker reports it (the CLI draws a bar, the desktop app shows events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// Operations queued or in flight of profiles neither paused nor held: sent at start
    /// and again whenever the number changes (an outcome recorded, work queued, a profile
    /// paused, held or resumed).
    Outstanding {
        total: u64,
    },
    /// `in_flight` operations from a stopped run, queued again to resend with their keys.
    Recovered {
        count: u64,
    },
    Sent {
        id: i64,
        attempt: u32,
    },
    Recorded(OperationOutcomeView),
    /// Ottu could not be reached for `profile`: its work waits (other profiles go on),
    /// probed again in `retry_in_ms`. Sent when it goes offline and after each failed probe.
    Offline {
        retry_in_ms: u64,
        profile: String,
    },
    /// Ottu answered for `profile` (its first answer in this run, or after being offline).
    Online {
        profile: String,
    },
    /// Sent each time a profile's queue stops: stored (Ottu refused the credential) or
    /// for this run only (held: no credential here, an answer that was not Ottu's).
    Paused {
        profile: String,
        reason: String,
        /// `reason`'s code and the values it is made from (docs/errors.md), for a UI's own
        /// words; `null` where there is none.
        code: Option<String>,
        params: Option<Params>,
    },
    /// A paused or held profile is served again (a key set, a hold that ended).
    Resumed {
        profile: String,
    },
    /// Watch mode: nothing in flight and nothing due now; `next_due_in_ms` is when the
    /// next known work becomes due (a backoff), `null` when the queue is empty.
    Idle {
        next_due_in_ms: Option<u64>,
    },
    /// A store call failed (e.g. the ledger is locked by another writer; watching, also
    /// the OS keyring unreachable, `secrets.unavailable`): nothing of that turn was written,
    /// answers received are kept, and it is tried again in `retry_in_ms`.
    StoreError {
        code: String,
        message: String,
        /// The values `message` is made from.
        params: Params,
        retry_in_ms: u64,
    },
    Finished(SyncSummary),
}

/// A profile's state as the running worker sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Not sent to yet in this run.
    Unknown,
    Online,
    Offline,
    /// Ottu refused the credential: stored, until a key is set.
    Paused,
    /// Left out for a while in this run (no credential here, an answer not Ottu's).
    Held,
}

/// What one attempt ended in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct OperationOutcomeView {
    pub id: i64,
    pub kind: OperationKind,
    pub session_id: String,
    pub profile: String,
    pub attempt: u32,
    /// The operation's status after the attempt.
    pub status: OperationStatus,
    pub detail: String,
    /// `detail`'s code and the values it is made from (docs/errors.md), for a UI's own
    /// words; `null` for a success (its detail is Ottu's own text).
    pub code: Option<String>,
    pub params: Option<Params>,
    /// When it will be tried again, for one sent back to the queue.
    pub retry_in_ms: Option<u64>,
}

/// What a run achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncSummary {
    pub succeeded: u64,
    pub failed: u64,
    pub needs_attention: u64,
    /// Operations held behind a refusal or an unknown outcome during this run.
    pub blocked: u64,
    /// Attempts that will be retried (5xx, timeouts, throttling).
    pub retried: u64,
    pub recovered: u64,
    /// Whether Ottu was unreachable when the run stopped.
    pub offline: bool,
    /// Every profile whose queue waits when the run stops, whether paused in this run or
    /// before it: (profile, reason). The same profiles as `paused_profiles`.
    pub paused: Vec<(String, String)>,
    /// Every paused profile with its reason, since when, and the work it holds.
    pub paused_profiles: Vec<PausedProfileView>,
    /// Operations still queued or in flight when the run stopped, paused profiles' included.
    pub remaining: u64,
    /// Every attempt's outcome, up to `SYNC_MAX_REPORTED_OUTCOMES` (the events carry all).
    pub outcomes: Vec<OperationOutcomeView>,
    pub outcomes_truncated: bool,
}

/// A profile whose queue waits, as `sync` and `status` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PausedProfileView {
    pub profile: String,
    pub reason: String,
    /// When the pause was stored (RFC 3339); `null` for a hold of this run only.
    pub since: Option<String>,
    /// Operations of the profile still queued or in flight.
    pub queued: u64,
    /// True when nothing was stored: a condition met in this run (no credential in this
    /// machine's keyring, an answer that was not Ottu's); the next run tries again. False:
    /// Ottu refused the credential, and `daftar profile set-key` resumes it.
    pub this_run_only: bool,
}
