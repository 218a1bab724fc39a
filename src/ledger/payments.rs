//! Payments: entry by hand, bulk insert, listing and the detail view with its timeline.

use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::{
    Ledger, PaymentDetail, PaymentLookup, PaymentPage, PaymentView, balances, find_payment,
    payment_facts, profile_id,
};
use crate::error::{Error, FieldContext, Result};
use crate::limits::{BULK_INSERT_BATCH_ROWS, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS};
use crate::model::{NewPayment, OrderNo, PaymentId, PaymentSource, PaymentState, SessionId};
use crate::money::{Amount, Currency};
use crate::rules::Balances;
use crate::store::{self, EventInsert, PaymentFilter, PaymentKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// `payment add`: a payment entered by hand, as the user's text (the facade checks it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct PaymentInput {
    pub profile: String,
    pub session_id: String,
    pub order_no: Option<String>,
    /// A decimal in the currency's decimals, e.g. `12.500` for KWD.
    pub amount: String,
    pub currency: String,
    /// A payment state word, e.g. `paid`.
    pub state: String,
}

/// `payment list` filters and page, as the user's text (the facade checks it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct PaymentQuery {
    pub profile: Option<String>,
    /// A payment state word, e.g. `paid`.
    pub state: Option<String>,
    /// The start of an order number or customer email (any case), phone (with or without
    /// its `+`), session id, or Ottu reference number of one of the payment's operations;
    /// through indexes. One or two characters match anywhere in these, reading the whole
    /// table ([`SEARCH_MIN_PREFIX_CHARS`](crate::limits::SEARCH_MIN_PREFIX_CHARS)).
    pub search: Option<String>,
    /// Created at or after: RFC 3339 (`2026-01-31T22:00:00Z`) or a UTC date
    /// (`2026-02-01`, from its first instant).
    pub from: Option<String>,
    /// Created before: RFC 3339, or a UTC date, which includes that whole day.
    pub to: Option<String>,
    /// The previous page's `next_cursor`: this page starts after it.
    pub after: Option<String>,
    /// Rows in the page: 1 to [`MAX_PAGE_ROWS`], default [`DEFAULT_PAGE_ROWS`]; wide, so
    /// any number given is checked (and worded) here, never cut down on the way in.
    pub limit: Option<i64>,
}

/// Cursors are opaque to callers: a version tag and the keyset values in URL-safe base64,
/// so they survive a shell, a URL or JSON as they are, and a changed format can be refused
/// by its tag instead of misread.
const PAYMENT_CURSOR_TAG: &str = "p1";
pub(super) const OPERATION_CURSOR_TAG: &str = "q1";

pub(super) fn encode_cursor(tag: &str, keys: &[i64]) -> String {
    let mut text = tag.to_string();
    for key in keys {
        text.push(':');
        text.push_str(&key.to_string());
    }
    URL_SAFE_NO_PAD.encode(text)
}

/// The keyset values of a cursor this list gave out, or `cursor.invalid` on `after`.
pub(super) fn decode_cursor<const N: usize>(tag: &str, cursor: &str) -> Result<[i64; N]> {
    let invalid = || {
        Error::invalid(
            "after",
            "cursor.invalid",
            "the cursor is not one this list gave out: start again from the first page",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split(':');
    if parts.next() != Some(tag) {
        return Err(invalid());
    }
    let mut keys = [0; N];
    for key in &mut keys {
        *key = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
    }
    if parts.next().is_some() {
        return Err(invalid());
    }
    Ok(keys)
}

/// A `from`/`to` bound as Unix ms: an RFC 3339 instant, or a UTC date's first instant
/// (`end_of_day`: the next day's, so a date as `to` includes that whole day). The one reading
/// of `--from`/`--to` for every command (payment list, reconcile, settlement, export).
pub(crate) fn parse_bound(field: &'static str, text: &str, end_of_day: bool) -> Result<i64> {
    let text = text.trim();
    let at = if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        at
    } else if let Ok(date) = Date::parse(text, format_description!("[year]-[month]-[day]")) {
        let date = if end_of_day {
            date.next_day().unwrap_or(date)
        } else {
            date
        };
        date.midnight().assume_utc()
    } else {
        return Err(Error::invalid(
            field,
            "date.invalid",
            format!("'{text}' is not a date: give 2026-02-01 or 2026-02-01T09:30:00Z"),
        ));
    };
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| Error::invalid(field, "date.invalid", format!("'{text}' is out of range")))
}

/// A page size, `default` when none is given: 1 to [`MAX_PAGE_ROWS`] (`payment list`
/// and `queue list`).
pub(super) fn check_limit(limit: Option<i64>, default: u32) -> Result<u32> {
    let n = limit.unwrap_or(i64::from(default));
    u32::try_from(n)
        .ok()
        .filter(|rows| (1..=MAX_PAGE_ROWS).contains(rows))
        .ok_or_else(|| {
            Error::invalid(
                "limit",
                "limit.out_of_range",
                format!("{n} is out of range: allowed is 1 to {MAX_PAGE_ROWS}"),
            )
        })
}

impl Ledger {
    pub fn add_payment(&mut self, input: &PaymentInput) -> Result<PaymentDetail> {
        let currency = Currency::from_code(&input.currency).field("currency")?;
        let payment = NewPayment {
            // New ids meet the documented alphabet; lookups still reach older ones.
            session_id: SessionId::parse_new(&input.session_id).field("session_id")?,
            order_no: input
                .order_no
                .as_deref()
                .map(OrderNo::parse_new)
                .transpose()
                .field("order_no")?,
            amount: Amount::parse_positive(&input.amount, currency).field("amount")?,
            state: input.state.parse::<PaymentState>().field("state")?,
            source: PaymentSource::Manual,
            created_at_ms: self.clock.now_ms(),
            customer_email: None,
            customer_phone: None,
        };
        let now_ms = payment.created_at_ms;
        let actor = self.actor.clone();
        self.store.write(|tx| {
            let profile = profile_id(tx, &input.profile)?;
            if store::payments::exists(tx, profile, &payment.session_id)? {
                return Err(Error::invalid(
                    "session_id",
                    "payment.exists",
                    format!(
                        "a payment with session id {} is already in profile {}",
                        payment.session_id, input.profile
                    ),
                ));
            }
            let id = store::payments::insert(tx, profile, &payment, now_ms)?;
            store::events::append(
                tx,
                &EventInsert {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "payment.added",
                    entity: "payment",
                    entity_id: id.0,
                    payment_id: Some(id),
                    before: None,
                    after: Some(json!({
                        "session_id": payment.session_id,
                        "order_no": payment.order_no,
                        "amount": payment.amount.to_string(),
                        "currency": currency,
                        "state": payment.state,
                        "source": payment.source,
                    })),
                },
            )?;
            detail(tx, store::payments::by_id(tx, id)?, now_ms)
        })
    }

    /// Inserts many validated payments into one profile, in transactions of
    /// [`BULK_INSERT_BATCH_ROWS`], each with one audit event naming its range. A batch
    /// holding a session id already in the ledger is rolled back whole.
    pub fn add_payments(
        &mut self,
        profile: &str,
        payments: &[NewPayment],
        mut progress: impl FnMut(usize),
    ) -> Result<usize> {
        let now_ms = self.clock.now_ms();
        let actor = self.actor.clone();
        let mut done = 0;
        for batch in payments.chunks(BULK_INSERT_BATCH_ROWS) {
            self.store.write(|tx| {
                let profile = profile_id(tx, profile)?;
                let mut first = None;
                let mut last = None;
                for payment in batch {
                    let id = store::payments::insert(tx, profile, payment, now_ms)
                        .map_err(|e| duplicate_as_input(e, &payment.session_id))?;
                    first.get_or_insert(id.0);
                    last = Some(id.0);
                }
                if let (Some(first), Some(last)) = (first, last) {
                    store::events::append(
                        tx,
                        &EventInsert {
                            at_ms: now_ms,
                            actor: &actor,
                            action: "payments.bulk_added",
                            entity: "payment",
                            entity_id: first,
                            payment_id: None,
                            before: None,
                            after: Some(json!({
                                "count": batch.len(),
                                "first_id": first,
                                "last_id": last,
                                "source": batch[0].source,
                            })),
                        },
                    )?;
                }
                Ok::<_, Error>(())
            })?;
            done += batch.len();
            progress(done);
        }
        Ok(done)
    }

    /// One page of payments, newest first. Paging is by keyset (the cursor holds the last
    /// row's place in the index order), so a page costs the same at any depth, and rows
    /// added meanwhile never make a row appear twice or be skipped.
    pub fn list_payments(&mut self, query: &PaymentQuery) -> Result<PaymentPage> {
        let state = query
            .state
            .as_deref()
            .map(str::parse::<PaymentState>)
            .transpose()
            .field("state")?;
        let limit = check_limit(query.limit, DEFAULT_PAGE_ROWS)?;
        let from_ms = query
            .from
            .as_deref()
            .map(|t| parse_bound("from", t, false))
            .transpose()?;
        let to_ms = query
            .to
            .as_deref()
            .map(|t| parse_bound("to", t, true))
            .transpose()?;
        let after = query
            .after
            .as_deref()
            .map(|c| decode_cursor::<2>(PAYMENT_CURSOR_TAG, c))
            .transpose()?
            .map(|[created_at_ms, id]| PaymentKey {
                created_at_ms,
                id: crate::model::PaymentId(id),
            });
        self.store.read(|tx| {
            let filter = PaymentFilter {
                profile: query
                    .profile
                    .as_deref()
                    .map(|p| profile_id(tx, p))
                    .transpose()?,
                state,
                search: query.search.clone(),
                from_ms,
                to_ms,
                after,
                // One more than the page: whether there is a next page, without a count.
                limit: limit + 1,
            };
            let (mut payments, total) = store::payments::page(tx, &filter)?;
            let next_cursor = if payments.len() > limit as usize {
                payments.truncate(limit as usize);
                payments.last().map(|p| {
                    let key = PaymentKey::from(p);
                    encode_cursor(PAYMENT_CURSOR_TAG, &[key.created_at_ms, key.id.0])
                })
            } else {
                None
            };
            // The page's balances in one read for all its rows, not two per row.
            let ids: Vec<PaymentId> = payments.iter().map(|p| p.id).collect();
            let facts = store::facts::for_payments(tx, &ids)?;
            let views = payments
                .iter()
                .map(|p| {
                    let facts = facts.get(&p.id).copied().unwrap_or_default();
                    let balances = Balances::derive(&payment_facts(p), &facts)?;
                    Ok(PaymentView::new(p, &balances))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(PaymentPage {
                payments: views,
                next_cursor,
                total: total.count,
                total_capped: total.capped,
            })
        })
    }

    pub fn show_payment(&mut self, lookup: &PaymentLookup) -> Result<PaymentDetail> {
        let now_ms = self.clock.now_ms();
        self.store.read(|tx| {
            let payment = find_payment(tx, lookup)?;
            detail(tx, payment, now_ms)
        })
    }
}

fn duplicate_as_input(error: store::StoreError, session_id: &SessionId) -> Error {
    match &error {
        store::StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::invalid(
                "session_id",
                "payment.exists",
                format!(
                    "a payment with session id {session_id} is already in this profile; the batch was not added"
                ),
            )
        }
        _ => Error::Store(error),
    }
}

/// `now_ms`: the ledger clock's time, which the operations' ages are measured against.
fn detail(
    tx: &rusqlite::Transaction<'_>,
    payment: crate::model::Payment,
    now_ms: i64,
) -> Result<PaymentDetail> {
    let balances = balances(tx, &payment)?;
    let operations = store::operations::for_payment(tx, payment.id)?
        .iter()
        .map(|o| super::queue::operation_view(tx, o, &payment, now_ms))
        .collect::<Result<Vec<_>>>()?;
    let children = store::children::for_payment(tx, payment.id)?;
    let events = store::events::for_payment(tx, payment.id)?;
    Ok(PaymentDetail::new(
        &payment, &balances, operations, &children, &events,
    ))
}
