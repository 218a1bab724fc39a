//! The sandbox's SQLite file: payments, their children, the operations applied (with their
//! Tracking-Keys and the exact responses sent), and the Basic-auth users. All SQL lives here.
//!
//! Invariant: every change an HTTP request makes happens in one `BEGIN IMMEDIATE` transaction
//! that is committed before the response is written or the connection dropped, so what a
//! client may have seen is always on disk (WAL, `synchronous=NORMAL`: durable across a crash
//! of the process; only an OS crash could lose the last commits, which the sandbox accepts).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use thiserror::Error;

use crate::clock::{EpochMs, IdSpace, reference_number, session_id};
use crate::model::{ChildState, Destination, OperationKind, PaymentState, Permission};
use crate::money::{Currency, Minor};
use crate::rules::Balances;

/// Bumped when the schema changes; the sandbox refuses files from a newer version.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA_V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE payments (
    session_id         TEXT PRIMARY KEY,
    order_no           TEXT,
    amount_minor       INTEGER NOT NULL,
    currency_code      TEXT NOT NULL,
    state              TEXT NOT NULL,
    pg_code            TEXT NOT NULL,
    pg_codes           TEXT NOT NULL,       -- JSON array of strings
    payment_kind       TEXT NOT NULL,       -- the spec's `type`: e_commerce | payment_request
    reference_number   TEXT NOT NULL,
    customer_email     TEXT,
    customer_first_name TEXT,
    customer_last_name TEXT,
    foreign_currency   INTEGER NOT NULL DEFAULT 0,
    gateway_state      TEXT,                -- what an inquiry will learn from the gateway
    deleted            INTEGER NOT NULL DEFAULT 0,
    inquiry_count      INTEGER NOT NULL DEFAULT 0,
    last_inquiry_at_ms INTEGER,
    created_at_ms      INTEGER NOT NULL,
    modified_at_ms     INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX payments_order_no ON payments(order_no) WHERE order_no IS NOT NULL;

CREATE TABLE children (
    session_id        TEXT PRIMARY KEY,
    parent_session_id TEXT NOT NULL REFERENCES payments(session_id),
    operation         TEXT NOT NULL,        -- capture | void | refund
    amount_minor      INTEGER NOT NULL,
    currency_code     TEXT NOT NULL,
    state             TEXT NOT NULL,
    pg_code           TEXT NOT NULL,
    destination       TEXT,
    reference_number  TEXT NOT NULL,
    settle_at_ms      INTEGER,              -- refund_queued only
    settles_to        TEXT,                 -- refund_queued only
    created_at_ms     INTEGER NOT NULL,
    modified_at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX children_parent ON children(parent_session_id);
CREATE INDEX children_queued ON children(settle_at_ms) WHERE state = 'refund_queued';

CREATE TABLE operations (
    id               INTEGER PRIMARY KEY,
    tracking_key     TEXT UNIQUE,
    session_id       TEXT NOT NULL,         -- the parent
    operation        TEXT NOT NULL,
    amount_minor     INTEGER,
    outcome          TEXT NOT NULL,         -- applied | gateway_refused | refused
    http_status      INTEGER NOT NULL,
    response_body    TEXT NOT NULL,         -- exactly what was sent, replayed on a repeated key
    child_session_id TEXT,
    applied_at_ms    INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    name        TEXT PRIMARY KEY,
    password    TEXT NOT NULL,              -- a fake gateway's demo users: plain text on purpose
    permissions TEXT NOT NULL               -- space separated
) STRICT;
"#;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("sandbox state file: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("sandbox state file holds an unreadable {what}: '{value}'")]
    Corrupt { what: &'static str, value: String },
    #[error(
        "sandbox state file has schema version {found}, newer than this sandbox ({SCHEMA_VERSION})"
    )]
    TooNew { found: i64 },
    #[error("sandbox state file: the batch holding this change failed to commit: {0}")]
    Commit(String),
    #[error("the sandbox's store thread has stopped")]
    WriterGone,
}

fn corrupt(what: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        value: value.to_owned(),
    }
}

/// A parent payment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRow {
    pub session_id: String,
    pub order_no: Option<String>,
    pub amount: Minor,
    pub currency: Currency,
    pub state: PaymentState,
    pub pg_code: String,
    pub pg_codes: Vec<String>,
    pub payment_kind: String,
    pub reference_number: String,
    pub customer_email: Option<String>,
    pub customer_first_name: Option<String>,
    pub customer_last_name: Option<String>,
    pub foreign_currency: bool,
    pub gateway_state: Option<PaymentState>,
    pub deleted: bool,
    pub inquiry_count: u32,
    pub last_inquiry_at_ms: Option<EpochMs>,
    pub created_at_ms: EpochMs,
    pub modified_at_ms: EpochMs,
}

impl PaymentRow {
    /// Hard-deleted payments are gone from the API (404); soft-deleted ones stay readable.
    pub fn is_hard_deleted(&self) -> bool {
        self.deleted && !self.state.delete_is_soft()
    }
}

/// A child transaction (capture, void or refund) as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRow {
    pub session_id: String,
    pub parent_session_id: String,
    pub operation: OperationKind,
    pub amount: Minor,
    pub currency: Currency,
    pub state: ChildState,
    pub pg_code: String,
    pub destination: Option<Destination>,
    pub reference_number: String,
    pub settle_at_ms: Option<EpochMs>,
    pub settles_to: Option<ChildState>,
    pub created_at_ms: EpochMs,
    pub modified_at_ms: EpochMs,
}

/// How a stored operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The effect happened (state change, deletion or child).
    Applied,
    /// The gateway refused: 200 with `result: "failed"`, nothing changed.
    GatewayRefused,
    /// Refused by state or amount: 400 `OperationFailure`, nothing changed.
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::GatewayRefused => "gateway_refused",
            Outcome::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        match text {
            "applied" => Some(Outcome::Applied),
            "gateway_refused" => Some(Outcome::GatewayRefused),
            "refused" => Some(Outcome::Refused),
            _ => None,
        }
    }
}

/// An operation the sandbox answered definitively, with the response it sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRow {
    pub id: i64,
    pub tracking_key: Option<String>,
    pub session_id: String,
    pub operation: OperationKind,
    pub amount: Option<Minor>,
    pub outcome: Outcome,
    pub http_status: u16,
    pub response_body: String,
    pub child_session_id: Option<String>,
    pub applied_at_ms: EpochMs,
}

impl OperationRow {
    /// `success` when applied, `failed` otherwise (the `result` of the response).
    pub fn result(&self) -> &'static str {
        match self.outcome {
            Outcome::Applied => "success",
            _ => "failed",
        }
    }
}

/// A Basic-auth user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub password: String,
    pub permissions: Vec<Permission>,
}

/// The open state file (or in-memory database).
pub struct Store {
    conn: Connection,
    /// The earliest `settle_at_ms` of a queued refund, if any: lets the hot path skip the
    /// settle query. `None` = nothing queued.
    next_settle_at_ms: Option<EpochMs>,
}

impl Store {
    /// Opens (creating if needed) the state file, or an in-memory database for `None`.
    pub fn open(path: Option<&Path>) -> Result<Store, StoreError> {
        let conn = match path {
            Some(path) => Connection::open(path)?,
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        if path.is_some() {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            debug_assert_eq!(mode.to_ascii_lowercase(), "wal");
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found: version });
        }
        if version < 1 {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA_V1} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))?;
        }
        let mut store = Store {
            conn,
            next_settle_at_ms: None,
        };
        store.next_settle_at_ms = store.db().earliest_settle_at()?;
        Ok(store)
    }

    /// Read access outside a transaction.
    pub fn db(&self) -> Db<'_> {
        Db(&self.conn)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f` returns `Ok`.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let value = f(&Db(&tx))?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Notes that a refund was queued to settle at `at_ms`.
    pub fn note_queued(&mut self, at_ms: EpochMs) {
        self.next_settle_at_ms = Some(self.next_settle_at_ms.map_or(at_ms, |t| t.min(at_ms)));
    }

    /// Re-reads when the next queued refund is due (after settling out of turn).
    pub fn refresh_settle_hint(&mut self) {
        // On error keep a hint that makes the next batch look again.
        self.next_settle_at_ms = self.db().earliest_settle_at().unwrap_or(Some(EpochMs::MIN));
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, first settling the queued refunds due
    /// at `now_ms`, and commits. Returns `f`'s output (`None` if the transaction could not
    /// even begin) and the commit's outcome; the caller must not act on the output as
    /// durable unless the commit succeeded.
    pub fn batch<T>(
        &mut self,
        now_ms: EpochMs,
        f: impl FnOnce(&Db<'_>) -> T,
    ) -> (Option<T>, Result<(), StoreError>) {
        let due = self.next_settle_at_ms.is_some_and(|at| at <= now_ms);
        let tx = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(e) => return (None, Err(e.into())),
        };
        let settled = if due {
            Db(&tx).settle_until(now_ms, now_ms)
        } else {
            Ok(0)
        };
        if let Err(e) = settled {
            return (None, Err(e));
        }
        let output = f(&Db(&tx));
        let committed = tx.commit().map_err(StoreError::from);
        if due {
            self.refresh_settle_hint();
        }
        (Some(output), committed)
    }
}

/// Queries over a connection or a transaction.
pub struct Db<'c>(&'c Connection);

const PAYMENT_COLUMNS: &str = "session_id, order_no, amount_minor, currency_code, state, pg_code, \
     pg_codes, payment_kind, reference_number, customer_email, customer_first_name, \
     customer_last_name, foreign_currency, gateway_state, deleted, inquiry_count, \
     last_inquiry_at_ms, created_at_ms, modified_at_ms";

const CHILD_COLUMNS: &str = "session_id, parent_session_id, operation, amount_minor, currency_code, \
     state, pg_code, destination, reference_number, settle_at_ms, settles_to, created_at_ms, \
     modified_at_ms";

const OPERATION_COLUMNS: &str = "id, tracking_key, session_id, operation, amount_minor, outcome, \
     http_status, response_body, child_session_id, applied_at_ms";

fn currency_of(text: &str) -> Result<Currency, StoreError> {
    Currency::from_code(text).ok_or_else(|| corrupt("currency", text))
}

fn payment_from_row(row: &Row<'_>) -> rusqlite::Result<Result<PaymentRow, StoreError>> {
    let currency: String = row.get(3)?;
    let state: String = row.get(4)?;
    let pg_codes: String = row.get(6)?;
    let gateway_state: Option<String> = row.get(13)?;
    let build = || -> Result<PaymentRow, StoreError> {
        Ok(PaymentRow {
            session_id: row.get(0)?,
            order_no: row.get(1)?,
            amount: row.get(2)?,
            currency: currency_of(&currency)?,
            state: PaymentState::parse(&state).ok_or_else(|| corrupt("payment state", &state))?,
            pg_code: row.get(5)?,
            pg_codes: serde_json::from_str(&pg_codes)
                .map_err(|_| corrupt("pg_codes", &pg_codes))?,
            payment_kind: row.get(7)?,
            reference_number: row.get(8)?,
            customer_email: row.get(9)?,
            customer_first_name: row.get(10)?,
            customer_last_name: row.get(11)?,
            foreign_currency: row.get(12)?,
            gateway_state: match gateway_state {
                None => None,
                Some(s) => {
                    Some(PaymentState::parse(&s).ok_or_else(|| corrupt("gateway state", &s))?)
                }
            },
            deleted: row.get(14)?,
            inquiry_count: row.get(15)?,
            last_inquiry_at_ms: row.get(16)?,
            created_at_ms: row.get(17)?,
            modified_at_ms: row.get(18)?,
        })
    };
    Ok(build())
}

fn child_from_row(row: &Row<'_>) -> rusqlite::Result<Result<ChildRow, StoreError>> {
    let operation: String = row.get(2)?;
    let currency: String = row.get(4)?;
    let state: String = row.get(5)?;
    let destination: Option<String> = row.get(7)?;
    let settles_to: Option<String> = row.get(10)?;
    let build = || -> Result<ChildRow, StoreError> {
        Ok(ChildRow {
            session_id: row.get(0)?,
            parent_session_id: row.get(1)?,
            operation: OperationKind::parse(&operation)
                .ok_or_else(|| corrupt("child operation", &operation))?,
            amount: row.get(3)?,
            currency: currency_of(&currency)?,
            state: ChildState::parse(&state).ok_or_else(|| corrupt("child state", &state))?,
            pg_code: row.get(6)?,
            destination: match destination {
                None => None,
                Some(d) => Some(Destination::parse(&d).ok_or_else(|| corrupt("destination", &d))?),
            },
            reference_number: row.get(8)?,
            settle_at_ms: row.get(9)?,
            settles_to: match settles_to {
                None => None,
                Some(s) => Some(ChildState::parse(&s).ok_or_else(|| corrupt("child state", &s))?),
            },
            created_at_ms: row.get(11)?,
            modified_at_ms: row.get(12)?,
        })
    };
    Ok(build())
}

fn operation_from_row(row: &Row<'_>) -> rusqlite::Result<Result<OperationRow, StoreError>> {
    let operation: String = row.get(3)?;
    let outcome: String = row.get(5)?;
    let build = || -> Result<OperationRow, StoreError> {
        Ok(OperationRow {
            id: row.get(0)?,
            tracking_key: row.get(1)?,
            session_id: row.get(2)?,
            operation: OperationKind::parse(&operation)
                .ok_or_else(|| corrupt("operation", &operation))?,
            amount: row.get(4)?,
            outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
            http_status: row.get(6)?,
            response_body: row.get(7)?,
            child_session_id: row.get(8)?,
            applied_at_ms: row.get(9)?,
        })
    };
    Ok(build())
}

impl Db<'_> {
    /// Savepoints let one job of a batch fail without undoing the others.
    pub fn savepoint(&self) -> Result<(), StoreError> {
        Ok(self.0.execute_batch("SAVEPOINT job")?)
    }

    pub fn release(&self) -> Result<(), StoreError> {
        Ok(self.0.execute_batch("RELEASE job")?)
    }

    pub fn rollback_to(&self) -> Result<(), StoreError> {
        Ok(self.0.execute_batch("ROLLBACK TO job; RELEASE job")?)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.0
            .prepare_cached("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")?
            .execute([key, value])?;
        Ok(())
    }

    pub fn insert_payment(&self, p: &PaymentRow) -> Result<(), StoreError> {
        let pg_codes = serde_json::to_string(&p.pg_codes).unwrap_or_else(|_| "[]".to_owned());
        self.0
            .prepare_cached(&format!(
                "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
            ))?
            .execute(params![
                p.session_id,
                p.order_no,
                p.amount,
                p.currency.code(),
                p.state.as_str(),
                p.pg_code,
                pg_codes,
                p.payment_kind,
                p.reference_number,
                p.customer_email,
                p.customer_first_name,
                p.customer_last_name,
                p.foreign_currency,
                p.gateway_state.map(PaymentState::as_str),
                p.deleted,
                p.inquiry_count,
                p.last_inquiry_at_ms,
                p.created_at_ms,
                p.modified_at_ms,
            ])?;
        Ok(())
    }

    fn one_payment(&self, sql_where: &str, value: &str) -> Result<Option<PaymentRow>, StoreError> {
        let found = self
            .0
            .prepare_cached(&format!(
                "SELECT {PAYMENT_COLUMNS} FROM payments WHERE {sql_where}"
            ))?
            .query_row([value], payment_from_row)
            .optional()?;
        found.transpose()
    }

    pub fn payment(&self, session_id: &str) -> Result<Option<PaymentRow>, StoreError> {
        self.one_payment("session_id = ?1", session_id)
    }

    pub fn payment_by_order_no(&self, order_no: &str) -> Result<Option<PaymentRow>, StoreError> {
        self.one_payment("order_no = ?1", order_no)
    }

    pub fn payment_exists(&self, session_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT 1 FROM payments WHERE session_id = ?1 UNION ALL SELECT 1 FROM children WHERE session_id = ?1")?
            .exists([session_id])?)
    }

    pub fn order_no_exists(&self, order_no: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT 1 FROM payments WHERE order_no = ?1")?
            .exists([order_no])?)
    }

    pub fn payment_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT COUNT(*) FROM payments")?
            .query_row([], |r| r.get(0))?)
    }

    pub fn all_payments(&self) -> Result<Vec<PaymentRow>, StoreError> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments ORDER BY rowid"
        ))?;
        let rows = stmt.query_map([], payment_from_row)?;
        rows.map(|r| r.map_err(StoreError::from).and_then(|x| x))
            .collect()
    }

    pub fn set_payment_state(
        &self,
        session_id: &str,
        state: PaymentState,
        now_ms: EpochMs,
    ) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "UPDATE payments SET state = ?2, modified_at_ms = ?3 WHERE session_id = ?1",
            )?
            .execute(params![session_id, state.as_str(), now_ms])?;
        Ok(())
    }

    pub fn mark_deleted(&self, session_id: &str, now_ms: EpochMs) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "UPDATE payments SET deleted = 1, modified_at_ms = ?2 WHERE session_id = ?1",
            )?
            .execute(params![session_id, now_ms])?;
        Ok(())
    }

    /// Records an allowed inquiry and, when asked, moves the payment to what the gateway knows.
    pub fn record_inquiry(
        &self,
        session_id: &str,
        now_ms: EpochMs,
        learned_state: Option<PaymentState>,
    ) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "UPDATE payments SET inquiry_count = inquiry_count + 1, last_inquiry_at_ms = ?2 \
                 WHERE session_id = ?1",
            )?
            .execute(params![session_id, now_ms])?;
        if let Some(state) = learned_state {
            self.0
                .prepare_cached(
                    "UPDATE payments SET state = ?2, gateway_state = NULL, modified_at_ms = ?3 \
                     WHERE session_id = ?1",
                )?
                .execute(params![session_id, state.as_str(), now_ms])?;
        }
        Ok(())
    }

    /// The number the next child gets (its session id and reference derive from it).
    pub fn next_child_number(&self) -> Result<u64, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT COALESCE(MAX(rowid), 0) + 1 FROM children")?
            .query_row([], |r| r.get(0))?)
    }

    /// The id the next operation row gets.
    pub fn next_operation_id(&self) -> Result<i64, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM operations")?
            .query_row([], |r| r.get(0))?)
    }

    /// Inserts a child as number `n` (see [`next_child_number`](Self::next_child_number)).
    pub fn insert_child(&self, n: u64, c: &ChildRow) -> Result<(), StoreError> {
        self.0
            .prepare_cached(&format!(
                "INSERT INTO children (rowid, {CHILD_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ))?
            .execute(params![
                n as i64,
                c.session_id,
                c.parent_session_id,
                c.operation.as_str(),
                c.amount,
                c.currency.code(),
                c.state.as_str(),
                c.pg_code,
                c.destination.map(Destination::as_str),
                c.reference_number,
                c.settle_at_ms,
                c.settles_to.map(ChildState::as_str),
                c.created_at_ms,
                c.modified_at_ms,
            ])?;
        Ok(())
    }

    pub fn child(&self, session_id: &str) -> Result<Option<ChildRow>, StoreError> {
        let found = self
            .0
            .prepare_cached(&format!(
                "SELECT {CHILD_COLUMNS} FROM children WHERE session_id = ?1"
            ))?
            .query_row([session_id], child_from_row)
            .optional()?;
        found.transpose()
    }

    pub fn children_of(&self, parent: &str) -> Result<Vec<ChildRow>, StoreError> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {CHILD_COLUMNS} FROM children WHERE parent_session_id = ?1 ORDER BY rowid"
        ))?;
        let rows = stmt.query_map([parent], child_from_row)?;
        rows.map(|r| r.map_err(StoreError::from).and_then(|x| x))
            .collect()
    }

    pub fn all_children(&self) -> Result<Vec<ChildRow>, StoreError> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {CHILD_COLUMNS} FROM children ORDER BY rowid"
        ))?;
        let rows = stmt.query_map([], child_from_row)?;
        rows.map(|r| r.map_err(StoreError::from).and_then(|x| x))
            .collect()
    }

    /// The sums of a parent's children.
    pub fn balances(&self, parent: &str) -> Result<Balances, StoreError> {
        let mut stmt = self.0.prepare_cached(
            "SELECT operation, state, SUM(amount_minor) FROM children \
             WHERE parent_session_id = ?1 GROUP BY operation, state",
        )?;
        let mut rows = stmt.query([parent])?;
        let mut balances = Balances::default();
        while let Some(row) = rows.next()? {
            let operation: String = row.get(0)?;
            let state: String = row.get(1)?;
            let sum: Minor = row.get(2)?;
            balances.add_child(
                OperationKind::parse(&operation)
                    .ok_or_else(|| corrupt("child operation", &operation))?,
                ChildState::parse(&state).ok_or_else(|| corrupt("child state", &state))?,
                sum,
            );
        }
        Ok(balances)
    }

    fn earliest_settle_at(&self) -> Result<Option<EpochMs>, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT MIN(settle_at_ms) FROM children WHERE state = 'refund_queued'")?
            .query_row([], |r| r.get(0))?)
    }

    /// Settles the queued refunds due at `cutoff_ms` (all of them for `EpochMs::MAX`).
    pub fn settle_until(&self, cutoff_ms: EpochMs, now_ms: EpochMs) -> Result<usize, StoreError> {
        Ok(self
            .0
            .prepare_cached(
                "UPDATE children SET state = COALESCE(settles_to, 'refunded'), modified_at_ms = ?2 \
                 WHERE state = 'refund_queued' AND settle_at_ms <= ?1",
            )?
            .execute(params![cutoff_ms, now_ms])?)
    }

    pub fn operation_by_key(&self, tracking_key: &str) -> Result<Option<OperationRow>, StoreError> {
        let found = self
            .0
            .prepare_cached(&format!(
                "SELECT {OPERATION_COLUMNS} FROM operations WHERE tracking_key = ?1"
            ))?
            .query_row([tracking_key], operation_from_row)
            .optional()?;
        found.transpose()
    }

    pub fn insert_operation(&self, op: &OperationRow) -> Result<(), StoreError> {
        self.0
            .prepare_cached(&format!(
                "INSERT INTO operations ({OPERATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?
            .execute(params![
                op.id,
                op.tracking_key,
                op.session_id,
                op.operation.as_str(),
                op.amount,
                op.outcome.as_str(),
                op.http_status,
                op.response_body,
                op.child_session_id,
                op.applied_at_ms,
            ])?;
        Ok(())
    }

    pub fn all_operations(&self) -> Result<Vec<OperationRow>, StoreError> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {OPERATION_COLUMNS} FROM operations ORDER BY id"
        ))?;
        let rows = stmt.query_map([], operation_from_row)?;
        rows.map(|r| r.map_err(StoreError::from).and_then(|x| x))
            .collect()
    }

    pub fn upsert_user(&self, user: &UserRow) -> Result<(), StoreError> {
        let permissions: Vec<&str> = user.permissions.iter().map(|p| p.as_str()).collect();
        self.0
            .prepare_cached(
                "INSERT INTO users(name, password, permissions) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(name) DO UPDATE SET password = excluded.password, permissions = excluded.permissions",
            )?
            .execute(params![user.name, user.password, permissions.join(" ")])?;
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT name, password, permissions FROM users ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut users = Vec::new();
        for row in rows {
            let (name, password, permissions) = row?;
            let permissions = permissions
                .split_whitespace()
                .map(|p| Permission::parse(p).ok_or_else(|| corrupt("permission", p)))
                .collect::<Result<Vec<_>, _>>()?;
            users.push(UserRow {
                name,
                password,
                permissions,
            });
        }
        Ok(users)
    }
}

/// Child session ids and reference numbers: one function, so seeded and live children are
/// named the same way.
pub fn child_identity(seed: u64, n: u64) -> (String, String) {
    (
        session_id(seed, IdSpace::Child, n),
        reference_number(seed, (1 << 40) | n),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(session_id: &str, order_no: &str) -> PaymentRow {
        PaymentRow {
            session_id: session_id.to_owned(),
            order_no: Some(order_no.to_owned()),
            amount: 10_000,
            currency: Currency::KWD,
            state: PaymentState::Paid,
            pg_code: "knet".to_owned(),
            pg_codes: vec!["knet".to_owned()],
            payment_kind: "e_commerce".to_owned(),
            reference_number: "REF".to_owned(),
            customer_email: None,
            customer_first_name: None,
            customer_last_name: None,
            foreign_currency: false,
            gateway_state: None,
            deleted: false,
            inquiry_count: 0,
            last_inquiry_at_ms: None,
            created_at_ms: 1,
            modified_at_ms: 1,
        }
    }

    #[test]
    fn payments_round_trip_and_order_numbers_are_unique() {
        let mut store = Store::open(None).unwrap();
        store
            .write(|db| db.insert_payment(&payment("s1", "ORD-1")))
            .unwrap();
        assert_eq!(
            store.db().payment("s1").unwrap(),
            Some(payment("s1", "ORD-1"))
        );
        assert_eq!(
            store
                .db()
                .payment_by_order_no("ORD-1")
                .unwrap()
                .unwrap()
                .session_id,
            "s1"
        );
        let dup = store.write(|db| db.insert_payment(&payment("s2", "ORD-1")));
        assert!(dup.is_err());
        assert_eq!(store.db().payment_count().unwrap(), 1);
    }

    #[test]
    fn queued_refunds_settle_when_due() {
        let mut store = Store::open(None).unwrap();
        store
            .write(|db| {
                db.insert_payment(&payment("p", "O"))?;
                let n = db.next_child_number()?;
                let (id, reference) = child_identity(1, n);
                db.insert_child(
                    n,
                    &ChildRow {
                        session_id: id,
                        parent_session_id: "p".to_owned(),
                        operation: OperationKind::Refund,
                        amount: 400,
                        currency: Currency::KWD,
                        state: ChildState::RefundQueued,
                        pg_code: "queued-pg".to_owned(),
                        destination: Some(Destination::Pg),
                        reference_number: reference,
                        settle_at_ms: Some(100),
                        settles_to: Some(ChildState::RefundRejected),
                        created_at_ms: 1,
                        modified_at_ms: 1,
                    },
                )
            })
            .unwrap();
        store.note_queued(100);
        assert_eq!(store.db().balances("p").unwrap().refund_queued, 400);
        let (_, committed) = store.batch(99, |_| ());
        committed.unwrap();
        assert_eq!(store.db().balances("p").unwrap().refund_queued, 400);
        let (_, committed) = store.batch(100, |_| ());
        committed.unwrap();
        let b = store.db().balances("p").unwrap();
        assert_eq!((b.refunded, b.refund_queued), (0, 0));
        assert_eq!(store.next_settle_at_ms, None);
    }
}
