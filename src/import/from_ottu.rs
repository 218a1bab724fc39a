//! Import by session id: fetch each payment with Ottu's retrieve endpoint (a few at a
//! time), then upsert them all in one transaction with their events. Importing twice
//! changes nothing the second time.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::connect::{self, ProfileTarget, Remote};
use crate::error::{Error, FieldContext, Result};
use crate::ledger::Ledger;
use crate::limits::IMPORT_CONCURRENCY;
use crate::model::{
    ChildState, NewPayment, OrderNo, PaymentSource, PaymentState, ProfileName, SessionId,
};
use crate::ottu::{FetchError, OttuClient, PaymentDetails};
use crate::store::payments::Upserted;
use crate::store::{self, EventInsert};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportFailure {
    pub session_id: String,
    pub error: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: Vec<ImportFailure>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RefreshSummary {
    /// Children Ottu had not settled (`refund_queued`) that were read again.
    pub checked: u64,
    /// Of those, how many have a new state now.
    pub settled: u64,
    pub failed: Vec<ImportFailure>,
}

/// An error that stops the whole run (no credential, offline, refused credential), as
/// opposed to one payment Ottu does not know.
fn fatal(error: &FetchError) -> bool {
    matches!(error, FetchError::Auth { .. } | FetchError::Offline { .. })
}

fn remote_error(error: FetchError) -> Error {
    let code = match &error {
        FetchError::Auth { .. } => "ottu.auth",
        FetchError::Offline { .. } => "ottu.offline",
        _ => "ottu.error",
    };
    Error::Remote {
        code,
        message: error.to_string(),
    }
}

fn client(
    ledger: &mut Ledger,
    remote: &Remote,
    profile: &str,
) -> Result<(crate::model::ProfileId, OttuClient)> {
    let name = ProfileName::parse(profile).field("profile")?;
    let (profile, auth) = ledger.store().read(|tx| {
        let profile = store::profiles::by_name(tx, &name)?.ok_or_else(|| Error::NotFound {
            what: "profile",
            field: "profile",
            key: name.to_string(),
        })?;
        let auth = store::profiles::auth(tx, profile.id)?;
        Ok::<_, Error>((profile, auth))
    })?;
    let client = connect::client_for(
        ledger.secrets().as_ref(),
        remote.client_config,
        &ProfileTarget {
            profile: &profile.name,
            base_url: &profile.base_url,
            auth_kind: auth.kind,
            basic_user: auth.basic_user.as_deref(),
        },
    )
    .map_err(|message| Error::Remote {
        code: "ottu.credential",
        message,
    })?;
    Ok((profile.id, client))
}

/// Fetches every session id, `IMPORT_CONCURRENCY` at a time, in input order.
fn fetch_all(
    remote: &Remote,
    client: &OttuClient,
    ids: &[SessionId],
    progress: &mut dyn FnMut(u64),
) -> Vec<std::result::Result<PaymentDetails, FetchError>> {
    let permits = Arc::new(Semaphore::new(IMPORT_CONCURRENCY));
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let client = client.clone();
            let id = id.clone();
            let permits = Arc::clone(&permits);
            remote.runtime.spawn(async move {
                // The semaphore is never closed: acquiring cannot fail.
                let _permit = permits.acquire_owned().await.expect("open semaphore");
                client.retrieve_payment(&id).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for (done, task) in tasks.into_iter().enumerate() {
        let result = remote.runtime.block_on(task).unwrap_or_else(|e| {
            Err(FetchError::Unavailable {
                reason: format!("the request task stopped: {e}"),
            })
        });
        results.push(result);
        progress(done as u64 + 1);
    }
    results
}

fn to_new_payment(
    details: &PaymentDetails,
    now_ms: i64,
) -> std::result::Result<NewPayment, String> {
    let amount = details
        .parsed_amount()
        .map_err(|e| format!("amount: {e}"))?;
    if !amount.is_positive() {
        return Err(format!("amount {} is not positive", details.amount));
    }
    Ok(NewPayment {
        session_id: SessionId::parse(&details.session_id).map_err(|e| e.to_string())?,
        order_no: details
            .order_no
            .as_deref()
            .filter(|o| !o.is_empty())
            .map(OrderNo::parse)
            .transpose()
            .map_err(|e| e.to_string())?,
        amount,
        state: details
            .state
            .parse::<PaymentState>()
            .map_err(|e| e.to_string())?,
        source: PaymentSource::Ottu,
        created_at_ms: now_ms,
    })
}

impl Ledger {
    /// `daftar import --profile P --session-id S...`.
    pub fn import_from_ottu(
        &mut self,
        remote: &Remote,
        profile: &str,
        session_ids: &[String],
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportSummary> {
        let ids = session_ids
            .iter()
            .map(|s| SessionId::parse(s.trim()).field("session_id"))
            .collect::<Result<Vec<_>>>()?;
        let (profile_id, client) = client(self, remote, profile)?;
        let results = fetch_all(remote, &client, &ids, progress);
        if let Some(error) = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .find(|e| fatal(e))
        {
            return Err(remote_error(error.clone()));
        }
        let now_ms = self.clock().now_ms();
        let actor = self.actor().to_string();
        let mut summary = ImportSummary::default();
        self.store().write(|tx| {
            for (id, result) in ids.iter().zip(results) {
                let payment = match result.map_err(|e| e.to_string()).and_then(|d| to_new_payment(&d, now_ms)) {
                    Ok(p) => p,
                    Err(error) => {
                        summary.failed.push(ImportFailure { session_id: id.to_string(), error });
                        continue;
                    }
                };
                let (action, payment_id, before) = match store::payments::upsert_from_ottu(tx, profile_id, &payment, now_ms)? {
                    Upserted::Unchanged(_) => {
                        summary.unchanged += 1;
                        continue;
                    }
                    Upserted::Added(pid) => {
                        summary.added += 1;
                        ("payment.imported", pid, None)
                    }
                    Upserted::Updated { id: pid, before } => {
                        summary.updated += 1;
                        let before = json!({"amount": before.amount.to_string(), "state": before.state, "order_no": before.order_no});
                        ("payment.updated_from_ottu", pid, Some(before))
                    }
                };
                store::events::append(tx, &EventInsert {
                    at_ms: now_ms,
                    actor: &actor,
                    action,
                    entity: "payment",
                    entity_id: payment_id.0,
                    payment_id: Some(payment_id),
                    before,
                    after: Some(json!({
                        "session_id": payment.session_id,
                        "order_no": payment.order_no,
                        "amount": payment.amount.to_string(),
                        "currency": payment.amount.currency(),
                        "state": payment.state,
                    })),
                })?;
            }
            Ok::<_, Error>(())
        })?;
        Ok(summary)
    }

    /// `daftar refresh`: re-reads every child Ottu had not settled (`refund_queued`) and
    /// records its new state (`refunded` or `refund_rejected`).
    pub fn refresh_from_ottu(
        &mut self,
        remote: &Remote,
        profile: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RefreshSummary> {
        let (profile_id, client) = client(self, remote, profile)?;
        let pending = self
            .store()
            .read(|tx| Ok::<_, Error>(store::children::unresolved(tx, Some(profile_id))?))?;
        let ids: Vec<SessionId> = pending.iter().map(|c| c.session_id.clone()).collect();
        let results = fetch_all(remote, &client, &ids, progress);
        if let Some(error) = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .find(|e| fatal(e))
        {
            return Err(remote_error(error.clone()));
        }
        let now_ms = self.clock().now_ms();
        let actor = self.actor().to_string();
        let mut summary = RefreshSummary {
            checked: pending.len() as u64,
            ..RefreshSummary::default()
        };
        self.store().write(|tx| {
            for (child, result) in pending.iter().zip(results) {
                let state = match result {
                    Ok(details) => match details.state.parse::<ChildState>() {
                        Ok(state) => state,
                        Err(e) => {
                            summary.failed.push(ImportFailure {
                                session_id: child.session_id.to_string(),
                                error: e.to_string(),
                            });
                            continue;
                        }
                    },
                    Err(e) => {
                        summary.failed.push(ImportFailure {
                            session_id: child.session_id.to_string(),
                            error: e.to_string(),
                        });
                        continue;
                    }
                };
                if store::children::set_state(tx, child.child_id, state, now_ms)? {
                    summary.settled += 1;
                    store::events::append(
                        tx,
                        &EventInsert {
                            at_ms: now_ms,
                            actor: &actor,
                            action: "child.settled",
                            entity: "child",
                            entity_id: child.child_id,
                            payment_id: Some(child.payment_id),
                            before: Some(
                                json!({"session_id": child.session_id, "state": child.state}),
                            ),
                            after: Some(json!({"session_id": child.session_id, "state": state})),
                        },
                    )?;
                }
            }
            Ok::<_, Error>(())
        })?;
        Ok(summary)
    }
}
