//! The JSON bodies the sandbox sends, shaped after the official OpenAPI schemas
//! (`InternalOperation`, `ExternalOperation` + `ChildPayment`, `OperationFailure`,
//! `FieldErrors`, `GenericErrorMessage`, `CheckoutGETResponse`, `SchemaWebhook`).
//! Amounts are decimal strings; where the spec wants a JSON number (webhook totals) the number
//! is written from the exact decimal text, never through a float.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::clock::{EpochMs, IdSpace, id_bits, mix64, rfc3339};
use crate::gateway::gateway_name;
use crate::model::{ChildState, OperationKind, PaymentState};
use crate::money::{Currency, Minor, format_minor};
use crate::rules::Balances;
use crate::store::{ChildRow, PaymentRow};

/// Field name → messages, like Django REST framework's validation errors.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

pub fn field_error(field: &str, message: impl Into<String>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    errors.insert(field.to_owned(), vec![message.into()]);
    errors
}

fn to_string(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its map keys are strings.
    serde_json::to_string(value).unwrap_or_default()
}

pub fn field_errors_body(errors: &FieldErrors) -> String {
    serde_json::to_string(errors).unwrap_or_default()
}

/// `GenericErrorMessage`.
pub fn detail_body(detail: &str) -> String {
    to_string(&json!({ "detail": detail }))
}

/// `OperationFailure` (`operation` may also be `operation_tracking`).
pub fn failure_body(operation: &str, detail: &str) -> String {
    to_string(&json!({ "detail": detail, "operation": operation, "result": "failed" }))
}

/// `InternalOperation`, successful.
pub fn internal_body(operation: OperationKind, detail: &str) -> String {
    to_string(&json!({ "detail": detail, "operation": operation.as_str(), "result": "success" }))
}

/// A placeholder for Ottu's HMAC `signature`: 64 hex characters derived from the text. Not
/// verifiable with any key; the sandbox does not simulate signing.
pub fn placeholder_signature(seed: u64, text: &str) -> String {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    format!(
        "{:032x}{:032x}",
        id_bits(seed, IdSpace::Reference, h),
        id_bits(seed, IdSpace::Reference, mix64(h))
    )
}

/// Everything an `ExternalOperation` body says.
pub struct ExternalAnswer<'a> {
    pub seed: u64,
    pub parent: &'a PaymentRow,
    pub operation: OperationKind,
    pub amount: Minor,
    /// `None` when the gateway refused (no child was created).
    pub child: Option<&'a ChildRow>,
    pub reference_number: &'a str,
    pub detail: &'a str,
    pub initiator: Option<&'a str>,
    pub extra: Option<&'a Value>,
    pub now_ms: EpochMs,
}

/// `ExternalOperation` with its `txn` (`ChildPayment`).
pub fn external_body(a: &ExternalAnswer<'_>) -> String {
    let currency = a.parent.currency;
    let amount = format_minor(a.amount, currency);
    let success = a.child.is_some();
    let result = if success { "success" } else { "failed" };
    let order_no = a.parent.order_no.clone().unwrap_or_default();
    let txn = match a.child {
        Some(child) => json!({
            "session_id": child.session_id,
            "order_no": a.parent.order_no,
            "amount": amount,
            "currency_code": currency.code(),
            "state": child.state.as_str(),
        }),
        None => json!({
            "order_no": a.parent.order_no,
            "amount": amount,
            "currency_code": currency.code(),
        }),
    };
    let gateway_result = match (a.operation, success) {
        (_, false) => "NOT SUPPORTED",
        (OperationKind::Capture, true) => "CAPTURED",
        (OperationKind::Void, true) => "VOIDED",
        (_, true) => "SUCCESS",
    };
    let signature = placeholder_signature(
        a.seed,
        &format!(
            "{}{}{}{}",
            a.parent.session_id, a.reference_number, amount, result
        ),
    );
    let mut body = json!({
        "amount": amount,
        "detail": a.detail,
        "is_sandbox": true,
        "operation": a.operation.as_str(),
        "order_no": order_no,
        "pg_code": a.parent.pg_code,
        "pg_params": {
            "result": gateway_result,
            "ref": a.reference_number,
            "track_id": a.reference_number,
            "transaction_id": a.child.map(|c| c.session_id.as_str()),
            "post_date": rfc3339(a.now_ms)[..10].to_owned(),
        },
        "pg_response": {
            "gateway": a.parent.pg_code,
            "status": result,
            "message": a.detail,
            "reference": a.reference_number,
        },
        "reference_number": a.reference_number,
        "result": result,
        "session_id": a.parent.session_id,
        "signature": signature,
        "source": "input",
        "success": success,
        "timestamp_utc": rfc3339(a.now_ms),
        "txn": txn,
    });
    if let Some(object) = body.as_object_mut() {
        if let Some(name) = a.initiator {
            object.insert(
                "initiator".to_owned(),
                json!({
                    "id": (mix64(name.len() as u64 ^ a.seed) % 100_000) as i64 + 1,
                    "username": name,
                    "email": format!("{name}@sandbox.invalid"),
                    "first_name": name,
                    "last_name": "",
                }),
            );
        }
        if let Some(extra) = a.extra {
            object.insert("extra".to_owned(), extra.clone());
        }
    }
    to_string(&body)
}

/// `ChildPayment` summary of one child.
fn child_summary(child: &ChildRow, order_no: &Option<String>) -> Value {
    json!({
        "session_id": child.session_id,
        "order_no": order_no,
        "amount": format_minor(child.amount, child.currency),
        "currency_code": child.currency.code(),
        "state": child.state.as_str(),
        "operation": child.operation.as_str(),
    })
}

/// What Ottu calls a payment's `operation` (not the same as our operation kinds).
fn payment_operation(p: &PaymentRow, balances: &Balances) -> &'static str {
    if p.state == PaymentState::Authorized || balances.captured > 0 || balances.voided > 0 {
        "authorize"
    } else {
        "purchase"
    }
}

/// The fields shared by the parent and child views of `GET /b/checkout/v1/pymt-txn/`.
#[allow(clippy::too_many_arguments)]
fn checkout_shape(
    base_url: &str,
    session_id: &str,
    order_no: &Option<String>,
    amount: &str,
    currency: Currency,
    state: &str,
    pg_code: &str,
    pg_codes: &[String],
    payment_kind: &str,
    operation: &str,
) -> Value {
    let checkout_url = format!("{base_url}/checkout/{session_id}/");
    json!({
        "session_id": session_id,
        "order_no": order_no,
        "amount": amount,
        "currency_code": currency.code(),
        "state": state,
        "type": payment_kind,
        "pg_codes": pg_codes,
        "settled_pg_code": pg_code,
        "operation": operation,
        "payment_type": "one_off",
        "billing": "",
        "attachment_short_url": format!("{base_url}/attachments/{session_id}/"),
        "checkout_page_url": checkout_url,
        "checkout_short_url": format!("{base_url}/s/{session_id}/"),
        "checkout_url": checkout_url,
        "qr_code_url": format!("{base_url}/qr/{session_id}.png"),
        // A list, as Ottu sends it and ottu-py reads it (the spec's prose says "an array";
        // its schema's `allOf` of one object is the extract's slip).
        "payment_methods": [{
            "code": pg_code,
            "name": gateway_name(pg_code),
            "type": payment_kind,
            "amount": amount,
            "currency_code": currency.code(),
            "fee": format_minor(0, currency),
            "fee_description": "",
            "icon": format!("{base_url}/icons/{pg_code}.svg"),
            "icons": {
                "svg": format!("{base_url}/icons/{pg_code}.svg"),
                "webp": format!("{base_url}/icons/{pg_code}.webp"),
            },
            "flow": "redirect",
        }],
        "sdk_setup_preload_payload": {
            "amount": amount,
            "billing": "",
            "cancel_url": format!("{base_url}/checkout/{session_id}/cancel/"),
            "cards": [],
            "currency_code": currency.code(),
            "expiration_time": "1 00:00:00",
            "flex_methods": [],
            "is_amount_editable": false,
            "operation": operation,
            "payment_methods": [],
            "payment_services": [],
            "response": {},
            "sdk_studio": {},
            "session_id": session_id,
            "state": state,
            "type": payment_kind,
        },
    })
}

/// `CheckoutGETResponse` for a parent payment, plus `transactions` (its children, as the
/// webhook schema lists them) and the sandbox's `created`/`modified` timestamps.
pub fn payment_body(p: &PaymentRow, children: &[ChildRow], base_url: &str) -> String {
    let mut balances = Balances::default();
    for c in children {
        balances.add_child(c.operation, c.state, c.amount);
    }
    let mut body = checkout_shape(
        base_url,
        &p.session_id,
        &p.order_no,
        &format_minor(p.amount, p.currency),
        p.currency,
        p.state.as_str(),
        &p.pg_code,
        &p.pg_codes,
        &p.payment_kind,
        payment_operation(p, &balances),
    );
    if let Some(object) = body.as_object_mut() {
        object.insert(
            "transactions".to_owned(),
            Value::Array(
                children
                    .iter()
                    .map(|c| child_summary(c, &p.order_no))
                    .collect(),
            ),
        );
        object.insert("created".to_owned(), json!(rfc3339(p.created_at_ms)));
        object.insert("modified".to_owned(), json!(rfc3339(p.modified_at_ms)));
        object.insert("timestamp_utc".to_owned(), json!(rfc3339(p.modified_at_ms)));
        if let Some(email) = &p.customer_email {
            object.insert("customer_email".to_owned(), json!(email));
        }
        if let Some(name) = &p.customer_first_name {
            object.insert("customer_first_name".to_owned(), json!(name));
        }
        if let Some(name) = &p.customer_last_name {
            object.insert("customer_last_name".to_owned(), json!(name));
        }
    }
    to_string(&body)
}

/// The same shape for a child transaction: its own state (`refund_queued`, `refunded`,
/// `refund_rejected`, `paid`, `voided`), plus `parent_session_id`.
pub fn child_payment_body(c: &ChildRow, parent: &PaymentRow, base_url: &str) -> String {
    let pg_codes = vec![c.pg_code.clone()];
    let mut body = checkout_shape(
        base_url,
        &c.session_id,
        &parent.order_no,
        &format_minor(c.amount, c.currency),
        c.currency,
        c.state.as_str(),
        &c.pg_code,
        &pg_codes,
        &parent.payment_kind,
        c.operation.as_str(),
    );
    if let Some(object) = body.as_object_mut() {
        object.insert("parent_session_id".to_owned(), json!(parent.session_id));
        object.insert("reference_number".to_owned(), json!(c.reference_number));
        object.insert("transactions".to_owned(), json!([]));
        object.insert("created".to_owned(), json!(rfc3339(c.created_at_ms)));
        object.insert("modified".to_owned(), json!(rfc3339(c.modified_at_ms)));
        object.insert("timestamp_utc".to_owned(), json!(rfc3339(c.modified_at_ms)));
        if let Some(destination) = c.destination {
            object.insert("destination".to_owned(), json!(destination.as_str()));
        }
    }
    to_string(&body)
}

/// A decimal amount as a JSON number, written from its exact text.
fn number(minor: Minor, currency: Currency) -> Box<RawValue> {
    // A formatted amount is always a valid JSON number ("-"? digits, optional ".digits").
    RawValue::from_string(format_minor(minor, currency))
        .unwrap_or_else(|_| RawValue::from_string("0".to_owned()).unwrap_or_default())
}

#[derive(Serialize)]
struct AmountDetails {
    currency_code: &'static str,
    amount: String,
    total: String,
    fee: String,
}

#[derive(Serialize)]
struct WebhookView {
    session_id: String,
    order_no: Option<String>,
    amount: String,
    currency_code: &'static str,
    state: &'static str,
    result: &'static str,
    message: String,
    agreement: Value,
    amount_details: AmountDetails,
    card_acceptance_criteria: Value,
    customer_address_country: &'static str,
    customer_email: Option<String>,
    fee: String,
    gateway_account: String,
    gateway_name: &'static str,
    gateway_response: Value,
    pg_params: Value,
    paid_amount: String,
    refunded_amount: Box<RawValue>,
    voided_amount: Box<RawValue>,
    remaining_amount: Box<RawValue>,
    settled_amount: Box<RawValue>,
    reference_number: String,
    signature: String,
    timestamp_utc: String,
    is_sandbox: bool,
    payment_type: &'static str,
    transactions: Vec<Value>,
}

/// `SchemaWebhook`: what `POST /b/pbl/v2/inquiry/` answers.
pub fn webhook_body(p: &PaymentRow, children: &[ChildRow], seed: u64, now_ms: EpochMs) -> String {
    let mut balances = Balances::default();
    for c in children {
        balances.add_child(c.operation, c.state, c.amount);
    }
    let currency = p.currency;
    let (paid, settled, remaining) = match p.state {
        PaymentState::Paid | PaymentState::Cash | PaymentState::Refunded => (p.amount, p.amount, 0),
        PaymentState::Authorized | PaymentState::Voided => (balances.captured, p.amount, 0),
        _ => (0, 0, p.amount),
    };
    let amount = format_minor(p.amount, currency);
    let view = WebhookView {
        session_id: p.session_id.clone(),
        order_no: p.order_no.clone(),
        amount: amount.clone(),
        currency_code: currency.code(),
        state: p.state.as_str(),
        result: p.state.webhook_result(),
        message: format!("The payment is {}.", p.state),
        agreement: json!({}),
        amount_details: AmountDetails {
            currency_code: currency.code(),
            amount: amount.clone(),
            total: amount.clone(),
            fee: format_minor(0, currency),
        },
        card_acceptance_criteria: json!({}),
        customer_address_country: "KW",
        customer_email: p.customer_email.clone(),
        fee: format_minor(0, currency),
        gateway_account: p.pg_code.clone(),
        gateway_name: gateway_name(&p.pg_code),
        gateway_response: json!({ "status": p.state.as_str() }),
        pg_params: json!({ "ref": p.reference_number, "result": p.state.webhook_result() }),
        paid_amount: format_minor(paid, currency),
        refunded_amount: number(balances.refunded, currency),
        voided_amount: number(balances.voided, currency),
        remaining_amount: number(remaining, currency),
        settled_amount: number(settled, currency),
        reference_number: p.reference_number.clone(),
        signature: placeholder_signature(seed, &format!("{}{}{}", p.session_id, amount, p.state)),
        timestamp_utc: rfc3339(now_ms),
        is_sandbox: true,
        payment_type: "one_off",
        transactions: children
            .iter()
            .map(|c| child_summary(c, &p.order_no))
            .collect(),
    };
    serde_json::to_string(&view).unwrap_or_default()
}

/// A short, human detail for a successful operation.
pub fn success_detail(operation: OperationKind, child_state: Option<ChildState>) -> &'static str {
    match (operation, child_state) {
        (OperationKind::Refund, Some(ChildState::RefundQueued)) => {
            "The refund request has been queued by the payment gateway."
        }
        (OperationKind::Refund, _) => "The payment has been refunded successfully.",
        (OperationKind::Capture, _) => "The payment has been captured successfully.",
        (OperationKind::Void, _) => "The payment has been voided successfully.",
        (OperationKind::Cancel, _) => "The payment has been canceled.",
        (OperationKind::Expire, _) => "The payment has been expired.",
        (OperationKind::Delete, _) => "The payment has been deleted.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_numbers_are_exact_decimals() {
        let p = PaymentRow {
            session_id: "s".to_owned(),
            order_no: None,
            amount: 12_345,
            currency: Currency::KWD,
            state: PaymentState::Pending,
            pg_code: "knet".to_owned(),
            pg_codes: vec![],
            payment_kind: "e_commerce".to_owned(),
            reference_number: "R".to_owned(),
            customer_email: None,
            customer_first_name: None,
            customer_last_name: None,
            foreign_currency: false,
            gateway_state: None,
            deleted: false,
            inquiry_count: 0,
            last_inquiry_at_ms: None,
            created_at_ms: 0,
            modified_at_ms: 0,
        };
        let body = webhook_body(&p, &[], 1, 0);
        assert!(body.contains("\"remaining_amount\":12.345"), "{body}");
        assert!(body.contains("\"settled_amount\":0.000"), "{body}");
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["result"], "pending");
    }
}
