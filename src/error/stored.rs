//! What the ledger stores about a failure (a profile's pause, an operation's last error, an
//! event's reason) is a code and the values its message is made from, not prose
//! (migration 0004: `paused_code`/`paused_params`, `last_error_code`/`last_error_params`,
//! and `code`/`params` beside `reason` in event JSON). The English message is built here
//! from them when read; a UI builds its own from the same code and params.
//!
//! The old prose columns (`paused_reason`, `last_error`) are still written with the English
//! message: `paused_reason` is also the pause flag the queue's claim checks, and a row
//! written before 0004 has only its prose, which readers fall back to ([`text`]). A
//! trigger clears the code when a statement rewrites the prose without it, so a code never
//! outlives the text it stands for. Text that comes from Ottu (its reply's detail, or what
//! the transport said about it) is data: it is a param (`detail`), never part of a template.

use serde_json::{Value, json};

use super::{Params, params};
use crate::ottu::auth_message;

/// A stored failure: a registered code and its params.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub code: &'static str,
    pub params: Params,
}

/// A stored failure as read back (owned): what a view hands to a UI beside the English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCode {
    pub code: String,
    pub params: Params,
}

impl StoredCode {
    /// From the stored columns; `None` for a row without a code (written before 0004).
    pub fn read(code: Option<&str>, params_json: Option<&str>) -> Option<StoredCode> {
        Some(StoredCode {
            code: code?.to_string(),
            params: params_json
                .and_then(|text| serde_json::from_str::<Params>(text).ok())
                .unwrap_or_default(),
        })
    }
}

/// The codes a stored failure can carry (each is in `codes::CODES` too).
pub const STORED_CODES: &[&str] = &[
    "ottu.auth",
    "ottu.refused",
    "ottu.offline",
    "ottu.throttled",
    "ottu.unknown_outcome",
    "ottu.not_ottu",
    "sync.cannot_send",
    "sync.credential_changed",
    "operation.mismatch",
    "operation.unresolved",
    "operation.held",
    "sync.interrupted",
    "operation.resent",
];

impl Stored {
    fn new(code: &'static str, value: Value) -> Stored {
        Stored {
            code,
            params: params(value),
        }
    }

    /// Ottu refused the credential (401) or a permission (403).
    pub fn auth(status: u16, detail: &str, permission: Option<&str>) -> Stored {
        Stored::new(
            "ottu.auth",
            json!({ "status": status, "detail": detail, "permission": permission }),
        )
    }

    /// A failure whose whole message is `detail`, text from Ottu or the transport.
    pub fn detail(code: &'static str, detail: &str) -> Stored {
        Stored::new(code, json!({ "detail": detail }))
    }

    /// What answered at the profile's base URL is not Ottu.
    pub fn not_ottu(profile: &str, base_url: &str, detail: &str) -> Stored {
        Stored::new(
            "ottu.not_ottu",
            json!({ "profile": profile, "base_url": base_url, "detail": detail }),
        )
    }

    /// Ottu's success does not match the request (`why`: what differs).
    /// A 401/403 to an attempt sent with a credential replaced since: sent again.
    pub fn credential_changed() -> Stored {
        Stored::new("sync.credential_changed", json!({}))
    }

    pub fn mismatch(why: &str) -> Stored {
        Stored::new("operation.mismatch", json!({ "why": why }))
    }

    /// Still no known outcome after `attempts` attempts; `last` is the last one's detail.
    pub fn unresolved(attempts: u32, last: &str) -> Stored {
        Stored::new(
            "operation.unresolved",
            json!({ "attempts": attempts, "last": last }),
        )
    }

    /// Held behind operation `held_by`, which Ottu refused (`cause` `refused`, with its
    /// `detail`) or whose outcome is unknown (`cause` `unknown_outcome`).
    pub fn held(held_by: i64, refused: Option<&str>) -> Stored {
        let value = match refused {
            Some(detail) => json!({ "held_by": held_by, "cause": "refused", "detail": detail }),
            None => json!({ "held_by": held_by, "cause": "unknown_outcome" }),
        };
        Stored::new("operation.held", value)
    }

    /// The English message.
    pub fn message(&self) -> String {
        render(self.code, &self.params).unwrap_or_else(|| self.code.to_string())
    }

    /// The params as stored: a JSON object's text.
    pub fn params_json(&self) -> String {
        Value::Object(self.params.clone()).to_string()
    }

    /// The code and params as they go into an event's JSON beside its `reason`.
    pub fn event_fields(&self) -> (Value, Value) {
        (json!(self.code), Value::Object(self.params.clone()))
    }
}

/// The English message of a stored code, or `None` for a code this build does not know
/// (a newer Daftar's): the reader then shows the prose column.
pub fn render(code: &str, params: &Params) -> Option<String> {
    let text = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or_default();
    let number = |key: &str| params.get(key).and_then(Value::as_i64).unwrap_or_default();
    Some(match code {
        "ottu.auth" => auth_message(
            u16::try_from(number("status")).unwrap_or_default(),
            text("detail"),
            params.get("permission").and_then(Value::as_str),
        ),
        "ottu.refused" | "ottu.offline" | "ottu.throttled" | "ottu.unknown_outcome"
        | "sync.cannot_send" => text("detail").to_string(),
        "sync.credential_changed" => "the profile's credential changed while this attempt was in flight: it is sent again with the new one".to_string(),
        "ottu.not_ottu" => format!(
            "profile {} ({}): {}",
            text("profile"),
            text("base_url"),
            text("detail")
        ),
        "operation.mismatch" => format!(
            "Ottu's success does not match the request ({}); the outcome is unknown and nothing was recorded as done: check the payment in Ottu's dashboard, then resend it (same key, safe) or retry it once Ottu shows it did not take effect",
            text("why")
        ),
        "operation.unresolved" => format!(
            "outcome unknown after {} attempts (last: {}); resending it uses the same key (safe), or check Ottu and retry it once it shows it did not take effect",
            number("attempts"),
            text("last")
        ),
        "operation.held" => {
            let why = match text("cause") {
                "refused" => format!("was refused by Ottu ({})", text("detail")),
                _ => "has an unknown outcome".to_string(),
            };
            format!(
                "held: operation #{} on this payment {why}; retry or drop it first",
                number("held_by")
            )
        }
        // Written by `store::outbox` (recovery, resend) in SQL with these same words.
        "sync.interrupted" => {
            "outcome unknown: the previous sync stopped before Ottu answered".to_string()
        }
        "operation.resent" => "resent by the merchant with the same tracking key".to_string(),
        _ => return None,
    })
}

/// What a reader shows: the message built from the stored code and params, or the prose
/// of a row written before codes were stored (or with a code this build does not know).
pub fn text(
    code: Option<&str>,
    params_json: Option<&str>,
    prose: Option<String>,
) -> Option<String> {
    let Some(code) = code else {
        return prose;
    };
    let params = params_json
        .and_then(|text| serde_json::from_str::<Params>(text).ok())
        .unwrap_or_default();
    render(code, &params).or(prose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_code_renders_and_is_registered() {
        for code in STORED_CODES {
            assert!(render(code, &Params::new()).is_some(), "{code}");
            assert!(super::super::codes::lookup(code).is_some(), "{code}");
        }
    }

    #[test]
    fn an_old_prose_row_reads_as_its_prose() {
        let prose = Some("Ottu did not accept the profile's credential".to_string());
        assert_eq!(text(None, None, prose.clone()), prose);
        assert_eq!(
            text(Some("from.a_newer_daftar"), Some("{}"), prose.clone()),
            prose
        );
        let stored = Stored::auth(401, "bad key", None);
        assert_eq!(
            text(Some(stored.code), Some(&stored.params_json()), prose),
            Some(auth_message(401, "bad key", None))
        );
    }
}
