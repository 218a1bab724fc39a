//! The state one running sandbox shares between its HTTP tasks and its Rust handle: the store
//! (one SQLite connection behind a mutex: the single writer), the clock, the fault injector,
//! the credentials and the counters; plus the admin actions both the `/_sandbox/` endpoints
//! and [`RunningSandbox`](crate::RunningSandbox) call, so they behave identically.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::auth::Credentials;
use crate::clock::{
    EpochMs, IdSpace, SandboxClock, parse_rfc3339, reference_number, rfc3339, session_id,
};
use crate::faults::{FaultConfig, FaultInjector};
use crate::model::{PaymentState, Permission};
use crate::money::{Currency, WireAmount, format_minor};
use crate::rules::Balances;
use crate::snapshot::{
    ChildSnapshot, Counters, FaultCounters, OperationRecord, PaymentSnapshot, StateSnapshot,
};
use crate::store::{ChildRow, Db, PaymentRow, StoreError, UserRow};
use crate::views::{FieldErrors, field_error};
use crate::writer::{BatchCtx, Writer};

/// Longest session id or order number Ottu accepts.
pub const MAX_IDENTIFIER_LEN: usize = 128;

/// A payment to add through `POST /_sandbox/payments` or
/// [`RunningSandbox::add_payment`](crate::RunningSandbox::add_payment). Everything but
/// `amount` has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// Default: a fresh 32-hex-character id.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Must be unique when given; default none.
    #[serde(default)]
    pub order_no: Option<String>,
    /// Decimal string in the currency's decimals, > 0.
    pub amount: String,
    #[serde(default = "default_currency")]
    pub currency_code: String,
    #[serde(default = "default_state")]
    pub state: PaymentState,
    #[serde(default = "default_pg_code")]
    pub pg_code: String,
    /// Default: `[pg_code]`.
    #[serde(default)]
    pub pg_codes: Option<Vec<String>>,
    /// `e_commerce` (default) or `payment_request`.
    #[serde(default = "default_payment_type", rename = "type")]
    pub payment_type: String,
    #[serde(default)]
    pub foreign_currency: bool,
    /// What an inquiry will learn from the gateway (for pending/attempted/failed/expired).
    #[serde(default)]
    pub gateway_state: Option<PaymentState>,
    /// RFC 3339; default now on the sandbox clock (so inquiries are in their grace period).
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
}

fn default_currency() -> String {
    "KWD".to_owned()
}
fn default_state() -> PaymentState {
    PaymentState::Paid
}
fn default_pg_code() -> String {
    crate::gateway::KNET.to_owned()
}
fn default_payment_type() -> String {
    "e_commerce".to_owned()
}

impl NewPayment {
    /// A paid KWD payment through `knet` for `amount`, everything else defaulted.
    pub fn paid(amount: &str) -> NewPayment {
        NewPayment {
            session_id: None,
            order_no: None,
            amount: amount.to_owned(),
            currency_code: default_currency(),
            state: default_state(),
            pg_code: default_pg_code(),
            pg_codes: None,
            payment_type: default_payment_type(),
            foreign_currency: false,
            gateway_state: None,
            created_at: None,
            customer_email: None,
        }
    }
}

/// A Basic-auth user: `NAME:PASSWORD:perm1+perm2` on the command line (`*` = all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSpec {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UserSpecError {
    #[error("user '{spec}' is not NAME:PASSWORD[:perm1+perm2]")]
    Shape { spec: String },
    #[error("user '{name}': unknown permission '{permission}' (known: {known})")]
    UnknownPermission {
        name: String,
        permission: String,
        known: String,
    },
}

impl std::str::FromStr for UserSpec {
    type Err = UserSpecError;

    fn from_str(spec: &str) -> Result<UserSpec, UserSpecError> {
        let mut parts = spec.splitn(3, ':');
        let (Some(name), Some(password)) = (parts.next(), parts.next()) else {
            return Err(UserSpecError::Shape {
                spec: spec.to_owned(),
            });
        };
        if name.is_empty() {
            return Err(UserSpecError::Shape {
                spec: spec.to_owned(),
            });
        }
        let mut permissions = Vec::new();
        for permission in parts
            .next()
            .unwrap_or("")
            .split('+')
            .filter(|p| !p.is_empty())
        {
            if permission == "*" {
                permissions = Permission::ALL.to_vec();
                continue;
            }
            let parsed =
                Permission::parse(permission).ok_or_else(|| UserSpecError::UnknownPermission {
                    name: name.to_owned(),
                    permission: permission.to_owned(),
                    known: Permission::ALL
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            if !permissions.contains(&parsed) {
                permissions.push(parsed);
            }
        }
        Ok(UserSpec {
            name: name.to_owned(),
            password: password.to_owned(),
            permissions,
        })
    }
}

/// Why an admin action failed.
#[derive(Debug, Error)]
pub enum AdminError {
    #[error("invalid fields: {0:?}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counters as atomics; see [`Counters`] for their meaning.
#[derive(Debug, Default)]
pub struct CounterCells {
    pub requests: AtomicU64,
    pub operation_requests: AtomicU64,
    pub inquiry_requests: AtomicU64,
    pub payment_requests: AtomicU64,
    pub report_requests: AtomicU64,
    pub admin_requests: AtomicU64,
    pub operations_applied: AtomicU64,
    pub operations_refused: AtomicU64,
    pub operations_gateway_refused: AtomicU64,
    pub operations_replayed: AtomicU64,
    pub operations_invalid: AtomicU64,
    pub auth_failures: AtomicU64,
    pub inquiries_throttled: AtomicU64,
    pub fault_latency: AtomicU64,
    pub fault_server_error: AtomicU64,
    pub fault_throttle: AtomicU64,
    pub fault_drop: AtomicU64,
    pub fault_lost: AtomicU64,
    pub fault_malformed: AtomicU64,
}

/// Adds one to a counter.
pub fn bump(cell: &AtomicU64) {
    cell.fetch_add(1, Ordering::Relaxed);
}

impl CounterCells {
    pub fn snapshot(&self) -> Counters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            requests: get(&self.requests),
            operation_requests: get(&self.operation_requests),
            inquiry_requests: get(&self.inquiry_requests),
            payment_requests: get(&self.payment_requests),
            report_requests: get(&self.report_requests),
            admin_requests: get(&self.admin_requests),
            operations_applied: get(&self.operations_applied),
            operations_refused: get(&self.operations_refused),
            operations_gateway_refused: get(&self.operations_gateway_refused),
            operations_replayed: get(&self.operations_replayed),
            operations_invalid: get(&self.operations_invalid),
            auth_failures: get(&self.auth_failures),
            inquiries_throttled: get(&self.inquiries_throttled),
            faults: FaultCounters {
                latency: get(&self.fault_latency),
                server_error: get(&self.fault_server_error),
                throttle: get(&self.fault_throttle),
                drop: get(&self.fault_drop),
                lost: get(&self.fault_lost),
                malformed: get(&self.fault_malformed),
            },
        }
    }
}

/// See the module comment.
pub struct Shared {
    writer: Writer,
    pub clock: Arc<SandboxClock>,
    faults: Mutex<FaultInjector>,
    credentials: RwLock<Credentials>,
    pub counters: CounterCells,
    pub seed: u64,
    pub base_url: String,
    pub admin: AdminAccess,
}

/// What opens the `/_sandbox/` endpoints (see `http::admin_allowed`).
pub struct AdminAccess {
    /// The port the sandbox listens on: the only one a loopback `Host` may name.
    pub port: u16,
    /// The token printed at start (`admin token: ...`).
    pub token: String,
}

/// Locks a mutex even if a panicking thread poisoned it: every guarded value stays consistent
/// on panic (they are plain data, replaced whole).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn new(
        writer: Writer,
        clock: Arc<SandboxClock>,
        faults: FaultInjector,
        credentials: Credentials,
        seed: u64,
        base_url: String,
        admin: AdminAccess,
    ) -> Shared {
        Shared {
            writer,
            clock,
            faults: Mutex::new(faults),
            credentials: RwLock::new(credentials),
            counters: CounterCells::default(),
            seed,
            base_url,
            admin,
        }
    }

    /// Runs store work on the writer thread and blocks until its batch is committed.
    pub fn store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db<'_>, &mut BatchCtx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.writer.call(work)
    }

    /// Runs store work on the writer thread and awaits its batch's commit.
    pub async fn store_async<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db<'_>, &mut BatchCtx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.writer.call_async(work).await
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultInjector> {
        lock(&self.faults)
    }

    pub fn set_faults(&self, config: FaultConfig) {
        self.faults().set(config);
    }

    pub fn credentials(&self) -> std::sync::RwLockReadGuard<'_, Credentials> {
        self.credentials.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn upsert_user(&self, user: UserSpec) -> Result<(), StoreError> {
        let row = UserRow {
            name: user.name,
            password: user.password,
            permissions: user.permissions,
        };
        let stored = row.clone();
        self.store(move |db, _| db.upsert_user(&stored))?;
        self.credentials
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .upsert_user(row);
        Ok(())
    }

    /// Settles every queued refund now, whatever its due time.
    pub fn settle_now(&self) -> Result<usize, StoreError> {
        self.store(|db, ctx| {
            ctx.note_resettled();
            db.settle_until(EpochMs::MAX, ctx.env.now_ms)
        })
    }

    pub fn snapshot(&self) -> Result<StateSnapshot, StoreError> {
        let faults = self.faults().config().clone();
        let (payments, children, operations, now_ms) = self.store(|db, ctx| {
            Ok((
                db.all_payments()?,
                db.all_children()?,
                db.all_operations()?,
                ctx.env.now_ms,
            ))
        })?;
        let mut by_parent: HashMap<String, Vec<ChildRow>> = HashMap::new();
        for child in children {
            by_parent
                .entry(child.parent_session_id.clone())
                .or_default()
                .push(child);
        }
        let mut currencies: HashMap<String, Currency> = HashMap::new();
        let payments = payments
            .into_iter()
            .map(|p| {
                currencies.insert(p.session_id.clone(), p.currency);
                let children = by_parent.remove(&p.session_id).unwrap_or_default();
                payment_snapshot(p, &children)
            })
            .collect();
        let operations = operations
            .into_iter()
            .map(|o| {
                let currency = currencies.get(&o.session_id).copied();
                OperationRecord {
                    id: o.id,
                    tracking_key: o.tracking_key.clone(),
                    operation: o.operation,
                    session_id: o.session_id.clone(),
                    amount: o.amount.zip(currency).map(|(a, c)| format_minor(a, c)),
                    amount_minor: o.amount,
                    result: o.result().to_owned(),
                    outcome: o.outcome.as_str().to_owned(),
                    http_status: o.http_status,
                    child_session_id: o.child_session_id.clone(),
                    applied_at: rfc3339(o.applied_at_ms),
                    applied_at_ms: o.applied_at_ms,
                }
            })
            .collect();
        Ok(StateSnapshot {
            now: rfc3339(now_ms),
            now_ms,
            clock_offset_ms: self.clock.offset_ms(),
            seed: self.seed,
            faults,
            payments,
            operations,
            counters: self.counters.snapshot(),
        })
    }

    /// Adds one payment with exactly the given fields.
    pub fn add_payment(&self, new: NewPayment) -> Result<PaymentSnapshot, AdminError> {
        let currency = Currency::from_code(&new.currency_code).ok_or_else(|| {
            AdminError::Invalid(field_error(
                "currency_code",
                format!("Unknown currency; known: {}.", Currency::known_codes()),
            ))
        })?;
        let amount = WireAmount::parse(&new.amount)
            .and_then(|w| w.to_positive_minor(currency))
            .map_err(|e| AdminError::Invalid(field_error("amount", e.to_string())))?;
        for (field, value) in [("session_id", &new.session_id), ("order_no", &new.order_no)] {
            if let Some(v) = value {
                if v.is_empty() || v.len() > MAX_IDENTIFIER_LEN {
                    return Err(AdminError::Invalid(field_error(
                        field,
                        format!("Must be 1 to {MAX_IDENTIFIER_LEN} characters."),
                    )));
                }
                if field == "session_id"
                    && !v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(AdminError::Invalid(field_error(
                        field,
                        "Must match ^[-\\w]+$ (letters, digits, '_' and '-').",
                    )));
                }
            }
        }
        if !matches!(new.payment_type.as_str(), "e_commerce" | "payment_request") {
            return Err(AdminError::Invalid(field_error(
                "type",
                "Must be e_commerce or payment_request.",
            )));
        }
        if new.pg_code.is_empty() {
            return Err(AdminError::Invalid(field_error(
                "pg_code",
                "Must not be empty.",
            )));
        }
        let created_at_ms: Option<EpochMs> = match &new.created_at {
            None => None,
            Some(text) => Some(parse_rfc3339(text).ok_or_else(|| {
                AdminError::Invalid(field_error("created_at", "Must be an RFC 3339 timestamp."))
            })?),
        };
        let seed = self.seed;
        let row = self.store(
            move |db, ctx| -> Result<Result<PaymentRow, AdminError>, StoreError> {
                let env = ctx.env;
                {
                    if let Some(order_no) = &new.order_no
                        && db.order_no_exists(order_no)?
                    {
                        return Ok(Err(AdminError::Conflict(format!(
                            "order_no {order_no} already exists"
                        ))));
                    }
                    let count = db.payment_count()?;
                    let session_id = match &new.session_id {
                        Some(s) => {
                            if db.payment_exists(s)? {
                                return Ok(Err(AdminError::Conflict(format!(
                                    "session_id {s} already exists"
                                ))));
                            }
                            s.clone()
                        }
                        None => {
                            // Ids for added payments live apart from the seeded ones.
                            let mut n = (1u64 << 40) + count;
                            loop {
                                let candidate = session_id(seed, IdSpace::Payment, n);
                                if !db.payment_exists(&candidate)? {
                                    break candidate;
                                }
                                n += 1;
                            }
                        }
                    };
                    let created = created_at_ms.unwrap_or(env.now_ms);
                    let row = PaymentRow {
                        session_id,
                        order_no: new.order_no.clone(),
                        amount,
                        currency,
                        state: new.state,
                        pg_code: new.pg_code.clone(),
                        pg_codes: new
                            .pg_codes
                            .clone()
                            .unwrap_or_else(|| vec![new.pg_code.clone()]),
                        payment_kind: new.payment_type.clone(),
                        reference_number: reference_number(seed, (1 << 42) | count),
                        customer_email: new.customer_email.clone(),
                        customer_first_name: None,
                        customer_last_name: None,
                        foreign_currency: new.foreign_currency,
                        gateway_state: new.gateway_state,
                        deleted: false,
                        inquiry_count: 0,
                        last_inquiry_at_ms: None,
                        created_at_ms: created,
                        modified_at_ms: created,
                    };
                    db.insert_payment(&row)?;
                    Ok(Ok(row))
                }
            },
        )??;
        Ok(payment_snapshot(row, &[]))
    }
}

fn child_snapshot(c: &ChildRow) -> ChildSnapshot {
    ChildSnapshot {
        session_id: c.session_id.clone(),
        parent_session_id: c.parent_session_id.clone(),
        operation: c.operation,
        amount: format_minor(c.amount, c.currency),
        amount_minor: c.amount,
        currency_code: c.currency.code().to_owned(),
        state: c.state,
        pg_code: c.pg_code.clone(),
        destination: c.destination,
        reference_number: c.reference_number.clone(),
        created: rfc3339(c.created_at_ms),
        modified: rfc3339(c.modified_at_ms),
        settle_at: c
            .settle_at_ms
            .filter(|_| c.state == crate::model::ChildState::RefundQueued)
            .map(rfc3339),
        settles_to: c
            .settles_to
            .filter(|_| c.state == crate::model::ChildState::RefundQueued),
    }
}

fn payment_snapshot(p: PaymentRow, children: &[ChildRow]) -> PaymentSnapshot {
    let mut balances = Balances::default();
    for c in children {
        balances.add_child(c.operation, c.state, c.amount);
    }
    PaymentSnapshot {
        amount: format_minor(p.amount, p.currency),
        amount_minor: p.amount,
        currency_code: p.currency.code().to_owned(),
        state: p.state,
        pg_code: p.pg_code,
        pg_codes: p.pg_codes,
        payment_type: p.payment_kind,
        deleted: p.deleted,
        foreign_currency: p.foreign_currency,
        gateway_state: p.gateway_state,
        inquiry_count: p.inquiry_count,
        created: rfc3339(p.created_at_ms),
        modified: rfc3339(p.modified_at_ms),
        captured_minor: balances.captured,
        voided_minor: balances.voided,
        refunded_minor: balances.refunded,
        refund_queued_minor: balances.refund_queued,
        children: children.iter().map(child_snapshot).collect(),
        reference_number: p.reference_number,
        session_id: p.session_id,
        order_no: p.order_no,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_specs() {
        let u: UserSpec = "amal:secret:payment.refund+payment.capture"
            .parse()
            .unwrap();
        assert_eq!(u.name, "amal");
        assert_eq!(u.password, "secret");
        assert_eq!(
            u.permissions,
            vec![Permission::PaymentRefund, Permission::PaymentCapture]
        );
        let all: UserSpec = "root:pw:*".parse().unwrap();
        assert_eq!(all.permissions.len(), Permission::ALL.len());
        let none: UserSpec = "viewer:pw".parse().unwrap();
        assert!(none.permissions.is_empty());
        assert!("nopassword".parse::<UserSpec>().is_err());
        assert!(matches!(
            "x:y:payment.steal".parse::<UserSpec>(),
            Err(UserSpecError::UnknownPermission { .. })
        ));
    }
}
