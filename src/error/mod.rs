//! The facade's error: every failure the CLI or the UI can meet, each with a stable
//! machine code ([`codes::CODES`], one registry), a [`ErrorKind`] that says what kind of
//! failure it is, the field it concerns, and the values its message is made from
//! (`params`), so a UI can word it in another language without parsing English.
//!
//! Core messages state what is wrong and what is allowed; they never name a CLI command or
//! flag. An adapter words its own hint from the code and the params (the CLI's
//! `render::hint`).

pub mod codes;
pub mod stored;

use serde::Serialize;
use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::connect::ConnectError;
use crate::model::{ReferenceError, UnknownWord};
use crate::money::MoneyError;
use crate::rules::RuleError;
use crate::secrets::SecretsError;
use crate::store::StoreError;

/// The values a message is made from, by name (`requested`, `refundable`, `currency`, ...).
pub type Params = Map<String, Value>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{field}: {source}")]
    Money {
        field: &'static str,
        source: MoneyError,
    },
    #[error("{field}: {source}")]
    Reference {
        field: &'static str,
        source: ReferenceError,
    },
    #[error("{field}: {source}")]
    Word {
        field: &'static str,
        source: UnknownWord,
    },
    /// Bad input found by a check of its own; `params` are filled with [`Error::with`].
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
        params: Params,
    },
    /// Well-formed, but refused by a check of its own (the registry gives the kind:
    /// refused or conflict); `params` are filled with [`Error::with`].
    #[error("{field}: {message}")]
    Refused {
        field: &'static str,
        code: &'static str,
        message: String,
        params: Params,
    },
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("{what} {key} not found")]
    NotFound {
        what: &'static str,
        field: &'static str,
        key: String,
    },
    #[error(
        "operation {id} is {status}: only a queued or blocked operation that never reached Ottu can be dropped; one that was sent can be retried once Ottu shows it did not take effect"
    )]
    NotDroppable { id: i64, status: String },
    #[error(
        "operation {id} is {status}: only an unresolved (needs_attention) operation can be resent"
    )]
    NotResendable { id: i64, status: String },
    #[error("operation {id} was already retried as operation {by}; retry that one instead")]
    AlreadyRetried { id: i64, by: i64 },
    #[error(
        "operation {id} is {status}: only a failed, blocked or unresolved (needs_attention) operation can be retried"
    )]
    NotRetryable { id: i64, status: String },
    /// A profile's history stands in the way of the change (its payments keep their
    /// currency; a profile with payments is never deleted). Refused, nothing changed.
    #[error("{message}")]
    ProfileInUse {
        field: &'static str,
        message: String,
        params: Params,
    },
    /// A base URL change to another origin while operations sent to the current one have
    /// no known outcome: their Tracking-Key means nothing to another host, so resending
    /// them there could apply them twice. Refused, nothing changed.
    #[error(
        "profile {profile} holds {} sent to {from} whose outcome is unknown; only that host knows their Tracking-Keys, so sending them to {to} could apply them twice. Resolve them first: sync at the current base URL until Ottu answers (resending one left needs_attention uses the same key and host), or retry it once Ottu's dashboard shows it did not take effect. Another path on the same scheme, host and port is allowed",
        operations(*count)
    )]
    UnresolvedSends {
        profile: String,
        count: i64,
        from: String,
        to: String,
    },
    /// Something the command needs is busy or missing on this machine (e.g. another sync
    /// holds the ledger): nothing was changed.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// Talking to Ottu failed for the whole command (no credential, offline, refused key).
    #[error("{message}")]
    Remote { code: &'static str, message: String },
    /// No client could be made for a profile (no credential stored, a refused base URL):
    /// [`ConnectError`] keeps the profile and origin as params.
    #[error(transparent)]
    Connect(ConnectError),
    /// The ledger broke one of its own invariants (a bug): the write was rolled back.
    #[error(
        "the ledger broke one of its own rules ({what}); nothing was changed: please report this"
    )]
    Invariant { what: String },
    /// An error with params its own variant does not carry (an import's stop: the line,
    /// what was imported); made by [`Error::with`], the same error otherwise.
    #[error("{error}")]
    WithParams { error: Box<Error>, params: Params },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The OS keyring could not be reached or failed; never carries the secret.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// What kind of failure it is: what a UI shows (fix the field, refused now, try later,
/// report a bug) and what the CLI maps to an exit code. Each code has one kind, in
/// [`codes::CODES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request itself is malformed: fix the input (CLI exit 2).
    InvalidInput,
    /// Well-formed, but the ledger's rules refuse it (exit 3).
    Refused,
    /// What it names does not exist (exit 4).
    NotFound,
    /// Something outside the request is missing, busy or unreachable (Ottu, the keyring,
    /// the disk, another process): the same request may work later (exit 1).
    Unavailable,
    /// Refused because of other work on the same thing (a pending operation, a retry
    /// already made, sends with no known outcome): it may be allowed once that resolves
    /// (exit 3).
    Conflict,
    /// A bug or a damaged ledger: report it (exit 1).
    Internal,
}

impl ErrorKind {
    pub const ALL: &[ErrorKind] = &[
        ErrorKind::InvalidInput,
        ErrorKind::Refused,
        ErrorKind::NotFound,
        ErrorKind::Unavailable,
        ErrorKind::Conflict,
        ErrorKind::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Refused => "refused",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The error as the UI and `--json` receive it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ErrorView {
    pub code: String,
    pub kind: ErrorKind,
    pub message: String,
    pub field: Option<String>,
    /// The values the message is made from; `{}` when it has none.
    pub params: Params,
}

/// "1 operation", "2 operations".
fn operations(count: i64) -> String {
    match count {
        1 => "1 operation".to_string(),
        n => format!("{n} operations"),
    }
}

/// A JSON object from `json!({...})`; anything else gives no params.
pub(crate) fn params(value: Value) -> Params {
    match value {
        Value::Object(map) => map,
        _ => Params::new(),
    }
}

impl Error {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid {
            field,
            code,
            message: message.into(),
            params: Params::new(),
        }
    }

    /// A refusal (or conflict) found by a check of its own; its kind is the code's in the
    /// registry.
    pub fn refused(field: &'static str, code: &'static str, message: impl Into<String>) -> Error {
        Error::Refused {
            field,
            code,
            message: message.into(),
            params: Params::new(),
        }
    }

    /// Adds a value the message is made from. Bad input and a profile in use keep it in
    /// their own params; any other error is wrapped ([`Error::WithParams`]), its code, kind,
    /// field and message unchanged.
    pub fn with(self, key: &str, value: impl Serialize) -> Error {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        match self {
            Error::Invalid {
                field,
                code,
                message,
                mut params,
            } => {
                params.insert(key.to_string(), value);
                Error::Invalid {
                    field,
                    code,
                    message,
                    params,
                }
            }
            Error::Refused {
                field,
                code,
                message,
                mut params,
            } => {
                params.insert(key.to_string(), value);
                Error::Refused {
                    field,
                    code,
                    message,
                    params,
                }
            }
            Error::ProfileInUse {
                field,
                message,
                mut params,
            } => {
                params.insert(key.to_string(), value);
                Error::ProfileInUse {
                    field,
                    message,
                    params,
                }
            }
            Error::WithParams { error, mut params } => {
                params.insert(key.to_string(), value);
                Error::WithParams { error, params }
            }
            other => {
                let mut params = Params::new();
                params.insert(key.to_string(), value);
                Error::WithParams {
                    error: Box::new(other),
                    params,
                }
            }
        }
    }

    /// The error under any params added with [`Error::with`].
    pub fn inner(&self) -> &Error {
        match self {
            Error::WithParams { error, .. } => error.inner(),
            other => other,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::Money { source, .. } => match source {
                MoneyError::UnknownCurrency { .. } => "currency.unknown",
                MoneyError::NotADecimal { .. } => "amount.not_decimal",
                MoneyError::TooPrecise { .. } => "amount.too_precise",
                MoneyError::TooManyDigits { .. } => "amount.too_many_digits",
                MoneyError::NotPositive { .. } => "amount.not_positive",
                MoneyError::CurrencyMismatch { .. } => "amount.currency",
                MoneyError::Overflow { .. } => "amount.overflow",
            },
            Error::Reference { source, .. } => match source {
                ReferenceError::Empty { .. } => "input.empty",
                ReferenceError::TooLong { .. } => "input.too_long",
                ReferenceError::BadCharacter { .. } => "input.bad_character",
            },
            Error::Word { .. } => "input.unknown_word",
            Error::Invalid { code, .. } | Error::Refused { code, .. } => code,
            Error::Rule(rule) => rule.code(),
            Error::NotFound { .. } => "not_found",
            Error::NotDroppable { .. } => "queue.not_droppable",
            Error::NotRetryable { .. } => "queue.not_retryable",
            Error::AlreadyRetried { .. } => "queue.already_retried",
            Error::NotResendable { .. } => "queue.not_resendable",
            Error::ProfileInUse { .. } => "profile.in_use",
            Error::UnresolvedSends { .. } => "profile.unresolved_sends",
            Error::Remote { code, .. } | Error::Unavailable { code, .. } => code,
            Error::Connect(connect) => connect.code(),
            Error::Invariant { .. } => "ledger.invariant",
            Error::WithParams { error, .. } => error.code(),
            Error::Store(store) => store.code(),
            Error::Secrets(secrets) => secrets.code(),
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Money { field, .. }
            | Error::Reference { field, .. }
            | Error::Word { field, .. }
            | Error::Invalid { field, .. }
            | Error::Refused { field, .. }
            | Error::NotFound { field, .. }
            | Error::ProfileInUse { field, .. } => Some(field),
            Error::UnresolvedSends { .. } => Some("base_url"),
            Error::Rule(rule) => rule.field(),
            Error::WithParams { error, .. } => error.field(),
            Error::Store(store) => store.field(),
            _ => None,
        }
    }

    /// The code's kind in the registry. A code missing from it (the registry test fails
    /// for any the source names) falls back to what the variant says.
    ///
    /// A command that stopped part way (`Remote`, `Unavailable`) is never bad input, a
    /// refusal or not-found, whatever its code (an import stopped by a file that cannot be
    /// read further is `input.unreadable`, as the file that cannot be opened is): it keeps
    /// the exit code such stops always had (1).
    pub fn kind(&self) -> ErrorKind {
        if let Error::Remote { .. } | Error::Unavailable { .. } = self.inner() {
            return match codes::kind_of(self.code()) {
                Some(ErrorKind::Internal) => ErrorKind::Internal,
                _ => ErrorKind::Unavailable,
            };
        }
        if let Some(kind) = codes::kind_of(self.code()) {
            return kind;
        }
        match self {
            Error::Money { .. }
            | Error::Reference { .. }
            | Error::Word { .. }
            | Error::Invalid { .. } => ErrorKind::InvalidInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Rule(_)
            | Error::Refused { .. }
            | Error::NotDroppable { .. }
            | Error::NotRetryable { .. }
            | Error::NotResendable { .. }
            | Error::ProfileInUse { .. } => ErrorKind::Refused,
            Error::AlreadyRetried { .. } | Error::UnresolvedSends { .. } => ErrorKind::Conflict,
            Error::Remote { .. }
            | Error::Unavailable { .. }
            | Error::Connect(_)
            | Error::Secrets(_) => ErrorKind::Unavailable,
            Error::Store(_) | Error::Invariant { .. } => ErrorKind::Internal,
            Error::WithParams { error, .. } => error.kind(),
        }
    }

    /// The values the message is made from.
    pub fn params(&self) -> Params {
        match self {
            Error::Money { source, .. } => money_params(source),
            Error::Reference { source, .. } => match source {
                ReferenceError::Empty { what } => params(json!({ "what": what })),
                ReferenceError::TooLong { what, len, max } => {
                    params(json!({ "what": what, "length": len, "max_length": max }))
                }
                ReferenceError::BadCharacter {
                    what,
                    value,
                    problem,
                    allowed,
                } => params(json!({
                    "what": what, "value": value, "problem": problem, "allowed": allowed,
                })),
            },
            Error::Word { source, .. } => params(json!({
                "what": source.what, "value": source.value, "allowed": source.allowed,
            })),
            Error::Invalid { params, .. }
            | Error::Refused { params, .. }
            | Error::ProfileInUse { params, .. } => params.clone(),
            Error::Rule(rule) => rule.params(),
            Error::NotFound { what, key, .. } => params(json!({ "what": what, "id": key })),
            Error::NotDroppable { id, status }
            | Error::NotRetryable { id, status }
            | Error::NotResendable { id, status } => params(json!({ "id": id, "status": status })),
            Error::AlreadyRetried { id, by } => params(json!({ "id": id, "retried_as": by })),
            Error::UnresolvedSends {
                profile,
                count,
                from,
                to,
            } => params(json!({
                "profile": profile, "count": count, "base_url": from, "new_base_url": to,
            })),
            Error::Unavailable { .. } | Error::Remote { .. } => Params::new(),
            Error::Connect(connect) => connect.params(),
            Error::Invariant { what } => params(json!({ "detail": what })),
            Error::WithParams { error, params } => {
                let mut all = error.params();
                all.extend(params.clone());
                all
            }
            Error::Store(store) => store.params(),
            Error::Secrets(secrets) => secrets.params(),
        }
    }

    pub fn view(&self) -> ErrorView {
        ErrorView {
            code: self.code().to_string(),
            kind: self.kind(),
            message: self.to_string(),
            field: self.field().map(str::to_string),
            params: self.params(),
        }
    }
}

fn money_params(source: &MoneyError) -> Params {
    match source {
        MoneyError::UnknownCurrency { value, allowed } => {
            params(json!({ "value": value, "allowed": allowed }))
        }
        MoneyError::NotADecimal {
            value,
            decimals,
            example,
        } => params(json!({
            "value": value, "allowed_decimals": decimals, "example": example,
        })),
        MoneyError::TooPrecise {
            value,
            currency,
            decimals,
        } => params(json!({
            "value": value, "currency": currency, "allowed_decimals": decimals,
        })),
        MoneyError::TooManyDigits { value, max } => {
            params(json!({ "value": value, "max_digits": max }))
        }
        MoneyError::NotPositive { value } => params(json!({ "value": value })),
        MoneyError::CurrencyMismatch { left, right } => {
            params(json!({ "currency": left, "other_currency": right }))
        }
        MoneyError::Overflow { left, right } => params(json!({ "left": left, "right": right })),
    }
}

impl From<ConnectError> for Error {
    /// A keyring that cannot be reached stays the keyring's own error
    /// (`secrets.unavailable`): a local condition, never "no key stored".
    fn from(error: ConnectError) -> Error {
        match error {
            ConnectError::Keyring(error) => Error::Secrets(error),
            other => Error::Connect(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Attaches the field name to the parse errors of the model and money modules.
pub(crate) trait FieldContext<T> {
    fn field(self, field: &'static str) -> Result<T>;
}

impl<T> FieldContext<T> for std::result::Result<T, MoneyError> {
    fn field(self, field: &'static str) -> Result<T> {
        self.map_err(|source| Error::Money { field, source })
    }
}

impl<T> FieldContext<T> for std::result::Result<T, ReferenceError> {
    fn field(self, field: &'static str) -> Result<T> {
        self.map_err(|source| Error::Reference { field, source })
    }
}

impl<T> FieldContext<T> for std::result::Result<T, UnknownWord> {
    fn field(self, field: &'static str) -> Result<T> {
        self.map_err(|source| Error::Word { field, source })
    }
}
