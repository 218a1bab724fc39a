//! The worker loop. One thread (the caller's) owns the ledger and does every SQLite write;
//! HTTP attempts run as tokio tasks and hand their outcome back over a channel. Claims
//! and records are batched into few transactions, but an operation is always committed
//! `in_flight` before its request is built.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use super::outcome::{ChildReport, ReplyFacts, SendOutcome};
use super::record::{self, RecordContext};
use super::{PausedProfileView, SyncEvent, SyncMode, SyncOptions, SyncSummary};
use crate::connect::{self, ConnectError};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::limits::{
    SYNC_MAX_CONCURRENCY, SYNC_MAX_REPORTED_OUTCOMES, SYNC_OFFLINE_RETRY_MS, SYNC_ONCE_MAX_WAIT_MS,
    SYNC_PROFILE_CHECK_MS, SYNC_WATCH_POLL_MS,
};
use crate::model::{OperationStatus, ProfileId};
use crate::ottu::{self, ClientConfig, OperationOutcome, OperationRequest, OttuClient};
use crate::sources::{Random, format_ms};
use crate::store::outbox::{self, Claimed};
use crate::store::{self, EventInsert};

/// Where the worker's exclusive lock lives: beside the ledger's real file (symlinks and
/// `..` resolved, as SQLite resolves them to name the -wal), so every path to one ledger
/// finds the same lock and two `daftar sync` processes can never both think an `in_flight`
/// operation is theirs. A second hard link, which no path resolution can see, is refused
/// when the ledger is opened. The lock is not taken on the ledger file itself: closing any
/// other descriptor of that file would drop SQLite's own POSIX locks in this process.
fn lock_path(ledger: &mut Ledger) -> PathBuf {
    let mut path = ledger.store().real_path().as_os_str().to_owned();
    path.push(".sync-lock");
    PathBuf::from(path)
}

fn take_lock(path: PathBuf) -> Result<File> {
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        // Empty, but private like the ledger beside it.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(|e| Error::Unavailable {
        code: "sync.lock",
        message: format!("cannot create the sync lock {}: {e}", path.display()),
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(Error::Unavailable {
            code: "sync.running",
            message: format!(
                "another `daftar sync` is already running on this ledger ({}); wait for it or stop it",
                path.display()
            ),
        }),
    }
}

fn request_for(op: &Claimed) -> std::result::Result<OperationRequest, String> {
    // The session id identifies the payment uniquely; the order number is a fallback only.
    let payment = ottu::PaymentRef::Session(op.session_id.clone());
    OperationRequest::new(op.kind, payment, op.requested).map_err(|e| e.to_string())
}

/// The worker's view of the client's classification.
fn to_send_outcome(outcome: OperationOutcome) -> SendOutcome {
    match outcome {
        OperationOutcome::Succeeded { reply, raw } => SendOutcome::Succeeded {
            detail: reply.detail.clone().unwrap_or_default(),
            reference_number: reply.reference_number.clone(),
            facts: ReplyFacts {
                operation: reply.operation.clone(),
                session_id: reply.session_id.clone(),
                order_no: reply.order_no.clone(),
                amount: reply.amount.clone(),
            },
            child: reply.child.as_ref().map(|c| ChildReport {
                session_id: c.session_id.clone().unwrap_or_default(),
                amount: Some(c.amount.clone()),
                state: c.state.clone(),
                currency: Some(c.currency_code.clone()),
            }),
            raw,
        },
        OperationOutcome::Refused { reason, raw, .. } => SendOutcome::Refused { reason, raw },
        OperationOutcome::Auth {
            status,
            detail,
            permission,
        } => SendOutcome::Auth {
            reason: ottu::auth_message(status, &detail, permission.as_deref()),
        },
        OperationOutcome::RetryLater {
            reason,
            retry_after,
            offline,
            throttled,
            raw,
        } => SendOutcome::RetryLater {
            throttled,
            reason,
            retry_after_ms: retry_after.map(|d| d.as_millis() as u64),
            offline,
            raw,
        },
        OperationOutcome::Unknown { reason, raw } => SendOutcome::Unknown { reason, raw },
        OperationOutcome::NotOttu { reason, raw, .. } => SendOutcome::NotOttu { reason, raw },
    }
}

/// Carries one attempt's answer back to the loop. If the task ends without answering (a
/// panic, or the runtime shutting down), dropping it reports an unknown outcome, so the
/// loop's count of attempts in flight never waits for an answer that cannot come.
struct Reply(Option<(Claimed, mpsc::Sender<(Claimed, SendOutcome)>)>);

impl Reply {
    fn send(mut self, outcome: SendOutcome) {
        if let Some((op, tx)) = self.0.take() {
            // The receiver outlives every task: the loop waits for in_progress == 0.
            let _ = tx.send((op, outcome));
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some((op, tx)) = self.0.take() {
            let _ = tx.send((
                op,
                SendOutcome::Unknown {
                    reason: "the request task stopped before an answer was read".into(),
                    raw: String::new(),
                },
            ));
        }
    }
}

/// Everything the worker needs besides the ledger.
pub struct SyncDeps {
    pub runtime: tokio::runtime::Handle,
    pub client_config: ClientConfig,
    pub random: Arc<dyn Random>,
    /// Set to stop at the next safe point (after recording, never between send and record).
    pub cancel: Arc<AtomicBool>,
}

/// Runs the worker until the mode says stop; returns what it achieved.
pub fn run(
    ledger: &mut Ledger,
    deps: &SyncDeps,
    options: &SyncOptions,
    on_event: &mut dyn FnMut(&SyncEvent),
) -> Result<SyncSummary> {
    let concurrency = options.concurrency;
    if !(1..=SYNC_MAX_CONCURRENCY).contains(&concurrency) {
        return Err(Error::invalid(
            "concurrency",
            "sync.concurrency",
            format!(
                "concurrency {concurrency} is not allowed: give a whole number from 1 to {SYNC_MAX_CONCURRENCY}"
            ),
        ));
    }
    let _lock = take_lock(lock_path(ledger))?;
    let actor = format!("sync:{}", ledger.actor());
    let clock = ledger.clock();
    let profile = match &options.profile {
        Some(name) => Some(ledger.profile_id(name)?),
        None => None,
    };
    let mut summary = SyncSummary::default();

    let now_ms = clock.now_ms();
    let recovered = ledger.store().write(|tx| {
        lift_local_pauses(tx, now_ms, &actor, profile)?;
        let ids = outbox::recover_in_flight(tx, now_ms)?;
        record::recovered_events(tx, now_ms, &actor, &ids)?;
        Ok::<_, Error>(ids.len() as u64)
    })?;
    if recovered > 0 {
        summary.recovered = recovered;
        on_event(&SyncEvent::Recovered { count: recovered });
    }
    let total = ledger
        .store()
        .read(|tx| Ok::<_, Error>(outbox::outstanding(tx, profile, &[])?))?;
    on_event(&SyncEvent::Outstanding { total });

    let (done_tx, done_rx) = mpsc::channel::<(Claimed, SendOutcome)>();
    // Only clients that could be made: a profile that cannot be sent is looked at again
    // when its hold ends (a key set while `--watch` runs is picked up).
    let mut clients: HashMap<ProfileId, OttuClient> = HashMap::new();
    let mut paused: HashSet<ProfileId> = HashSet::new();
    // Profiles left out of this run (nothing stored): id, name, reason, and until when
    // (`--watch` looks again then: a captive portal or a proxy can clear).
    let mut held: Vec<(ProfileId, String, String, i64)> = Vec::new();
    // The OS keyring could not be read: the run stops and fails, storing nothing about
    // any profile (a condition of this machine, e.g. `daftar sync` from cron).
    let mut keyring_failure: Option<ConnectError> = None;
    let mut in_progress = 0usize;
    let mut offline_until_ms: Option<i64> = None;
    // An answer received while waiting, recorded at the top of the next turn.
    let mut early: Vec<(Claimed, SendOutcome)> = Vec::new();
    // `due_profiles` reads every due operation, so it is not run every turn (that made a
    // drain O(queue²)): on the first turn, after a turn that could claim but claimed
    // nothing, and otherwise at most every `SYNC_PROFILE_CHECK_MS`.
    let mut profiles_checked_at_ms: Option<i64> = None;
    let mut claimed_none_last_turn = false;

    loop {
        // 1. One transaction a turn: record every finished attempt, then claim what is
        //    due for the free slots. The claims are committed before any request is built.
        let mut finished = std::mem::take(&mut early);
        while let Ok(done) = done_rx.try_recv() {
            finished.push(done);
        }
        in_progress -= finished.len();
        let mut cancelled = deps.cancel.load(Ordering::SeqCst) || keyring_failure.is_some();
        let now_ms = clock.now_ms();
        let mut held_ids = held_now(&held, now_ms);
        let probing = offline_until_ms.is_some();
        let mut may_claim =
            !cancelled && offline_until_ms.is_none_or(|t| now_ms >= t) && in_progress < concurrency;
        // Before anything is claimed: a client for every profile with due work. A profile
        // that cannot be sent (no credential on this machine, a base URL the client
        // refuses) is held, and an unreachable keyring stops the run, with nothing claimed
        // or written for them: no attempt to give back, no event, whatever a crash does.
        let look_at_profiles = claimed_none_last_turn
            || profiles_checked_at_ms.is_none_or(|t| now_ms - t >= SYNC_PROFILE_CHECK_MS as i64);
        if may_claim && look_at_profiles {
            profiles_checked_at_ms = Some(now_ms);
            let due = ledger
                .store()
                .read(|tx| Ok::<_, Error>(outbox::due_profiles(tx, now_ms, profile, &held_ids)?))?;
            for (id, name) in due {
                if clients.contains_key(&id) {
                    continue;
                }
                match connect::client_for(ledger, deps.client_config, id) {
                    Ok(client) => {
                        clients.insert(id, client);
                    }
                    Err(error) if error.is_unavailable() => {
                        keyring_failure = Some(error);
                        cancelled = true;
                        may_claim = false;
                        break;
                    }
                    Err(error) => {
                        let until = now_ms + options.held_retry_ms as i64;
                        if let Some(reason) =
                            hold(&mut held, id, &name.to_string(), error.to_string(), until)
                        {
                            on_event(&SyncEvent::Paused {
                                profile: name.to_string(),
                                reason,
                            });
                        }
                        held_ids.push(id);
                    }
                }
            }
        }
        // Only profiles with a client are claimed. Work that becomes due while this turn's
        // answers are recorded (one behind a success) is of a profile served already, or
        // is checked on the next turn.
        let ready: Vec<ProfileId> = clients.keys().copied().collect();
        // Offline, send one operation at a time as a probe.
        let free = if probing {
            1
        } else {
            concurrency - in_progress
        };
        let (results, claims) = if finished.is_empty() && !may_claim {
            (Vec::new(), Vec::new())
        } else {
            let ctx = RecordContext {
                now_ms,
                actor: &actor,
                random: deps.random.as_ref(),
                max_unknown_attempts: options.max_unknown_attempts,
                offline_retry_ms: SYNC_OFFLINE_RETRY_MS,
            };
            ledger.store().write(|tx| {
                let results = finished
                    .iter()
                    .map(|(op, outcome)| record::record(tx, &ctx, op, outcome))
                    .collect::<Result<Vec<_>>>()?;
                // An answer that says "offline" stops claims until the next probe; a paused
                // profile is already excluded by the claim query in this transaction, and
                // one held by an answer recorded just now is left out here.
                let mut held_ids = held_ids.clone();
                held_ids.extend(
                    finished
                        .iter()
                        .zip(&results)
                        .filter(|(_, r)| r.held.is_some())
                        .map(|((op, _), _)| op.profile_id),
                );
                let claims = if may_claim && !results.iter().any(|r| r.offline) {
                    outbox::claim_due(tx, now_ms, profile, &held_ids, Some(&ready), free)?
                } else {
                    Vec::new()
                };
                Ok::<_, Error>((results, claims))
            })?
        };
        // Due work that the claim could not take must not make the loop spin. (After
        // recording answers, look again: they may have made another profile's work due.)
        let claimed_none = may_claim && claims.is_empty() && finished.is_empty();
        claimed_none_last_turn = may_claim && claims.is_empty();
        for ((op, _), recorded) in finished.iter().zip(results) {
            summary.blocked += recorded.blocked;
            match recorded.view.status {
                OperationStatus::Succeeded => summary.succeeded += 1,
                OperationStatus::Failed => summary.failed += 1,
                OperationStatus::NeedsAttention => summary.needs_attention += 1,
                _ if recorded.paused.is_none() && recorded.held.is_none() && !recorded.offline => {
                    summary.retried += 1
                }
                _ => {}
            }
            if recorded.offline {
                let until = now_ms + SYNC_OFFLINE_RETRY_MS as i64;
                offline_until_ms = Some(offline_until_ms.map_or(until, |t| t.max(until)));
                on_event(&SyncEvent::Offline {
                    retry_in_ms: SYNC_OFFLINE_RETRY_MS,
                });
            } else if recorded.paused.is_none() && recorded.held.is_none() {
                // Ottu answered: the network is back.
                offline_until_ms = None;
            }
            let until = now_ms + options.held_retry_ms as i64;
            if let Some(reason) = &recorded.held {
                if let Some(reason) = hold(
                    &mut held,
                    op.profile_id,
                    &op.profile.to_string(),
                    reason.clone(),
                    until,
                ) {
                    on_event(&SyncEvent::Paused {
                        profile: op.profile.to_string(),
                        reason,
                    });
                }
            } else if recorded.paused.is_none() && !recorded.offline {
                // The profile was served after all: it is no longer held.
                held.retain(|h| h.0 != op.profile_id);
            }
            if recorded.paused.is_some() {
                // A fixed key must get a fresh client, however often the profile paused.
                clients.remove(&op.profile_id);
            }
            if let Some(reason) = &recorded.paused
                && paused.insert(op.profile_id)
            {
                on_event(&SyncEvent::Paused {
                    profile: op.profile.to_string(),
                    reason: reason.clone(),
                });
                clients.remove(&op.profile_id);
            }
            on_event(&SyncEvent::Recorded(recorded.view.clone()));
            if summary.outcomes.len() < SYNC_MAX_REPORTED_OUTCOMES {
                summary.outcomes.push(recorded.view);
            } else {
                summary.outcomes_truncated = true;
            }
        }
        if cancelled && in_progress == 0 {
            break;
        }

        // 2. Send each claim as its own task: every claimed profile has a client (`ready`).
        {
            for op in claims {
                let client = clients.get(&op.profile_id).cloned();
                in_progress += 1;
                on_event(&SyncEvent::Sent {
                    id: op.id.0,
                    attempt: op.attempt,
                });
                let done_tx = done_tx.clone();
                match (client, request_for(&op)) {
                    (Some(client), Ok(request)) => {
                        let key = op.tracking_key;
                        let reply = Reply(Some((op, done_tx)));
                        deps.runtime.spawn(async move {
                            let outcome = client.send_operation(key, &request).await;
                            reply.send(to_send_outcome(outcome));
                        });
                    }
                    // Cannot happen (only `ready` profiles are claimed, and a client leaves
                    // the cache only with a pause, which the claim query excludes); if it
                    // did, the operation goes back unsent and the profile is held.
                    (None, _) => {
                        let reason = format!("profile {}: no client was made for it", op.profile);
                        let _ = done_tx.send((op, SendOutcome::CannotSend { reason }));
                    }
                    (_, Err(reason)) => {
                        let raw = String::new();
                        let _ = done_tx.send((op, SendOutcome::Refused { reason, raw }));
                    }
                }
            }
        }

        // 3. Wait for an answer or the next due time, or stop.
        let wait_ms = if in_progress > 0 {
            SYNC_WATCH_POLL_MS
        } else {
            let next_due = ledger.store().read(|tx| {
                let held_ids = held_now(&held, clock.now_ms());
                Ok::<_, Error>(outbox::next_due_at(tx, profile, &held_ids)?)
            })?;
            let now_ms = clock.now_ms();
            let due_in_ms = next_due.map(|due| (due - now_ms).max(0) as u64);
            match options.mode {
                SyncMode::Once if cancelled || due_in_ms.is_none() => break,
                SyncMode::Once if offline_until_ms.is_some() => {
                    summary.offline = true;
                    break;
                }
                SyncMode::Once => match due_in_ms {
                    Some(0) if claimed_none => break,
                    Some(wait) if wait > SYNC_ONCE_MAX_WAIT_MS => break,
                    wait => wait.unwrap_or(0),
                },
                SyncMode::Watch => match (offline_until_ms, due_in_ms) {
                    // Offline: the next probe paces the loop, not the (immediate) due times.
                    (Some(until), _) if until > now_ms => (until - now_ms) as u64,
                    (_, Some(0)) if claimed_none => SYNC_WATCH_POLL_MS,
                    (_, due) => due.unwrap_or(SYNC_WATCH_POLL_MS),
                },
            }
        };
        if wait_ms > 0 {
            match done_rx.recv_timeout(Duration::from_millis(wait_ms.min(SYNC_WATCH_POLL_MS))) {
                Ok(done) => early.push(done),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    if let Some(error) = keyring_failure {
        // Exit 1 for this run, nothing stored about any profile; what was recorded before
        // stays recorded, and what was not claimed waits in the queue for the next run.
        return Err(match error {
            ConnectError::Keyring(error) => Error::Secrets(error),
            other => Error::Unavailable {
                code: "secrets.unavailable",
                message: other.to_string(),
            },
        });
    }
    let (remaining, stored) = ledger.store().read(|tx| {
        let remaining = outbox::waiting(tx, profile)?;
        let mut stored = outbox::paused_profiles(tx, profile)?;
        for (id, name, reason, _) in &held {
            if stored.iter().any(|p| p.id == *id) {
                continue;
            }
            stored.push(outbox::PausedProfile {
                id: *id,
                name: name.clone(),
                reason: reason.clone(),
                since_ms: None,
                waiting: outbox::waiting(tx, Some(*id))?,
            });
        }
        Ok::<_, Error>((remaining, stored))
    })?;
    summary.remaining = remaining;
    let run_only: HashSet<ProfileId> = held.iter().map(|(id, ..)| *id).collect();
    summary.paused_profiles = stored
        .into_iter()
        .map(|p| PausedProfileView {
            this_run_only: run_only.contains(&p.id) && p.since_ms.is_none(),
            profile: p.name,
            reason: p.reason,
            since: p.since_ms.map(format_ms),
            queued: p.waiting,
        })
        .collect();
    summary.paused = summary
        .paused_profiles
        .iter()
        .map(|p| (p.profile.clone(), p.reason.clone()))
        .collect();
    summary.offline = summary.offline || offline_until_ms.is_some();
    on_event(&SyncEvent::Finished(summary.clone()));
    Ok(summary)
}

/// Holds a profile until `until` with `reason`; returns the reason when the profile was
/// not held before (to report it once), `None` when an existing hold is renewed.
fn hold(
    held: &mut Vec<(ProfileId, String, String, i64)>,
    id: ProfileId,
    name: &str,
    reason: String,
    until: i64,
) -> Option<String> {
    match held.iter_mut().find(|h| h.0 == id) {
        Some(entry) => {
            entry.2 = reason;
            entry.3 = until;
            None
        }
        None => {
            held.push((id, name.to_string(), reason.clone(), until));
            Some(reason)
        }
    }
}

/// The profiles held at `now_ms`.
fn held_now(held: &[(ProfileId, String, String, i64)], now_ms: i64) -> Vec<ProfileId> {
    held.iter().filter(|h| h.3 > now_ms).map(|h| h.0).collect()
}

/// Lifts the pauses earlier versions stored for a condition of the machine (no keyring
/// from cron, no credential in it), with an event each: see `outbox::lift_local_pauses`.
fn lift_local_pauses(
    tx: &rusqlite::Transaction<'_>,
    now_ms: i64,
    actor: &str,
    profile: Option<ProfileId>,
) -> Result<()> {
    for (id, reason) in outbox::lift_local_pauses(tx, profile)? {
        store::events::append(
            tx,
            &EventInsert {
                at_ms: now_ms,
                actor,
                action: "profile.resumed",
                entity: "profile",
                entity_id: id.0,
                payment_id: None,
                before: Some(serde_json::json!({"paused_reason": reason})),
                after: Some(serde_json::json!({
                    "paused_reason": null,
                    "why": "a pause for a condition of this machine, not Ottu's answer: it is checked again on each run",
                })),
            },
        )?;
    }
    Ok(())
}
