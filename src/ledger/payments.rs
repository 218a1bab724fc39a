//! Payments: entry by hand, bulk insert, listing and the detail view with its timeline.

use serde_json::json;

use super::{
    Ledger, PaymentDetail, PaymentLookup, PaymentView, balances, find_payment, profile_id,
};
use crate::error::{Error, FieldContext, Result};
use crate::limits::{BULK_INSERT_BATCH_ROWS, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS};
use crate::model::{NewPayment, OrderNo, PaymentSource, PaymentState, SessionId};
use crate::money::{Amount, Currency};
use crate::store::{self, EventInsert, PaymentFilter};

/// `payment add`: a payment entered by hand, as text.
#[derive(Clone, Debug, Default)]
pub struct PaymentInput<'a> {
    pub profile: &'a str,
    pub session_id: &'a str,
    pub order_no: Option<&'a str>,
    pub amount: &'a str,
    pub currency: &'a str,
    pub state: &'a str,
}

/// `payment list` filters, as text.
#[derive(Clone, Debug, Default)]
pub struct PaymentQuery<'a> {
    pub profile: Option<&'a str>,
    pub state: Option<&'a str>,
    pub search: Option<&'a str>,
    /// Rows in the page: 1 to [`MAX_PAGE_ROWS`]; wide, so any number given is checked
    /// (and worded) here, never cut down on the way in.
    pub limit: Option<i64>,
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
    pub fn add_payment(&mut self, input: &PaymentInput<'_>) -> Result<PaymentDetail> {
        let currency = Currency::from_code(input.currency).field("currency")?;
        let payment = NewPayment {
            // New ids meet the documented alphabet; lookups still reach older ones.
            session_id: SessionId::parse_new(input.session_id).field("session_id")?,
            order_no: input
                .order_no
                .map(OrderNo::parse_new)
                .transpose()
                .field("order_no")?,
            amount: Amount::parse_positive(input.amount, currency).field("amount")?,
            state: input.state.parse::<PaymentState>().field("state")?,
            source: PaymentSource::Manual,
            created_at_ms: self.clock.now_ms(),
        };
        let now_ms = payment.created_at_ms;
        let actor = self.actor.clone();
        self.store.write(|tx| {
            let profile = profile_id(tx, input.profile)?;
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
            detail(tx, store::payments::by_id(tx, id)?)
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

    pub fn list_payments(&mut self, query: &PaymentQuery<'_>) -> Result<Vec<PaymentView>> {
        let state = query
            .state
            .map(str::parse::<PaymentState>)
            .transpose()
            .field("state")?;
        let limit = check_limit(query.limit, DEFAULT_PAGE_ROWS)?;
        self.store.read(|tx| {
            let filter = PaymentFilter {
                profile: query.profile.map(|p| profile_id(tx, p)).transpose()?,
                state,
                search: query.search.map(str::to_string),
                limit,
            };
            Ok(store::payments::list(tx, &filter)?
                .iter()
                .map(PaymentView::from)
                .collect())
        })
    }

    pub fn show_payment(&mut self, lookup: &PaymentLookup<'_>) -> Result<PaymentDetail> {
        self.store.read(|tx| {
            let payment = find_payment(tx, lookup)?;
            detail(tx, payment)
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

fn detail(tx: &rusqlite::Transaction<'_>, payment: crate::model::Payment) -> Result<PaymentDetail> {
    let balances = balances(tx, &payment)?;
    let operations = store::operations::for_payment(tx, payment.id)?;
    let children = store::children::for_payment(tx, payment.id)?;
    let events = store::events::for_payment(tx, payment.id)?;
    Ok(PaymentDetail::new(
        &payment,
        &balances,
        &operations,
        &children,
        &events,
    ))
}
