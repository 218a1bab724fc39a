//! The `payments` table: one row per Ottu payment transaction per profile.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Row, Transaction, params, params_from_iter};

use super::{Result, StoreError, parse_word};
use crate::limits::{SEARCH_COUNT_CAP, SEARCH_MIN_PREFIX_CHARS};
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

/// `payment list` filters; the newest payments come first (`created_at_ms` descending,
/// then `id` descending: the order of the `payments_*newest` indexes).
#[derive(Clone, Debug, Default)]
pub struct PaymentFilter {
    pub profile: Option<ProfileId>,
    pub state: Option<PaymentState>,
    /// The start of an order number, customer email (both any case), phone, session id, or
    /// Ottu reference number of one of the payment's operations. Text shorter than
    /// [`SEARCH_MIN_PREFIX_CHARS`] keeps the old meaning: anywhere in any of them, which
    /// reads the whole table.
    pub search: Option<String>,
    /// Created at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Created before (Unix ms).
    pub to_ms: Option<i64>,
    /// Only payments after this one in list order (keyset paging).
    pub after: Option<PaymentKey>,
    pub limit: u32,
}

/// A payment's place in list order: what a cursor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaymentKey {
    pub created_at_ms: i64,
    pub id: PaymentId,
}

impl From<&Payment> for PaymentKey {
    fn from(p: &Payment) -> Self {
        PaymentKey {
            created_at_ms: p.created_at_ms,
            id: p.id,
        }
    }
}

const COLUMNS: &str = "SELECT p.id, pr.name, p.session_id, p.order_no, p.amount_minor, p.currency,
        p.state, p.hidden, p.source, p.created_at_ms, p.customer_email, p.customer_phone";

const SELECT: &str = "SELECT p.id, pr.name, p.session_id, p.order_no, p.amount_minor, p.currency,
        p.state, p.hidden, p.source, p.created_at_ms, p.customer_email, p.customer_phone
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
    Option<String>,
    Option<String>,
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
        r.get(10)?,
        r.get(11)?,
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
        customer_email,
        customer_phone,
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
        customer_email,
        customer_phone,
    })
}

fn collect(rows: impl Iterator<Item = rusqlite::Result<RawPayment>>) -> Result<Vec<Payment>> {
    rows.map(|r| decode(r?)).collect()
}

const INSERT: &str = "INSERT INTO payments
    (profile_id, session_id, order_no, amount_minor, currency, state, source, created_at_ms,
     updated_at_ms, customer_email, customer_phone)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

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
        payment.customer_email,
        payment.customer_phone,
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

/// The half-open range `[text, end)` of NOCASE strings starting with `text`: the prefix
/// as a range, which an index on the column can seek (LIKE 'x%' cannot when bound).
fn prefix_range(text: &str) -> (String, String) {
    (text.to_string(), format!("{text}\u{10FFFF}"))
}

/// SQL and arguments of one list query, built from a filter.
struct Query {
    /// `FROM ... WHERE ...` without ORDER BY.
    from_where: String,
    args: Vec<SqlValue>,
}

impl Query {
    fn arg(&mut self, value: impl Into<SqlValue>) -> usize {
        self.args.push(value.into());
        self.args.len()
    }
}

/// Payment ids whose operations carry an Ottu reference number starting with the
/// parameters' range (index `operations_by_reference`).
fn reference_ids(lo: usize, hi: usize) -> String {
    format!(
        "SELECT payment_id FROM operations WHERE reference_number COLLATE NOCASE >= ?{lo} \
         AND reference_number COLLATE NOCASE < ?{hi}"
    )
}

/// Payment ids whose session id starts with the parameters' range, through
/// `UNIQUE (profile_id, session_id)` once per profile (a few), never a scan.
fn session_ids(lo: usize, hi: usize) -> String {
    format!(
        "SELECT id FROM payments WHERE profile_id IN (SELECT id FROM profiles) \
         AND session_id >= ?{lo} AND session_id < ?{hi}"
    )
}

/// Payment ids whose `column` starts with the parameters' range, through its index
/// (`payments_by_order_no_nocase`, `payments_by_email`: any case; `payments_by_phone`).
fn column_ids(column: &str, nocase: bool, lo: usize, hi: usize) -> String {
    let collate = if nocase { " COLLATE NOCASE" } else { "" };
    format!(
        "SELECT id FROM payments WHERE {column}{collate} >= ?{lo} AND {column}{collate} < ?{hi}"
    )
}

/// The prefix search as a test of one payment row (`p`): the ranges [`build`] reads from
/// the indexes, field by field, for [`Shape::Walked`].
fn row_matches(q: &mut Query, text: &str) -> String {
    let (lo, hi) = prefix_range(text);
    let (lo, hi) = (q.arg(lo), q.arg(hi));
    let range = |column: &str, collate: &str, lo: usize, hi: usize| {
        format!("({column}{collate} >= ?{lo} AND {column}{collate} < ?{hi})")
    };
    let mut parts = vec![
        range("p.order_no", " COLLATE NOCASE", lo, hi),
        range("p.customer_email", " COLLATE NOCASE", lo, hi),
        range("p.customer_phone", "", lo, hi),
        range("p.session_id", "", lo, hi),
        format!(
            "EXISTS (SELECT 1 FROM operations o WHERE o.payment_id = p.id \
             AND o.reference_number COLLATE NOCASE >= ?{lo} \
             AND o.reference_number COLLATE NOCASE < ?{hi})"
        ),
    ];
    let lower = text.to_ascii_lowercase();
    if lower != text {
        let (llo, lhi) = prefix_range(&lower);
        let (llo, lhi) = (q.arg(llo), q.arg(lhi));
        parts.push(range("p.session_id", "", llo, lhi));
    }
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        let (plo, phi) = prefix_range(&format!("+{text}"));
        let (plo, phi) = (q.arg(plo), q.arg(phi));
        parts.push(range("p.customer_phone", "", plo, phi));
    }
    format!("({})", parts.join(" OR "))
}

/// How a prefix search (of [`SEARCH_MIN_PREFIX_CHARS`] or more) finds its matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One index range per field, the ranges joined by `UNION` (each payment once).
    Indexed,
    /// The same ranges by `UNION ALL`: rows stream, so a `DISTINCT ... LIMIT` over them
    /// stops early (the capped count); a payment matching in two fields comes twice.
    Streamed,
    /// In list order, each payment tested field by field: a page of a broad search fills
    /// after a few rows instead of reading and sorting every match.
    Walked,
}

/// The filter as SQL. With `keyset`, rows after `filter.after` only. A search of
/// [`SEARCH_MIN_PREFIX_CHARS`] or more, [`Shape::Indexed`] or [`Shape::Streamed`], reads
/// its matches from one index range per field first (`CROSS JOIN` keeps SQLite from
/// walking the whole list order instead), so it costs what it matches, not the table's
/// size; [`Shape::Walked`] tests the same ranges on each row in list order.
fn build(filter: &PaymentFilter, keyset: bool, shape: Shape) -> Query {
    let mut q = Query {
        from_where: String::new(),
        args: Vec::new(),
    };
    let search = filter.search.as_deref().filter(|s| !s.is_empty());
    let mut conditions: Vec<String> = Vec::new();
    match search {
        Some(text) if text.chars().count() >= SEARCH_MIN_PREFIX_CHARS && shape == Shape::Walked => {
            q.from_where = "FROM payments p JOIN profiles pr ON pr.id = p.profile_id".into();
            conditions.push(row_matches(&mut q, text));
        }
        Some(text) if text.chars().count() >= SEARCH_MIN_PREFIX_CHARS => {
            let (lo, hi) = prefix_range(text);
            let (lo, hi) = (q.arg(lo), q.arg(hi));
            let mut parts = vec![
                column_ids("order_no", true, lo, hi),
                column_ids("customer_email", true, lo, hi),
                column_ids("customer_phone", false, lo, hi),
                session_ids(lo, hi),
                reference_ids(lo, hi),
            ];
            // Session ids also in lower case (Ottu's are lower-case hex).
            let lower = text.to_ascii_lowercase();
            if lower != text {
                let (llo, lhi) = prefix_range(&lower);
                let (llo, lhi) = (q.arg(llo), q.arg(lhi));
                parts.push(session_ids(llo, lhi));
            }
            // A phone typed without its leading `+`.
            if text.starts_with(|c: char| c.is_ascii_digit()) {
                let (plo, phi) = prefix_range(&format!("+{text}"));
                let (plo, phi) = (q.arg(plo), q.arg(phi));
                parts.push(column_ids("customer_phone", false, plo, phi));
            }
            let only_search = filter.profile.is_none()
                && filter.state.is_none()
                && filter.from_ms.is_none()
                && filter.to_ms.is_none();
            q.from_where = if shape == Shape::Streamed && only_search {
                // Nothing to test on the payment row: the count reads the indexes alone.
                format!("FROM ({}) m", parts.join(" UNION ALL "))
            } else {
                format!(
                    "FROM ({}) m CROSS JOIN payments p ON p.id = m.id \
                     JOIN profiles pr ON pr.id = p.profile_id",
                    parts.join(if shape == Shape::Indexed {
                        " UNION "
                    } else {
                        " UNION ALL "
                    })
                )
            };
        }
        Some(text) => {
            q.from_where = "FROM payments p JOIN profiles pr ON pr.id = p.profile_id".into();
            let like = q.arg(like_pattern(text));
            let (lo, hi) = prefix_range(text);
            let (lo, hi) = (q.arg(lo), q.arg(hi));
            conditions.push(format!(
                "(p.session_id LIKE ?{like} ESCAPE '\\' OR p.order_no LIKE ?{like} ESCAPE '\\' \
                 OR p.customer_email LIKE ?{like} ESCAPE '\\' \
                 OR p.customer_phone LIKE ?{like} ESCAPE '\\' OR p.id IN ({}))",
                reference_ids(lo, hi)
            ));
        }
        None => {
            q.from_where = "FROM payments p JOIN profiles pr ON pr.id = p.profile_id".into();
        }
    }
    if let Some(profile) = filter.profile {
        let n = q.arg(profile.0);
        conditions.push(format!("p.profile_id = ?{n}"));
    }
    if let Some(state) = filter.state {
        let n = q.arg(state.as_str().to_string());
        conditions.push(format!("p.state = ?{n}"));
    }
    if let Some(from) = filter.from_ms {
        let n = q.arg(from);
        conditions.push(format!("p.created_at_ms >= ?{n}"));
    }
    if let Some(to) = filter.to_ms {
        let n = q.arg(to);
        conditions.push(format!("p.created_at_ms < ?{n}"));
    }
    if let (true, Some(after)) = (keyset, filter.after) {
        let (at, id) = (q.arg(after.created_at_ms), q.arg(after.id.0));
        conditions.push(format!("(p.created_at_ms, p.id) < (?{at}, ?{id})"));
    }
    if !conditions.is_empty() {
        q.from_where.push_str(" WHERE ");
        q.from_where.push_str(&conditions.join(" AND "));
    }
    q
}

/// How many payments a filter matches on all pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Total {
    /// Exact unless `capped`; then [`SEARCH_COUNT_CAP`], a lower bound.
    pub count: u64,
    /// A search matched more than [`SEARCH_COUNT_CAP`] payments and counting stopped there.
    pub capped: bool,
}

/// One page in list order (up to `filter.limit` payments after `filter.after`) and how
/// many payments match the filter on all pages.
///
/// The total: without a search or a date range, a sum over `payment_counts` (kept by
/// triggers), a few rows whatever the ledger's size; with a date range only, a count over
/// the range of `payments_newest`, exact. With a search, counted up to
/// [`SEARCH_COUNT_CAP`] ([`count`]): the ledger is shared (the app holds it for each
/// keystroke), so no search page may read every match of a broad prefix. Below the cap
/// the matches are few and the page sorts them from the indexes; at the cap they are many,
/// and the page walks the list order, testing each row, until it is full.
pub fn page(tx: &Transaction<'_>, filter: &PaymentFilter) -> Result<(Vec<Payment>, Total)> {
    let total = count(tx, filter)?;
    let (sql, args) = page_statement(filter, total.capped)?;
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), from_row)?;
    Ok((collect(rows)?, total))
}

/// The page's statement and its arguments; `many` (the search hit the count cap) walks
/// the list order instead of sorting the matches read from the indexes.
fn page_statement(filter: &PaymentFilter, many: bool) -> Result<(String, Vec<SqlValue>)> {
    let shape = if many { Shape::Walked } else { Shape::Indexed };
    let mut q = build(filter, true, shape);
    let limit = q.arg(i64::from(filter.limit));
    let sql = format!(
        "{COLUMNS} {} ORDER BY p.created_at_ms DESC, p.id DESC LIMIT ?{limit}",
        q.from_where
    );
    Ok((sql, q.args))
}

fn to_count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::corrupt("payment count", n.to_string()))
}

/// How many payments match the filter (all pages; `after` and `limit` ignored). Exact
/// without a search; with one, counting stops past [`SEARCH_COUNT_CAP`] (see [`page`]).
pub fn count(tx: &Transaction<'_>, filter: &PaymentFilter) -> Result<Total> {
    let search = filter.search.as_deref().filter(|s| !s.is_empty());
    let plain = search.is_none() && filter.from_ms.is_none() && filter.to_ms.is_none();
    let exact = |n: i64| -> Result<Total> {
        Ok(Total {
            count: to_count(n)?,
            capped: false,
        })
    };
    if plain {
        let n: i64 = tx
            .prepare_cached(
                "SELECT COALESCE(SUM(n), 0) FROM payment_counts
             WHERE (?1 IS NULL OR profile_id = ?1) AND (?2 IS NULL OR state = ?2)",
            )?
            .query_row(
                params![
                    filter.profile.map(|p| p.0),
                    filter.state.map(PaymentState::as_str)
                ],
                |r| r.get(0),
            )?;
        return exact(n);
    }
    let Some(search) = search else {
        let q = build(filter, false, Shape::Indexed);
        let sql = format!("SELECT count(*) {}", q.from_where);
        let n: i64 = tx
            .prepare_cached(&sql)?
            .query_row(params_from_iter(q.args), |r| r.get(0))?;
        return exact(n);
    };
    // One past the cap tells "more than the cap" from "exactly the cap". DISTINCT over the
    // streamed ranges: a payment found in two fields is one match, and the LIMIT stops the
    // index reads there.
    let mut q = build(filter, false, Shape::Streamed);
    let cap = q.arg(i64::try_from(SEARCH_COUNT_CAP + 1).unwrap_or(i64::MAX));
    // The prefix search's ids come from the index ranges (`m`), the short one's from the rows.
    let id = match search.chars().count() >= SEARCH_MIN_PREFIX_CHARS {
        true => "m.id",
        false => "p.id",
    };
    let sql = format!(
        "SELECT count(*) FROM (SELECT DISTINCT {id} {} LIMIT ?{cap})",
        q.from_where
    );
    let n = to_count(
        tx.prepare_cached(&sql)?
            .query_row(params_from_iter(q.args), |r| r.get(0))?,
    )?;
    Ok(Total {
        count: n.min(SEARCH_COUNT_CAP),
        capped: n > SEARCH_COUNT_CAP,
    })
}

/// The query plan SQLite picks for a list page with this filter (`EXPLAIN QUERY PLAN`,
/// one line per step; the statement [`page`] would run, so after counting the matches):
/// lets tests prove a search uses its indexes, and a capped one walks the list order.
pub fn list_plan(tx: &Transaction<'_>, filter: &PaymentFilter) -> Result<Vec<String>> {
    let (sql, args) = page_statement(filter, count(tx, filter)?.capped)?;
    let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, String>(3))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
    // A field Ottu left out keeps the ledger's value (as the order number always did).
    let kept = |new: &Option<String>, old: &Option<String>| new.is_none() || new == old;
    if before.amount == payment.amount
        && before.state == payment.state
        && (payment.order_no.is_none() || before.order_no == payment.order_no)
        && kept(&payment.customer_email, &before.customer_email)
        && kept(&payment.customer_phone, &before.customer_phone)
    {
        return Ok(Upserted::Unchanged(before.id));
    }
    // `created_at_ms` is never set here: an import by id has no creation time from Ottu
    // (it was dated at the first import), and a report may since have given Ottu's.
    tx.execute(
        "UPDATE payments SET amount_minor = ?2, currency = ?3, state = ?4,
             order_no = COALESCE(?5, order_no), updated_at_ms = ?6, refreshed_at_ms = ?6,
             customer_email = COALESCE(?7, customer_email),
             customer_phone = COALESCE(?8, customer_phone)
         WHERE id = ?1",
        params![
            before.id.0,
            payment.amount.minor(),
            payment.amount.currency().code(),
            payment.state.as_str(),
            payment.order_no.as_ref().map(OrderNo::as_str),
            now_ms,
            payment.customer_email,
            payment.customer_phone,
        ],
    )?;
    Ok(Upserted::Updated {
        id: before.id,
        before,
    })
}

/// A payment as a report import compares it with a report row (issue 10, REPORTS): its
/// fields Ottu's reports carry, and whether the ledger holds history a report must not
/// overwrite (operations or children; an operation still unfinished).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedState {
    pub id: PaymentId,
    pub order_no: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub state: String,
    pub pg_code: Option<String>,
    pub reference_number: Option<String>,
    pub customer_email: Option<String>,
    pub remote_modified_at_ms: Option<i64>,
    /// Where the payment came from (`ottu`: imported by session id; `manual`; `report`).
    pub source: String,
    pub created_at_ms: i64,
    /// The payment has operations or children.
    pub has_history: bool,
    /// An operation on it is queued, in flight, blocked or needs attention.
    pub unfinished: bool,
}

/// The payment with `session_id` in the profile, as [`ReportedState`].
pub fn reported_state(
    tx: &Transaction<'_>,
    profile: ProfileId,
    session_id: &str,
) -> Result<Option<ReportedState>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT p.id, p.order_no, p.amount_minor, p.currency, p.state, p.pg_code,
                p.reference_number, p.customer_email, p.remote_modified_at_ms,
                EXISTS (SELECT 1 FROM operations o WHERE o.payment_id = p.id)
                    OR EXISTS (SELECT 1 FROM children c WHERE c.payment_id = p.id),
                EXISTS (SELECT 1 FROM operations o WHERE o.payment_id = p.id
                        AND o.status IN {}),
                p.source, p.created_at_ms
         FROM payments p WHERE p.profile_id = ?1 AND p.session_id = ?2",
        super::operations::RESERVING_STATUSES_SQL
    ))?;
    let mut rows = stmt.query(params![profile.0, session_id])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(ReportedState {
        id: PaymentId(r.get(0)?),
        order_no: r.get(1)?,
        amount_minor: r.get(2)?,
        currency: r.get(3)?,
        state: r.get(4)?,
        pg_code: r.get(5)?,
        reference_number: r.get(6)?,
        customer_email: r.get(7)?,
        remote_modified_at_ms: r.get(8)?,
        has_history: r.get(9)?,
        unfinished: r.get(10)?,
        source: r.get(11)?,
        created_at_ms: r.get(12)?,
    }))
}

/// The session id of another payment of the profile holding `order_no`, if any.
pub fn order_no_owner(
    tx: &Transaction<'_>,
    profile: ProfileId,
    order_no: &str,
    except_session_id: &str,
) -> Result<Option<String>> {
    // `+profile_id`: through `payments_by_order_no` (a few rows), never the profile's
    // index, which the planner otherwise picks and which walks all its payments per call.
    let mut stmt = tx.prepare_cached(
        "SELECT session_id FROM payments
         WHERE order_no = ?2 AND +profile_id = ?1 AND session_id <> ?3 LIMIT 1",
    )?;
    let mut rows = stmt.query(params![profile.0, order_no, except_session_id])?;
    Ok(match rows.next()? {
        Some(r) => Some(r.get(0)?),
        None => None,
    })
}

/// A payment as a report row gives it.
#[derive(Clone, Copy, Debug)]
pub struct ReportedPayment<'a> {
    pub session_id: &'a str,
    pub order_no: Option<&'a str>,
    pub amount: Amount,
    pub state: &'a str,
    pub pg_code: Option<&'a str>,
    pub reference_number: Option<&'a str>,
    pub customer_email: Option<&'a str>,
    pub created_at_ms: i64,
    pub remote_modified_at_ms: Option<i64>,
}

/// Inserts a payment first seen in a report (`source` = `report`).
pub fn insert_reported(
    tx: &Transaction<'_>,
    profile: ProfileId,
    p: &ReportedPayment<'_>,
    now_ms: i64,
) -> Result<PaymentId> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO payments
            (profile_id, session_id, order_no, amount_minor, currency, state, source, pg_code,
             reference_number, customer_email, created_at_ms, updated_at_ms, remote_modified_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'report', ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    stmt.execute(params![
        profile.0,
        p.session_id,
        p.order_no,
        p.amount.minor(),
        p.amount.currency().code(),
        p.state,
        p.pg_code,
        p.reference_number,
        p.customer_email,
        p.created_at_ms,
        now_ms,
        p.remote_modified_at_ms,
    ])?;
    Ok(PaymentId(tx.last_insert_rowid()))
}

/// Brings a payment up to a report row: amount and state; order number, gateway code,
/// reference number, customer email and Ottu's modified time where the row has them;
/// the creation time only when `move_created` (Ottu's time for a payment imported by id,
/// which was dated at its import).
pub fn update_reported(
    tx: &Transaction<'_>,
    id: PaymentId,
    p: &ReportedPayment<'_>,
    move_created: bool,
    now_ms: i64,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE payments SET amount_minor = ?2, state = ?3, order_no = COALESCE(?4, order_no),
             pg_code = COALESCE(?5, pg_code), reference_number = COALESCE(?6, reference_number),
             customer_email = COALESCE(?7, customer_email),
             remote_modified_at_ms = COALESCE(?8, remote_modified_at_ms), updated_at_ms = ?9,
             created_at_ms = CASE WHEN ?10 THEN ?11 ELSE created_at_ms END
         WHERE id = ?1",
    )?;
    stmt.execute(params![
        id.0,
        p.amount.minor(),
        p.state,
        p.order_no,
        p.pg_code,
        p.reference_number,
        p.customer_email,
        p.remote_modified_at_ms,
        now_ms,
        move_created,
        p.created_at_ms,
    ])?;
    Ok(())
}
