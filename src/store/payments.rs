//! The `payments` table: one row per Ottu payment transaction per profile.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Row, Transaction, params, params_from_iter};

use super::{Result, StoreError, parse_word};
use crate::model::{
    NewPayment, OrderNo, Payment, PaymentId, PaymentState, ProfileId, ProfileName, SessionId,
};
use crate::money::{Amount, Currency};

/// How a command names a payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentRef {
    SessionId(SessionId),
    OrderNo(OrderNo),
}

/// `payment list` filters; the newest payments come first.
#[derive(Clone, Debug, Default)]
pub struct PaymentFilter {
    pub profile: Option<ProfileId>,
    pub state: Option<PaymentState>,
    /// Substring of the session id or order number.
    pub search: Option<String>,
    pub limit: u32,
}

const SELECT: &str = "SELECT p.id, pr.name, p.session_id, p.order_no, p.amount_minor, p.currency,
        p.state, p.hidden, p.source, p.created_at_ms
    FROM payments p JOIN profiles pr ON pr.id = p.profile_id";

type RawPayment = (
    i64,
    String,
    String,
    Option<String>,
    i64,
    String,
    String,
    bool,
    String,
    i64,
);

fn from_row(r: &Row<'_>) -> rusqlite::Result<RawPayment> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn decode(raw: RawPayment) -> Result<Payment> {
    let (
        id,
        profile,
        session_id,
        order_no,
        amount_minor,
        currency,
        state,
        hidden,
        source,
        created_at_ms,
    ) = raw;
    let currency = Currency::from_code(&currency)
        .map_err(|_| StoreError::corrupt("payment currency", currency))?;
    Ok(Payment {
        id: PaymentId(id),
        profile: ProfileName::parse(&profile)
            .map_err(|_| StoreError::corrupt("profile name", &profile))?,
        session_id: SessionId::parse(&session_id)
            .map_err(|_| StoreError::corrupt("session id", &session_id))?,
        order_no: order_no
            .map(|o| OrderNo::parse(&o).map_err(|_| StoreError::corrupt("order number", o)))
            .transpose()?,
        amount: Amount::from_minor(amount_minor, currency),
        state: parse_word("payment state", state)?,
        hidden,
        source: parse_word("payment source", source)?,
        created_at_ms,
    })
}

fn collect(rows: impl Iterator<Item = rusqlite::Result<RawPayment>>) -> Result<Vec<Payment>> {
    rows.map(|r| decode(r?)).collect()
}

const INSERT: &str = "INSERT INTO payments
    (profile_id, session_id, order_no, amount_minor, currency, state, source, created_at_ms, updated_at_ms)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

pub fn insert(
    tx: &Transaction<'_>,
    profile: ProfileId,
    payment: &NewPayment,
    now_ms: i64,
) -> Result<PaymentId> {
    let mut stmt = tx.prepare_cached(INSERT)?;
    stmt.execute(params![
        profile.0,
        payment.session_id.as_str(),
        payment.order_no.as_ref().map(OrderNo::as_str),
        payment.amount.minor(),
        payment.amount.currency().code(),
        payment.state.as_str(),
        payment.source.as_str(),
        payment.created_at_ms,
        now_ms,
    ])?;
    Ok(PaymentId(tx.last_insert_rowid()))
}

/// Whether a session id is already in the profile's ledger.
pub fn exists(tx: &Transaction<'_>, profile: ProfileId, session_id: &SessionId) -> Result<bool> {
    let mut stmt =
        tx.prepare_cached("SELECT 1 FROM payments WHERE profile_id = ?1 AND session_id = ?2")?;
    Ok(stmt.exists(params![profile.0, session_id.as_str()])?)
}

/// The payments a reference names, optionally within one profile; at most `limit`.
pub fn find(
    tx: &Transaction<'_>,
    reference: &PaymentRef,
    profile: Option<ProfileId>,
    limit: u32,
) -> Result<Vec<Payment>> {
    // Session ids are indexed only behind profile_id, UNIQUE (profile_id, session_id):
    // look one up through that index once per profile, never by scanning the table.
    let (condition, value) = match reference {
        PaymentRef::SessionId(s) => (
            "p.profile_id IN (SELECT id FROM profiles WHERE ?2 IS NULL OR id = ?2) AND p.session_id = ?1",
            s.as_str(),
        ),
        PaymentRef::OrderNo(o) => (
            "p.order_no = ?1 AND (?2 IS NULL OR p.profile_id = ?2)",
            o.as_str(),
        ),
    };
    let sql = format!("{SELECT} WHERE {condition} ORDER BY p.id LIMIT ?3");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![value, profile.map(|p| p.0), limit], from_row)?;
    collect(rows)
}

pub fn by_id(tx: &Transaction<'_>, id: PaymentId) -> Result<Payment> {
    let sql = format!("{SELECT} WHERE p.id = ?1");
    let mut stmt = tx.prepare_cached(&sql)?;
    let raw = stmt.query_row([id.0], from_row)?;
    decode(raw)
}

/// Escapes LIKE wildcards so a search for `50%` finds the text `50%`.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

pub fn list(tx: &Transaction<'_>, filter: &PaymentFilter) -> Result<Vec<Payment>> {
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(profile) = filter.profile {
        args.push(profile.0.into());
        sql.push_str(&format!(" AND p.profile_id = ?{}", args.len()));
    }
    if let Some(state) = filter.state {
        args.push(state.as_str().to_string().into());
        sql.push_str(&format!(" AND p.state = ?{}", args.len()));
    }
    if let Some(search) = &filter.search {
        args.push(like_pattern(search).into());
        let n = args.len();
        sql.push_str(&format!(
            " AND (p.session_id LIKE ?{n} ESCAPE '\\' OR p.order_no LIKE ?{n} ESCAPE '\\')"
        ));
    }
    args.push(i64::from(filter.limit).into());
    sql.push_str(&format!(
        " ORDER BY p.created_at_ms DESC, p.id DESC LIMIT ?{}",
        args.len()
    ));
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), from_row)?;
    collect(rows)
}

/// Sets the payment's state (cancel and expire change the parent); returns the old one.
pub fn set_state(
    tx: &Transaction<'_>,
    id: PaymentId,
    state: PaymentState,
    now_ms: i64,
) -> Result<PaymentState> {
    let old: String = tx.query_row("SELECT state FROM payments WHERE id = ?1", [id.0], |r| {
        r.get(0)
    })?;
    tx.execute(
        "UPDATE payments SET state = ?2, updated_at_ms = ?3 WHERE id = ?1",
        params![id.0, state.as_str(), now_ms],
    )?;
    parse_word("payment state", old)
}

/// Marks the payment deleted at Ottu: hidden from reports, its history kept.
pub fn set_hidden(tx: &Transaction<'_>, id: PaymentId, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE payments SET hidden = 1, updated_at_ms = ?2 WHERE id = ?1",
        params![id.0, now_ms],
    )?;
    Ok(())
}

/// What an upsert from Ottu did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upserted {
    Added(PaymentId),
    /// Fields that changed: `(before, after)` as the ledger held and now holds them.
    Updated {
        id: PaymentId,
        before: Payment,
    },
    Unchanged(PaymentId),
}

/// Inserts a payment read from Ottu, or brings the ledger's copy up to date: amount,
/// state and order number follow Ottu. Writes nothing when nothing differs, so importing
/// twice changes nothing the second time.
pub fn upsert_from_ottu(
    tx: &Transaction<'_>,
    profile: ProfileId,
    payment: &NewPayment,
    now_ms: i64,
) -> Result<Upserted> {
    let existing = find(
        tx,
        &PaymentRef::SessionId(payment.session_id.clone()),
        Some(profile),
        1,
    )?;
    let Some(before) = existing.into_iter().next() else {
        let id = insert(tx, profile, payment, now_ms)?;
        tx.execute(
            "UPDATE payments SET refreshed_at_ms = ?2 WHERE id = ?1",
            params![id.0, now_ms],
        )?;
        return Ok(Upserted::Added(id));
    };
    if before.amount == payment.amount
        && before.state == payment.state
        && (payment.order_no.is_none() || before.order_no == payment.order_no)
    {
        return Ok(Upserted::Unchanged(before.id));
    }
    tx.execute(
        "UPDATE payments SET amount_minor = ?2, currency = ?3, state = ?4,
             order_no = COALESCE(?5, order_no), updated_at_ms = ?6, refreshed_at_ms = ?6
         WHERE id = ?1",
        params![
            before.id.0,
            payment.amount.minor(),
            payment.amount.currency().code(),
            payment.state.as_str(),
            payment.order_no.as_ref().map(OrderNo::as_str),
            now_ms,
        ],
    )?;
    Ok(Upserted::Updated {
        id: before.id,
        before,
    })
}
