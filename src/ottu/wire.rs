//! What travels to and from Ottu, shaped as `ottu-operations-openapi.yaml` says. Requests
//! are built only from checked values (an [`OperationRequest`] cannot carry an amount its
//! kind ignores, or one that breaks Ottu's amount pattern); answers keep Ottu's strings and
//! ignore unknown fields, and amounts are parsed by the caller with [`Amount`] helpers.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::model::{ChildState, OperationKind, OrderNo, SessionId, UnknownWord};
use crate::money::{Amount, Currency, MAX_INTEGER_DIGITS, MoneyError};

/// Ottu's amount pattern `^-?\d{0,13}(?:\.\d{0,3})?$` allows three decimals.
const WIRE_MAX_DECIMALS: usize = 3;

/// A request Daftar refuses to send because Ottu (or its spec) would refuse it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RequestError {
    #[error("{kind} takes no amount: Ottu always applies it to the whole payment")]
    AmountNotTaken { kind: OperationKind },
    #[error("amount {amount} must be greater than zero")]
    AmountNotPositive { amount: String },
    #[error(
        "amount {amount} does not fit Ottu's amount format: at most {MAX_INTEGER_DIGITS} digits before the point and {WIRE_MAX_DECIMALS} after"
    )]
    AmountOutOfFormat { amount: String },
    #[error("a destination applies to refunds only, not to {kind}")]
    DestinationNotTaken { kind: OperationKind },
    #[error(
        "session id '{session_id}' cannot be looked up: Ottu's session ids contain only letters, digits, '-' and '_'"
    )]
    SessionIdNotRetrievable { session_id: String },
    #[error("report token must not be empty")]
    EmptyReportToken,
}

/// Which payment a call names: Ottu accepts either identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentRef {
    Session(SessionId),
    Order(OrderNo),
}

/// Where a refund goes: back to the card (`pg`, Ottu's default) or to the customer's wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefundDestination {
    Pg,
    Wallet,
}

/// One `POST /b/pbl/v2/operation/` body. Built through [`OperationRequest::new`], so it is
/// always one Ottu accepts by shape.
#[derive(Clone, Debug, PartialEq)]
pub struct OperationRequest {
    kind: OperationKind,
    payment: PaymentRef,
    amount: Option<String>,
    destination: Option<RefundDestination>,
    extra: Option<Map<String, Value>>,
}

/// The body exactly as it goes on the wire.
#[derive(Serialize)]
struct OperationBody<'a> {
    operation: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_no: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<RefundDestination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra: Option<&'a Map<String, Value>>,
}

impl OperationRequest {
    /// `amount`: only for refund and capture; `None` asks Ottu for the full or remaining
    /// amount. It is sent with the currency's decimals (`5.000` KWD, `5.00` SAR).
    pub fn new(
        kind: OperationKind,
        payment: PaymentRef,
        amount: Option<Amount>,
    ) -> Result<OperationRequest, RequestError> {
        let amount = match amount {
            None => None,
            Some(_) if !kind.takes_amount() => return Err(RequestError::AmountNotTaken { kind }),
            Some(amount) => Some(wire_amount(amount)?),
        };
        Ok(OperationRequest {
            kind,
            payment,
            amount,
            destination: None,
            extra: None,
        })
    }

    /// Refunds only. `Wallet` is not deduplicated by the gateway: only the Tracking-Key
    /// protects it from being credited twice (CONTRACT.md).
    pub fn with_destination(
        mut self,
        destination: RefundDestination,
    ) -> Result<OperationRequest, RequestError> {
        if self.kind != OperationKind::Refund {
            return Err(RequestError::DestinationNotTaken { kind: self.kind });
        }
        self.destination = Some(destination);
        Ok(self)
    }

    /// Free parameters Ottu passes on to the gateway (rarely needed).
    pub fn with_extra(mut self, extra: Map<String, Value>) -> OperationRequest {
        self.extra = Some(extra);
        self
    }

    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    pub fn payment(&self) -> &PaymentRef {
        &self.payment
    }

    /// The amount as sent, if any.
    pub fn wire_amount(&self) -> Option<&str> {
        self.amount.as_deref()
    }

    /// The exact JSON body sent to Ottu.
    pub fn to_json(&self) -> Value {
        let (session_id, order_no) = match &self.payment {
            PaymentRef::Session(id) => (Some(id.as_str()), None),
            PaymentRef::Order(no) => (None, Some(no.as_str())),
        };
        let body = OperationBody {
            operation: self.kind.as_str(),
            session_id,
            order_no,
            amount: self.amount.as_deref(),
            destination: self.destination,
            extra: self.extra.as_ref(),
        };
        // Strings, an enum and a JSON map: serialising them cannot fail.
        serde_json::to_value(body).expect("an operation body always serialises")
    }
}

/// The amount as Ottu's pattern wants it: the currency's decimals, positive, at most 13
/// integer digits and 3 decimals.
fn wire_amount(amount: Amount) -> Result<String, RequestError> {
    let text = amount.to_string();
    if !amount.is_positive() {
        return Err(RequestError::AmountNotPositive { amount: text });
    }
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    if int_part.len() > MAX_INTEGER_DIGITS || frac_part.len() > WIRE_MAX_DECIMALS {
        return Err(RequestError::AmountOutOfFormat { amount: text });
    }
    Ok(text)
}

/// The `POST /b/pbl/v2/inquiry/` body.
pub(crate) fn inquiry_json(payment: &PaymentRef) -> Value {
    match payment {
        PaymentRef::Session(id) => serde_json::json!({ "session_id": id.as_str() }),
        PaymentRef::Order(no) => serde_json::json!({ "order_no": no.as_str() }),
    }
}

/// The retrieve path's `session_id` must match `^[-\w]+$` (ASCII letters, digits, `_`, `-`),
/// narrower than what [`SessionId`] accepts.
pub(crate) fn check_retrievable(session_id: &SessionId) -> Result<(), RequestError> {
    let ok = session_id
        .as_str()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(RequestError::SessionIdNotRetrievable {
            session_id: session_id.to_string(),
        })
    }
}

/// Filters of `GET /b/api/v1/reports/files/`. Dates are inclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    pub created_after: Option<time::Date>,
    pub created_before: Option<time::Date>,
    /// At most [`crate::limits::OTTU_REPORT_PAGE_ROWS`].
    pub limit: u32,
    pub offset: u32,
}

impl Default for ReportQuery {
    fn default() -> ReportQuery {
        ReportQuery {
            created_after: None,
            created_before: None,
            limit: crate::limits::OTTU_REPORT_PAGE_ROWS,
            offset: 0,
        }
    }
}

impl ReportQuery {
    /// The query pairs, in the spec's formats (`format: date` is `YYYY-MM-DD`).
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let date = time::macros::format_description!("[year]-[month]-[day]");
        let mut pairs = Vec::new();
        for (name, value) in [
            ("created_after", self.created_after),
            ("created_before", self.created_before),
        ] {
            if let Some(day) = value {
                // A calendar date always formats with this description.
                pairs.push((
                    name,
                    day.format(&date).expect("a date formats as YYYY-MM-DD"),
                ));
            }
        }
        let limit = self.limit.clamp(1, crate::limits::OTTU_REPORT_PAGE_ROWS);
        pairs.push(("limit", limit.to_string()));
        pairs.push(("offset", self.offset.to_string()));
        pairs
    }
}

/// `result` of an operation answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationResult {
    Success,
    Failed,
}

/// A 200 answer to an operation: `InternalOperation` or `ExternalOperation` in the spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationReply {
    pub result: OperationResult,
    /// Required for internal operations; external ones usually carry it too.
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub operation: Option<String>,
    /// External only: agrees with `result` (checked when classifying).
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub reference_number: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub order_no: Option<String>,
    #[serde(default)]
    pub pg_code: Option<String>,
    /// The child transaction Ottu created for an external operation (`txn`).
    #[serde(default, rename = "txn")]
    pub child: Option<ChildTxn>,
}

/// A child transaction (`ChildPayment` in the spec). Strings as Ottu sent them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildTxn {
    pub amount: String,
    pub currency_code: String,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub order_no: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
}

/// Why a child's fields could not become ledger values.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChildError {
    #[error("child amount: {0}")]
    Money(#[from] MoneyError),
    #[error("child state: {0}")]
    State(#[from] UnknownWord),
    #[error("Ottu's child transaction has no state")]
    NoState,
}

impl ChildTxn {
    /// The amount in the child's own currency.
    pub fn parsed_amount(&self) -> Result<Amount, ChildError> {
        let currency = Currency::from_code(&self.currency_code)?;
        Ok(Amount::parse(&self.amount, currency)?)
    }

    pub fn parsed_state(&self) -> Result<ChildState, ChildError> {
        Ok(self.state.as_deref().ok_or(ChildError::NoState)?.parse()?)
    }
}

/// `GET /b/checkout/v1/pymt-txn/{session_id}/`: the fields of `CheckoutGETResponse` the
/// ledger uses. `state` stays a string: the spec's list is shorter than Ottu's.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PaymentDetails {
    pub session_id: String,
    pub amount: String,
    pub currency_code: String,
    pub state: String,
    #[serde(default)]
    pub order_no: Option<String>,
    #[serde(default, rename = "type")]
    pub payment_kind: Option<String>,
    #[serde(default)]
    pub settled_pg_code: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_first_name: Option<String>,
    #[serde(default)]
    pub customer_last_name: Option<String>,
    #[serde(default)]
    pub customer_phone: Option<String>,
    #[serde(default)]
    pub due_datetime: Option<String>,
}

impl PaymentDetails {
    pub fn parsed_amount(&self) -> Result<Amount, MoneyError> {
        Amount::parse(&self.amount, Currency::from_code(&self.currency_code)?)
    }
}

/// `POST /b/pbl/v2/inquiry/`: the main fields of the answer (the spec's `SchemaWebhook`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct InquiryReply {
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub order_no: Option<String>,
    pub amount: String,
    pub currency_code: String,
    pub state: String,
    /// `pending`, `success`, `failed`, `canceled`, `error`, `cod`.
    pub result: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub reference_number: Option<String>,
    #[serde(default)]
    pub timestamp_utc: Option<String>,
    /// The payment's children (captures, refunds, voids).
    #[serde(default)]
    pub transactions: Vec<ChildTxn>,
}

/// One page of `GET /b/api/v1/reports/files/`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ReportPage {
    pub count: u64,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub previous: Option<String>,
    pub results: Vec<ReportFile>,
}

/// One generated report (`ReportAPIList`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ReportFile {
    pub encrypted_id: String,
    #[serde(default)]
    pub report_name: Option<String>,
    #[serde(default)]
    pub interval: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub file_format: Option<String>,
    #[serde(default)]
    pub records_amount: Option<u64>,
    /// `in_progress`, `finished`, `expired`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub generated_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    /// A string (the URL) per the spec's schema, `{method, url}` per its prose: both read.
    #[serde(default)]
    pub download_action: Value,
}

impl ReportFile {
    /// The download URL Ottu gave, whichever shape it came in.
    pub fn download_url(&self) -> Option<&str> {
        match &self.download_action {
            Value::String(url) => Some(url),
            Value::Object(action) => action.get("url").and_then(Value::as_str),
            _ => None,
        }
    }

    /// The token in `.../reports/files/<token>/download/`. Daftar downloads by token against
    /// the profile's own base URL, so credentials never go to a host named in an answer.
    pub fn download_token(&self) -> Option<&str> {
        let url = self.download_url()?;
        let path = url.split(['?', '#']).next()?;
        let mut segments = path.trim_end_matches('/').rsplit('/');
        match (segments.next(), segments.next(), segments.next()) {
            (Some("download"), Some(token), Some("files")) if !token.is_empty() => Some(token),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(id: &str) -> PaymentRef {
        PaymentRef::Session(SessionId::parse(id).unwrap())
    }

    fn amount(text: &str, code: &str) -> Amount {
        Amount::parse(text, Currency::from_code(code).unwrap()).unwrap()
    }

    #[test]
    fn bodies_are_exact_and_omit_what_is_not_given() {
        let full = OperationRequest::new(OperationKind::Refund, session("s1"), None).unwrap();
        assert_eq!(
            full.to_json(),
            json!({"operation": "refund", "session_id": "s1"})
        );
        let partial = OperationRequest::new(
            OperationKind::Capture,
            PaymentRef::Order(OrderNo::parse("ord-9").unwrap()),
            Some(amount("5", "KWD")),
        )
        .unwrap();
        assert_eq!(
            partial.to_json(),
            json!({"operation": "capture", "order_no": "ord-9", "amount": "5.000"})
        );
        let cancel = OperationRequest::new(OperationKind::Cancel, session("s2"), None).unwrap();
        assert_eq!(
            cancel.to_json(),
            json!({"operation": "cancel", "session_id": "s2"})
        );
    }

    #[test]
    fn amounts_carry_the_currency_decimals() {
        for (text, code, wire) in [
            ("12.5", "KWD", "12.500"),
            ("12.5", "SAR", "12.50"),
            ("12", "JPY", "12"),
            ("0.001", "BHD", "0.001"),
        ] {
            let req = OperationRequest::new(
                OperationKind::Refund,
                session("s"),
                Some(amount(text, code)),
            )
            .unwrap();
            assert_eq!(req.wire_amount(), Some(wire));
            assert_eq!(req.to_json()["amount"], json!(wire));
        }
    }

    #[test]
    fn refuses_amounts_ottu_would_not_read_or_accept() {
        for kind in [
            OperationKind::Void,
            OperationKind::Cancel,
            OperationKind::Expire,
            OperationKind::Delete,
        ] {
            assert_eq!(
                OperationRequest::new(kind, session("s"), Some(amount("1", "KWD"))),
                Err(RequestError::AmountNotTaken { kind })
            );
        }
        assert!(matches!(
            OperationRequest::new(
                OperationKind::Refund,
                session("s"),
                Some(amount("0", "KWD"))
            ),
            Err(RequestError::AmountNotPositive { .. })
        ));
        // 14 integer digits: representable in minor units, not on Ottu's wire.
        let huge = Amount::from_minor(10_i64.pow(13) * 1000, Currency::KWD);
        let err = OperationRequest::new(OperationKind::Refund, session("s"), Some(huge));
        assert!(matches!(err, Err(RequestError::AmountOutOfFormat { .. })));
    }

    #[test]
    fn destination_and_extra_go_on_refunds() {
        let mut extra = Map::new();
        extra.insert("orders".into(), json!([{"amount": 1}]));
        let req = OperationRequest::new(OperationKind::Refund, session("s"), None)
            .unwrap()
            .with_destination(RefundDestination::Wallet)
            .unwrap()
            .with_extra(extra);
        assert_eq!(
            req.to_json(),
            json!({"operation": "refund", "session_id": "s", "destination": "wallet",
                   "extra": {"orders": [{"amount": 1}]}})
        );
        let capture = OperationRequest::new(OperationKind::Capture, session("s"), None).unwrap();
        assert_eq!(
            capture.with_destination(RefundDestination::Pg),
            Err(RequestError::DestinationNotTaken {
                kind: OperationKind::Capture
            })
        );
    }

    #[test]
    fn inquiry_and_report_queries_follow_the_spec() {
        assert_eq!(inquiry_json(&session("s")), json!({"session_id": "s"}));
        let query = ReportQuery {
            created_after: Some(time::macros::date!(2025 - 11 - 01)),
            created_before: None,
            limit: 1_000_000,
            offset: 200,
        };
        assert_eq!(
            query.pairs(),
            [
                ("created_after", "2025-11-01".to_string()),
                ("limit", "100".to_string()),
                ("offset", "200".to_string()),
            ]
        );
    }

    #[test]
    fn only_plain_session_ids_can_be_retrieved() {
        assert!(check_retrievable(&SessionId::parse("a1_b-C").unwrap()).is_ok());
        for bad in ["a.b", "a/b", "a:b", "ü"] {
            assert!(
                check_retrievable(&SessionId::parse(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn replies_keep_strings_and_ignore_unknown_fields() {
        let reply: OperationReply = serde_json::from_value(json!({
            "result": "success", "success": true, "detail": "Refunded", "operation": "refund",
            "amount": "1.500", "reference_number": "R-1", "pg_response": {"x": 1}, "new_field": 3,
            "txn": {"session_id": "c1", "order_no": null, "amount": "1.500",
                    "currency_code": "KWD", "state": "refund_queued"}
        }))
        .unwrap();
        let child = reply.child.unwrap();
        assert_eq!(child.parsed_amount().unwrap(), amount("1.5", "KWD"));
        assert_eq!(child.parsed_state().unwrap(), ChildState::RefundQueued);
        let odd = ChildTxn {
            state: Some("refund_pending".into()),
            ..child
        };
        assert!(matches!(odd.parsed_state(), Err(ChildError::State(_))));
    }

    #[test]
    fn report_tokens_come_from_either_download_action_shape() {
        let file = |action: Value| ReportFile {
            encrypted_id: "e".into(),
            report_name: None,
            interval: None,
            source: None,
            file_format: None,
            records_amount: None,
            status: None,
            generated_at: None,
            created_at: None,
            download_action: action,
        };
        let url = "https://x.ottu.net/b/api/v1/reports/files/0b6e-11/download/";
        assert_eq!(file(json!(url)).download_token(), Some("0b6e-11"));
        assert_eq!(
            file(json!({"method": "GET", "url": url})).download_token(),
            Some("0b6e-11")
        );
        assert_eq!(file(json!("string")).download_token(), None);
        assert_eq!(file(Value::Null).download_token(), None);
    }
}
