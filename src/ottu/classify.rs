//! What an answer from Ottu means, decided by pure functions of the status, headers and
//! body (and of the transport failure when there was no answer). The invariant it guards:
//! only an answer that says so is final. Anything that may have taken effect at Ottu
//! without our knowing (5xx, timeouts, a dropped connection, a body we cannot read) comes
//! back as "retry with the same Tracking-Key", never as a refusal.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use reqwest::header::{DATE, HeaderMap, LOCATION, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use thiserror::Error;

use super::auth::{OttuCall, permission_in};
use super::wire::{OperationReply, OperationResult, RequestError};
use crate::limits::{OTTU_MAX_KEPT_BODY_BYTES, OTTU_MAX_RETRY_AFTER_S};
use crate::model::OperationKind;

/// An HTTP answer as it arrived: what classification reads, and what the contract test
/// inspects (`sl-violations`).
#[derive(Clone, Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// When the answer arrived: a `Retry-After` date is counted from here when the answer
    /// has no `Date` header.
    pub received_at: SystemTime,
}

impl RawResponse {
    /// The body as text for support, cut at [`OTTU_MAX_KEPT_BODY_BYTES`].
    pub fn kept_body(&self) -> String {
        keep(&self.body)
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn header(&self, name: reqwest::header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn keep(body: &[u8]) -> String {
    if body.len() <= OTTU_MAX_KEPT_BODY_BYTES {
        return String::from_utf8_lossy(body).into_owned();
    }
    let mut text = String::from_utf8_lossy(&body[..OTTU_MAX_KEPT_BODY_BYTES]).into_owned();
    let _ = write!(
        text,
        "… [{} more bytes not kept]",
        body.len() - OTTU_MAX_KEPT_BODY_BYTES
    );
    text
}

/// Why no complete answer arrived.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Nothing was sent: connection refused, DNS failure, connect timeout.
    #[error("cannot reach Ottu: {reason}")]
    Unreachable { reason: String },
    /// Sent, but no complete answer in time.
    #[error("Ottu did not answer in time: {reason}")]
    TimedOut { reason: String },
    /// Sent, and the connection broke before the answer was complete.
    #[error("the connection to Ottu broke before the answer was complete: {reason}")]
    Interrupted { reason: String },
    /// The answer was longer than Daftar reads.
    #[error("Ottu's answer is longer than the {limit_bytes} bytes Daftar reads")]
    TooLarge { limit_bytes: usize },
}

/// What became of one operation attempt. `Succeeded` and `Refused` are final; `Auth` pauses
/// the profile's queue; `RetryLater` and `Unknown` mean: send it again, with the same key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationOutcome {
    Succeeded {
        /// Boxed: far larger than the other variants.
        reply: Box<OperationReply>,
        raw: String,
    },
    /// Ottu's final no: `result: failed`, a 400, or another 4xx. `reason` is Ottu's words.
    Refused {
        reason: String,
        status: u16,
        raw: String,
    },
    /// 401 (bad credential) or 403 (`permission` missing).
    Auth {
        status: u16,
        detail: String,
        permission: Option<String>,
    },
    /// Try again later. `offline`: nothing reached Ottu (no network, server unreachable), so
    /// this is not a failure of the operation. `throttled`: Ottu turned it away unread (429),
    /// likewise not a failure. Otherwise the outcome is unknown. `raw`: the answer's body
    /// (bounded, [`OTTU_MAX_KEPT_BODY_BYTES`]), empty when no answer came.
    RetryLater {
        reason: String,
        retry_after: Option<Duration>,
        offline: bool,
        throttled: bool,
        raw: String,
    },
    /// An answer Daftar cannot read: treated like a timeout (outcome unknown).
    Unknown { reason: String, raw: String },
    /// An answer that is not Ottu's answer to an operation: a redirect (never followed), an
    /// HTML, plain-text or empty 4xx page, a JSON 400 that is not Ottu's refusal (another
    /// 4xx with a JSON object body may be Ottu's, so it is `Unknown`). Whatever
    /// gave it (a wrong base URL, a captive portal, a proxy) did not pass the request to
    /// Ottu's operation endpoint, so nothing was applied: this is a problem of the profile
    /// (or the network), not the operation's failure. `reason` says what came back.
    NotOttu {
        reason: String,
        status: u16,
        raw: String,
    },
}

impl OperationOutcome {
    /// Whether Ottu has decided the operation (it will not change on a resend).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            OperationOutcome::Succeeded { .. } | OperationOutcome::Refused { .. }
        )
    }
}

/// What an operation attempt came to, whether or not an answer arrived.
pub fn operation_outcome(
    kind: OperationKind,
    answer: Result<RawResponse, TransportError>,
) -> OperationOutcome {
    match answer {
        Ok(raw) => classify_operation(kind, &raw),
        Err(TransportError::TooLarge { limit_bytes }) => OperationOutcome::Unknown {
            reason: format!(
                "Ottu's answer to the {kind} is longer than the {limit_bytes} bytes Daftar reads; the outcome is unknown"
            ),
            raw: String::new(),
        },
        Err(err) => OperationOutcome::RetryLater {
            offline: matches!(err, TransportError::Unreachable { .. }),
            reason: err.to_string(),
            retry_after: None,
            throttled: false,
            raw: String::new(),
        },
    }
}

/// Classifies one answer to `POST /b/pbl/v2/operation/` (CONTRACT.md, "Responses").
pub fn classify_operation(kind: OperationKind, raw: &RawResponse) -> OperationOutcome {
    let call = OttuCall::Operation(kind);
    let status = raw.status;
    match status {
        200..=299 => classify_reply(kind, raw),
        // Ottu's 401/403 carry `{"detail": ...}` (or nothing); a proxy's HTML login or
        // challenge page is not Ottu refusing the credential, and must not pause the profile.
        401 | 403 if raw.body.is_empty() || is_json_object(raw) => {
            let (status, detail, permission) = auth_parts(call, raw);
            OperationOutcome::Auth {
                status,
                detail,
                permission,
            }
        }
        // Bodies of 5xx are often a proxy's HTML; the outcome is unknown either way.
        408 | 429 | 500..=599 => OperationOutcome::RetryLater {
            reason: retry_reason(call, raw),
            retry_after: retry_after(&raw.headers, raw.received_at),
            offline: false,
            throttled: status == 429,
            raw: raw.kept_body(),
        },
        // Only a 400 shaped like Ottu's refusal is final (CONTRACT.md, "Responses").
        400 if is_ottu_refusal(raw) => OperationOutcome::Refused {
            reason: refusal_reason(call, raw),
            status,
            raw: raw.kept_body(),
        },
        // Another 4xx with a JSON object body (404, 405, 409, 422...): Ottu runs on Django
        // REST framework, whose errors look exactly like this (`{"detail": "Not found."}`),
        // so it may be Ottu answering after all (an unknown payment, a state conflict).
        // Daftar cannot tell whether it was applied: neither refused nor "not sent", it is
        // an unknown outcome, resent with the same Tracking-Key until the attempts limit
        // asks the merchant, and it does not hold the profile. (A 400 of another shape is a
        // proxy's, below: Ottu's 400 is its refusal.)
        401..=499 if is_json_object(raw) => OperationOutcome::Unknown {
            reason: format!(
                "Ottu answered the {} with HTTP {}{}, which is neither a refusal nor a success; the outcome is unknown",
                call.noun(),
                status_words(status),
                detail_of(raw)
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            raw: raw.kept_body(),
        },
        // Could any of these have been applied? A redirect is not followed, and whatever
        // redirects (a captive portal, http→https, a moved host) answers instead of passing
        // the request on. A proxy's 4xx page (an HTML or text 404, 413, an HTML 400) is its
        // own refusal to forward. Once Ottu has the request, its 4xx answers are JSON (above);
        // a proxy that timed out *after* forwarding answers 502/504, which stays an unknown
        // outcome. So these were not applied: not sent, not failed.
        300..=499 => OperationOutcome::NotOttu {
            reason: not_ottu_reason(call, raw),
            status,
            raw: raw.kept_body(),
        },
        _ => OperationOutcome::Unknown {
            reason: format!("Ottu answered HTTP {status}, which means nothing to Daftar"),
            raw: raw.kept_body(),
        },
    }
}

fn classify_reply(kind: OperationKind, raw: &RawResponse) -> OperationOutcome {
    let unknown = |why: String| OperationOutcome::Unknown {
        reason: format!(
            "Ottu answered HTTP {} to the {kind} with a body Daftar cannot read ({why}); the outcome is unknown",
            raw.status
        ),
        raw: raw.kept_body(),
    };
    let reply: OperationReply = match serde_json::from_slice(&raw.body) {
        Ok(reply) => reply,
        Err(err) => return unknown(err.to_string()),
    };
    let says_success = reply.result == OperationResult::Success;
    if reply.success.is_some_and(|success| success != says_success) {
        return unknown("`result` and `success` disagree".into());
    }
    if says_success {
        OperationOutcome::Succeeded {
            reply: Box::new(reply),
            raw: raw.kept_body(),
        }
    } else {
        OperationOutcome::Refused {
            reason: reply
                .detail
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| format!("Ottu refused the {kind} and gave no reason")),
            status: raw.status,
            raw: raw.kept_body(),
        }
    }
}

/// Why a read (retrieve, inquiry, reports) failed, and what to do about it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Refused before sending: Ottu would refuse it.
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("{}", auth_message(*status, detail, permission.as_deref()))]
    Auth {
        status: u16,
        detail: String,
        permission: Option<String>,
    },
    #[error(
        "Ottu knows no such {what} ({detail}): check the id, and that the profile is the right Ottu account"
    )]
    NotFound { what: &'static str, detail: String },
    #[error("Ottu is throttling these requests: try again {}", after(*retry_after))]
    Throttled { retry_after: Option<Duration> },
    #[error("{reason}: check the network connection; the ledger keeps working offline")]
    Offline { reason: String },
    #[error("{reason}: try again in a few minutes")]
    Unavailable { reason: String },
    #[error("{reason}")]
    Refused {
        status: u16,
        reason: String,
        raw: String,
    },
    #[error(
        "Ottu's answer could not be read ({reason}): try again later; if it persists, send the answer below to support"
    )]
    BadBody { reason: String, raw: String },
    /// An answer that is not Ottu's (a redirect, an HTML or text 404, a 4xx that is not in
    /// Ottu's shape): whatever answered is not Ottu's API, so the id was never looked up.
    /// A problem of the profile (its base URL) or the network, the same for every id.
    #[error("{reason}")]
    NotOttu {
        status: u16,
        reason: String,
        raw: String,
    },
}

fn after(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!("in {} s", wait.as_secs().max(1)),
        None => "in a minute".to_string(),
    }
}

/// The message for a 401/403, shared by operations and reads.
pub fn auth_message(status: u16, detail: &str, permission: Option<&str>) -> String {
    match (status, permission) {
        (403, Some(permission)) => format!(
            "Ottu refused: the profile's user lacks the permission {permission} ({detail}). Grant it in Ottu's dashboard, or use the merchant API key"
        ),
        (403, None) => format!(
            "Ottu refused: the profile's credential lacks a permission ({detail}). Grant it in Ottu's dashboard, or use the merchant API key"
        ),
        _ => format!(
            "Ottu did not accept the profile's credential (HTTP {status}: {detail}). Enter the API key, or the user and password, again"
        ),
    }
}

impl From<TransportError> for FetchError {
    fn from(err: TransportError) -> FetchError {
        match err {
            TransportError::Unreachable { .. } => FetchError::Offline {
                reason: err.to_string(),
            },
            TransportError::TimedOut { .. } | TransportError::Interrupted { .. } => {
                FetchError::Unavailable {
                    reason: err.to_string(),
                }
            }
            TransportError::TooLarge { .. } => FetchError::BadBody {
                reason: err.to_string(),
                raw: String::new(),
            },
        }
    }
}

/// Turns a non-2xx answer to a read into its error.
pub(crate) fn check_fetch(call: OttuCall, raw: &RawResponse) -> Result<(), FetchError> {
    match raw.status {
        200..=299 => Ok(()),
        401 | 403 => {
            let (status, detail, permission) = auth_parts(call, raw);
            Err(FetchError::Auth {
                status,
                detail,
                permission,
            })
        }
        // Ottu's "no such payment" is its JSON `{"detail": ...}` (the spec's
        // GenericErrorMessage; the sandbox answers the same); a web server's HTML 404 page
        // means the base URL does not lead to Ottu's API.
        404 if is_ottu_refusal(raw) => Err(FetchError::NotFound {
            what: call.noun(),
            detail: detail_of(raw).unwrap_or_else(|| "HTTP 404".to_string()),
        }),
        429 => Err(FetchError::Throttled {
            retry_after: retry_after(&raw.headers, raw.received_at),
        }),
        408 | 500..=599 => Err(FetchError::Unavailable {
            reason: retry_reason(call, raw),
        }),
        410 if call == OttuCall::ReportDownload => Err(FetchError::Refused {
            status: 410,
            reason:
                "the report's download link has expired: list the reports again for a fresh one"
                    .to_string(),
            raw: raw.kept_body(),
        }),
        // A redirect is never followed (it would take the credential elsewhere), and a 4xx
        // that is not in Ottu's shape is whoever answered instead of Ottu.
        300..=399 => Err(not_ottu(call, raw)),
        400..=499 if !is_ottu_refusal(raw) => Err(not_ottu(call, raw)),
        status => Err(FetchError::Refused {
            status,
            reason: refusal_reason(call, raw),
            raw: raw.kept_body(),
        }),
    }
}

fn not_ottu(call: OttuCall, raw: &RawResponse) -> FetchError {
    FetchError::NotOttu {
        status: raw.status,
        reason: not_ottu_reason(call, raw),
        raw: raw.kept_body(),
    }
}

/// Reads a 2xx JSON answer.
pub(crate) fn parse_fetched<T: DeserializeOwned>(raw: &RawResponse) -> Result<T, FetchError> {
    serde_json::from_slice(&raw.body).map_err(|err| FetchError::BadBody {
        reason: err.to_string(),
        raw: raw.kept_body(),
    })
}

fn auth_parts(call: OttuCall, raw: &RawResponse) -> (u16, String, Option<String>) {
    let detail = detail_of(raw).unwrap_or_else(|| format!("HTTP {}", raw.status));
    // A 401 is about who is asking, not about a permission.
    let permission = (raw.status == 403)
        .then(|| permission_in(&detail).or_else(|| call.permission().map(str::to_string)));
    (raw.status, detail, permission.flatten())
}

/// Why a call must be made again: throttled, or the outcome is unknown.
fn retry_reason(call: OttuCall, raw: &RawResponse) -> String {
    let what = match raw.status {
        429 => "is throttling requests".to_string(),
        408 => format!("timed out reading the request ({})", status_words(408)),
        status => format!("had an error ({})", status_words(status)),
    };
    let tail = match (call, raw.status) {
        // Throttled requests are turned away before they are looked at.
        (OttuCall::Operation(_), 429) => "; it will be resent with the same Tracking-Key",
        (OttuCall::Operation(_), _) => {
            "; the outcome is unknown and it will be resent with the same Tracking-Key"
        }
        _ => "",
    };
    match detail_of(raw) {
        Some(detail) => format!("Ottu {what}: {detail}{tail}"),
        None => format!("Ottu {what}{tail}"),
    }
}

/// Ottu's reason for a final no: its `detail`, its field errors, or the status.
fn refusal_reason(call: OttuCall, raw: &RawResponse) -> String {
    let noun = call.noun();
    // Redirects never get here: they are not Ottu's answer (`not_ottu_reason`).
    let said = match raw.json() {
        Some(Value::Object(map)) => match map.get("detail").and_then(Value::as_str) {
            Some(detail) => Some(detail.to_string()),
            None => field_errors(&map),
        },
        _ => None,
    };
    match said {
        Some(said) if raw.status == 400 => said,
        Some(said) => format!(
            "Ottu refused the {noun} ({}): {said}",
            status_words(raw.status)
        ),
        None => format!(
            "Ottu refused the {noun} ({}) without a readable reason",
            status_words(raw.status)
        ),
    }
}

fn is_json_object(raw: &RawResponse) -> bool {
    matches!(raw.json(), Some(Value::Object(_)))
}

/// Whether a 4xx body is Ottu's by its shape (an operation's refusal, a read's "not
/// found"): `{"detail": "...", ...}` (with `result: failed`, or Django REST framework's
/// plain `{"detail"}`), or a field-error map (every value a list of messages, or a nested
/// map). A proxy's HTML or text page, or some other service's JSON, is not.
fn is_ottu_refusal(raw: &RawResponse) -> bool {
    let Some(Value::Object(map)) = raw.json() else {
        return false;
    };
    if map.get("detail").is_some_and(Value::is_string) {
        return map
            .get("result")
            .is_none_or(|result| result.as_str() == Some("failed"));
    }
    !map.is_empty()
        && map
            .values()
            .all(|value| matches!(value, Value::Array(_) | Value::Object(_)))
}

/// What came back instead of Ottu's answer: the status, the content type, where a
/// redirect pointed.
fn not_ottu_reason(call: OttuCall, raw: &RawResponse) -> String {
    let noun = call.noun();
    let kind = raw
        .header(reqwest::header::CONTENT_TYPE)
        .map(|t| t.split(';').next().unwrap_or(t).trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "no content type".to_string());
    let said = match (raw.status, detail_of(raw)) {
        (300..=399, _) => format!(
            "; it redirects to {} (not followed: the request would lose its signature or go elsewhere)",
            raw.header(LOCATION).unwrap_or("nowhere")
        ),
        (_, Some(detail)) => format!(": {detail}"),
        _ => String::new(),
    };
    let (what, applied) = match call {
        OttuCall::Operation(_) => (format!("the answer to the {noun}"), "; nothing was applied"),
        // A read changes nothing at Ottu either way.
        _ => (format!("the answer to the {noun} request"), ""),
    };
    format!(
        "{what} is not Ottu's ({}, {kind}){said}{applied}: check the profile's base URL",
        status_words(raw.status)
    )
}

/// `detail` of a `{"detail": "..."}` body.
fn detail_of(raw: &RawResponse) -> Option<String> {
    match raw.json()? {
        Value::Object(map) => map
            .get("detail")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// A field-error map made readable: `amount: Ensure ...; session_id: ...`.
fn field_errors(map: &Map<String, Value>) -> Option<String> {
    fn messages(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| messages(item, out)),
            Value::Object(inner) => {
                if let Some(text) = field_errors(inner) {
                    out.push(text);
                }
            }
            other => out.push(other.to_string()),
        }
    }
    let general = |field: &str| matches!(field, "non_field_errors" | "detail");
    let mut fields: Vec<(&String, &Value)> = map.iter().collect();
    // Errors about the whole request first, then by field name, whatever order Ottu used.
    fields.sort_by_key(|(field, _)| (!general(field), *field));
    let parts: Vec<String> = fields
        .into_iter()
        .filter_map(|(field, value)| {
            let mut found = Vec::new();
            messages(value, &mut found);
            let text = found.join(" ");
            match field.as_str() {
                _ if text.is_empty() => None,
                field if general(field) => Some(text),
                _ => Some(format!("{field}: {text}")),
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn status_words(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(words) => format!("HTTP {status} {words}"),
        None => format!("HTTP {status}"),
    }
}

/// `Retry-After` as seconds or an HTTP-date (counted from the answer's `Date`, or from when
/// it arrived), capped at [`OTTU_MAX_RETRY_AFTER_S`].
pub fn retry_after(headers: &HeaderMap, received_at: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let cap = Duration::from_secs(OTTU_MAX_RETRY_AFTER_S);
    let wait = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to parse is longer than the cap anyway.
        text.parse().map_or(cap, Duration::from_secs)
    } else {
        let at = httpdate::parse_http_date(text).ok()?;
        let now = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .unwrap_or(received_at);
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    const REFUND: OperationKind = OperationKind::Refund;

    fn raw(status: u16, headers: &[(&str, &str)], body: &str) -> RawResponse {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        RawResponse {
            status,
            headers: map,
            body: body.as_bytes().to_vec(),
            received_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    fn op(
        kind: OperationKind,
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) -> OperationOutcome {
        classify_operation(kind, &raw(status, headers, body))
    }

    #[test]
    fn a_200_success_is_succeeded_with_the_child() {
        let body = json!({
            "result": "success", "success": true, "detail": "Refund done", "operation": "refund",
            "amount": "2.000", "reference_number": "REF-7", "session_id": "parent",
            "txn": {"session_id": "child-1", "order_no": "o-1", "amount": "2.000",
                    "currency_code": "KWD", "state": "refunded"}
        })
        .to_string();
        let OperationOutcome::Succeeded { reply, raw } = op(REFUND, 200, &[], &body) else {
            panic!("not succeeded")
        };
        assert_eq!(reply.reference_number.as_deref(), Some("REF-7"));
        let child = reply.child.unwrap();
        assert_eq!(child.session_id.as_deref(), Some("child-1"));
        assert_eq!(child.state.as_deref(), Some("refunded"));
        assert_eq!(raw, body);
        let internal = r#"{"detail":"Canceled","operation":"cancel","result":"success"}"#;
        let outcome = op(OperationKind::Cancel, 200, &[], internal);
        assert!(outcome.is_final());
        assert!(
            matches!(outcome, OperationOutcome::Succeeded { reply, .. } if reply.child.is_none())
        );
    }

    #[test]
    fn a_200_failed_is_a_final_refusal_with_ottus_words() {
        let body = r#"{"detail":"Gateway declined the refund","operation":"refund","result":"failed","success":false}"#;
        assert_eq!(
            op(REFUND, 200, &[], body),
            OperationOutcome::Refused {
                reason: "Gateway declined the refund".into(),
                status: 200,
                raw: body.into()
            }
        );
        let silent = op(REFUND, 200, &[], r#"{"result":"failed","detail":""}"#);
        assert!(
            matches!(silent, OperationOutcome::Refused { reason, .. } if reason == "Ottu refused the refund and gave no reason")
        );
    }

    #[test]
    fn unreadable_or_contradictory_2xx_bodies_are_unknown() {
        for body in [
            "<html>gateway</html>",
            "",
            r#"{"detail":"ok"}"#,
            r#"{"result":"maybe"}"#,
            r#"{"result":"success","success":false}"#,
        ] {
            let outcome = op(REFUND, 200, &[], body);
            assert!(
                matches!(&outcome, OperationOutcome::Unknown { raw, .. } if raw == body),
                "{body:?} gave {outcome:?}"
            );
            assert!(!outcome.is_final());
        }
    }

    #[test]
    fn a_400_is_refused_with_the_detail_or_the_fields_made_readable() {
        let detail = r#"{"detail":"Amount exceeds the refundable amount","operation":"refund","result":"failed"}"#;
        assert!(matches!(
            op(REFUND, 400, &[], detail),
            OperationOutcome::Refused { reason, status: 400, .. } if reason == "Amount exceeds the refundable amount"
        ));
        let fields = r#"{"amount":["Ensure that there are no more than 3 decimal places."],"session_id":["Not found.","Really."],"non_field_errors":["Pick one id."]}"#;
        let OperationOutcome::Refused { reason, .. } = op(REFUND, 400, &[], fields) else {
            panic!()
        };
        assert_eq!(
            reason,
            "Pick one id.; amount: Ensure that there are no more than 3 decimal places.; session_id: Not found. Really."
        );
        let plain = r#"{"detail":"JSON parse error"}"#;
        assert!(matches!(
            op(REFUND, 400, &[], plain),
            OperationOutcome::Refused { reason, .. } if reason == "JSON parse error"
        ));
    }

    #[test]
    fn answers_that_are_not_ottus_are_not_refusals() {
        // A 400 page from a proxy, another service's JSON 400, an HTML or empty 404, a text
        // 405, a redirect: none of them is Ottu deciding the operation, and none may make it
        // `failed`.
        let html = op(
            REFUND,
            400,
            &[("content-type", "text/html; charset=utf-8")],
            "<h1>Bad Request</h1>",
        );
        assert_eq!(
            html,
            OperationOutcome::NotOttu {
                reason: "the answer to the refund is not Ottu's (HTTP 400 Bad Request, text/html); nothing was applied: check the profile's base URL".into(),
                status: 400,
                raw: "<h1>Bad Request</h1>".into()
            }
        );
        assert!(!html.is_final());
        for (status, headers, body) in [
            (400, &[("content-type", "text/plain")][..], "bad request"),
            (
                400,
                &[][..],
                r#"{"timestamp":1,"status":400,"error":"Bad Request"}"#,
            ),
            (400, &[][..], r#"{"detail":"x","result":"success"}"#),
            (
                404,
                &[("content-type", "text/html")][..],
                "<h1>Not Found</h1>",
            ),
            (404, &[][..], ""),
            (
                405,
                &[("content-type", "text/plain")][..],
                "Method Not Allowed",
            ),
            (413, &[][..], ""),
            (
                401,
                &[("content-type", "text/html")][..],
                "<form>Sign in to the Wi-Fi</form>",
            ),
            (403, &[][..], "<h1>Attention Required! | Cloudflare</h1>"),
        ] {
            let outcome = op(OperationKind::Void, status, headers, body);
            assert!(
                matches!(&outcome, OperationOutcome::NotOttu { status: s, raw, reason }
                    if *s == status && raw == body && reason.contains(&status.to_string())),
                "{status} {body}: {outcome:?}"
            );
        }
        let moved = op(REFUND, 302, &[("location", "https://login.example/")], "");
        assert!(
            matches!(&moved, OperationOutcome::NotOttu { reason, status: 302, .. }
                if reason.contains("https://login.example/") && reason.contains("base URL")),
            "{moved:?}"
        );
    }

    #[test]
    fn another_json_4xx_may_be_ottus_so_its_outcome_is_unknown() {
        // Django REST framework's shape, as Ottu would answer: neither a refusal (only a 400
        // is) nor a sure sign the request never arrived.
        for (status, body) in [
            (404, r#"{"detail":"Not found."}"#),
            (405, r#"{"detail":"Method \"POST\" not allowed."}"#),
            (409, r#"{"detail":"Conflict."}"#),
            (413, r#"{"detail":"Request too large."}"#),
            (422, r#"{"amount":["Not a number."]}"#),
            (418, r#"{}"#),
        ] {
            let outcome = op(
                REFUND,
                status,
                &[("content-type", "application/json")],
                body,
            );
            assert!(
                matches!(&outcome, OperationOutcome::Unknown { raw, reason }
                    if raw == body && reason.contains(&status.to_string()) && reason.contains("unknown")),
                "{status} {body}: {outcome:?}"
            );
            assert!(!outcome.is_final());
        }
        let said = op(REFUND, 404, &[], r#"{"detail":"Not found."}"#);
        assert!(
            matches!(&said, OperationOutcome::Unknown { reason, .. } if reason.contains("HTTP 404 Not Found (Not found.)")),
            "{said:?}"
        );
        // 408 and 429 stay retries; a JSON 400 not in Ottu's shape stays a proxy's.
        assert!(matches!(
            op(REFUND, 408, &[], r#"{"detail":"timeout"}"#),
            OperationOutcome::RetryLater {
                throttled: false,
                ..
            }
        ));
        assert!(matches!(
            op(REFUND, 429, &[], r#"{"detail":"slow down"}"#),
            OperationOutcome::RetryLater {
                throttled: true,
                ..
            }
        ));
        assert!(matches!(
            op(REFUND, 400, &[], r#"{"status":400,"error":"Bad Request"}"#),
            OperationOutcome::NotOttu { status: 400, .. }
        ));
    }

    #[test]
    fn auth_answers_name_the_missing_permission() {
        let said = op(REFUND, 403, &[], r#"{"detail":"You lack payment.refund."}"#);
        assert_eq!(
            said,
            OperationOutcome::Auth {
                status: 403,
                detail: "You lack payment.refund.".into(),
                permission: Some("payment.refund".into())
            }
        );
        let unsaid = op(
            OperationKind::Capture,
            403,
            &[],
            r#"{"detail":"You do not have permission to perform this action."}"#,
        );
        assert!(
            matches!(unsaid, OperationOutcome::Auth { permission: Some(p), .. } if p == "payment.capture")
        );
        let bad_key = op(REFUND, 401, &[], r#"{"detail":"Invalid API key."}"#);
        assert_eq!(
            bad_key,
            OperationOutcome::Auth {
                status: 401,
                detail: "Invalid API key.".into(),
                permission: None
            }
        );
        assert!(
            matches!(op(REFUND, 401, &[], ""), OperationOutcome::Auth { detail, .. } if detail == "HTTP 401")
        );
    }

    #[test]
    fn throttling_and_server_errors_retry_with_the_same_key() {
        let throttled = op(
            REFUND,
            429,
            &[("retry-after", "120")],
            r#"{"detail":"Request was throttled."}"#,
        );
        assert_eq!(
            throttled,
            OperationOutcome::RetryLater {
                reason: "Ottu is throttling requests: Request was throttled.; it will be resent with the same Tracking-Key".into(),
                retry_after: Some(Duration::from_secs(120)),
                offline: false,
                throttled: true,
                raw: r#"{"detail":"Request was throttled."}"#.into(),
            }
        );
        for status in [500, 502, 503, 504, 408] {
            let outcome = op(REFUND, status, &[], "<html>oops</html>");
            assert!(
                matches!(&outcome, OperationOutcome::RetryLater { offline: false, throttled: false, retry_after: None, reason, raw }
                    if reason.contains(&status.to_string()) && raw == "<html>oops</html>"),
                "{status}: {outcome:?}"
            );
        }
        let odd = op(REFUND, 600, &[], "");
        assert!(matches!(odd, OperationOutcome::Unknown { .. }));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let at = |headers: &[(&str, &str)]| {
            let r = raw(429, headers, "");
            retry_after(&r.headers, r.received_at)
        };
        assert_eq!(at(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        assert_eq!(at(&[("retry-after", " 0 ")]), Some(Duration::ZERO));
        assert_eq!(at(&[]), None);
        assert_eq!(at(&[("retry-after", "soon")]), None);
        assert_eq!(at(&[("retry-after", "-5")]), None);
        let cap = Some(Duration::from_secs(OTTU_MAX_RETRY_AFTER_S));
        assert_eq!(at(&[("retry-after", "99999999999999999999999")]), cap);
        // Counted from the answer's own Date, so a wrong local clock does not matter.
        assert_eq!(
            at(&[
                ("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"),
                ("date", "Wed, 21 Oct 2015 07:28:00 GMT")
            ]),
            Some(Duration::from_secs(30))
        );
        // Without a Date: from when it arrived (1_700_000_000 = Tue, 14 Nov 2023 22:13:20 GMT).
        assert_eq!(
            at(&[("retry-after", "Tue, 14 Nov 2023 22:14:05 GMT")]),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            at(&[("retry-after", "Tue, 14 Nov 2023 22:00:00 GMT")]),
            Some(Duration::ZERO)
        );
        assert_eq!(at(&[("retry-after", "Fri, 14 Nov 2025 22:00:00 GMT")]), cap);
    }

    #[test]
    fn transport_failures_say_whether_anything_was_sent() {
        let refused = operation_outcome(
            REFUND,
            Err(TransportError::Unreachable {
                reason: "connection refused".into(),
            }),
        );
        assert!(matches!(
            refused,
            OperationOutcome::RetryLater { offline: true, .. }
        ));
        for err in [
            TransportError::TimedOut {
                reason: "60 s".into(),
            },
            TransportError::Interrupted {
                reason: "reset".into(),
            },
        ] {
            assert!(matches!(
                operation_outcome(REFUND, Err(err)),
                OperationOutcome::RetryLater { offline: false, .. }
            ));
        }
        assert!(matches!(
            operation_outcome(REFUND, Err(TransportError::TooLarge { limit_bytes: 10 })),
            OperationOutcome::Unknown { .. }
        ));
    }

    #[test]
    fn kept_bodies_are_bounded() {
        let big = "x".repeat(OTTU_MAX_KEPT_BODY_BYTES + 10);
        let kept = raw(500, &[], &big).kept_body();
        assert!(kept.starts_with(&"x".repeat(OTTU_MAX_KEPT_BODY_BYTES)));
        assert!(
            kept.ends_with("[10 more bytes not kept]"),
            "{}",
            &kept[kept.len() - 40..]
        );
    }

    #[test]
    fn reads_fail_with_what_to_do() {
        let call = OttuCall::Retrieve;
        assert!(check_fetch(call, &raw(200, &[], "{}")).is_ok());
        let not_found =
            check_fetch(call, &raw(404, &[], r#"{"detail":"Not found."}"#)).unwrap_err();
        assert_eq!(
            not_found,
            FetchError::NotFound {
                what: "payment",
                detail: "Not found.".into()
            }
        );
        assert!(
            not_found.to_string().contains("check the id"),
            "{not_found}"
        );
        // A web server's 404 page, a redirect, a text 4xx: not Ottu's answer, so not "no
        // such payment" either (the same shape test as an operation's refusal).
        let page = check_fetch(
            call,
            &raw(
                404,
                &[("content-type", "text/html; charset=utf-8")],
                "<h1>Not Found</h1>",
            ),
        )
        .unwrap_err();
        assert_eq!(
            page,
            FetchError::NotOttu {
                status: 404,
                reason: "the answer to the payment request is not Ottu's (HTTP 404 Not Found, text/html): check the profile's base URL".into(),
                raw: "<h1>Not Found</h1>".into()
            }
        );
        let moved = check_fetch(
            call,
            &raw(302, &[("location", "https://login.example/")], ""),
        )
        .unwrap_err();
        assert!(
            matches!(&moved, FetchError::NotOttu { status: 302, reason, .. }
                if reason.contains("https://login.example/") && reason.contains("base URL")),
            "{moved:?}"
        );
        for (status, body) in [
            (404, ""),
            (404, r#"{"timestamp":1,"status":404,"error":"Not Found"}"#),
            (405, "Method Not Allowed"),
            (400, "<h1>Bad Request</h1>"),
        ] {
            let error = check_fetch(call, &raw(status, &[], body)).unwrap_err();
            assert!(
                matches!(&error, FetchError::NotOttu { status: s, raw, .. } if *s == status && raw == body),
                "{status} {body}: {error:?}"
            );
        }
        let auth =
            check_fetch(OttuCall::ReportList, &raw(403, &[], r#"{"detail":"no"}"#)).unwrap_err();
        assert!(
            matches!(&auth, FetchError::Auth { permission: Some(p), .. } if p == "report.can_view_report")
        );
        assert!(auth.to_string().contains("Grant it"), "{auth}");
        let bad_key = check_fetch(call, &raw(401, &[], r#"{"detail":"Invalid key"}"#)).unwrap_err();
        assert!(
            bad_key.to_string().contains("Enter the API key"),
            "{bad_key}"
        );
        let throttled =
            check_fetch(OttuCall::Inquiry, &raw(429, &[("retry-after", "30")], "")).unwrap_err();
        assert_eq!(
            throttled,
            FetchError::Throttled {
                retry_after: Some(Duration::from_secs(30))
            }
        );
        assert_eq!(
            throttled.to_string(),
            "Ottu is throttling these requests: try again in 30 s"
        );
        assert!(matches!(
            check_fetch(call, &raw(503, &[], "")),
            Err(FetchError::Unavailable { .. })
        ));
        let inquiry_no = check_fetch(
            OttuCall::Inquiry,
            &raw(400, &[], r#"{"detail":"Too early","result":"failed"}"#),
        )
        .unwrap_err();
        assert!(
            matches!(&inquiry_no, FetchError::Refused { status: 400, reason, .. } if reason == "Too early")
        );
        let expired = check_fetch(OttuCall::ReportDownload, &raw(410, &[], "")).unwrap_err();
        assert!(
            expired.to_string().contains("list the reports again"),
            "{expired}"
        );
        let garbled: Result<super::super::wire::ReportPage, _> =
            parse_fetched(&raw(200, &[], "[1,"));
        assert!(matches!(garbled, Err(FetchError::BadBody { raw, .. }) if raw == "[1,"));
        let offline: FetchError = TransportError::Unreachable {
            reason: "refused".into(),
        }
        .into();
        assert!(
            offline.to_string().contains("check the network"),
            "{offline}"
        );
    }
}
