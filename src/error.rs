//! The facade's error: every failure the CLI or the UI can meet, each with a stable
//! machine code, the field it concerns, and a message that says what is allowed.

use serde::Serialize;
use thiserror::Error;

use crate::model::{ReferenceError, UnknownWord};
use crate::money::MoneyError;
use crate::rules::RuleError;
use crate::secrets::SecretsError;
use crate::store::StoreError;

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
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
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
        "operation {id} is {status}: only a queued or blocked operation that never reached Ottu can be dropped; one that was sent can be retried with --confirm-not-applied once Ottu shows it did not take effect"
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
    },
    /// A base URL change to another origin while operations sent to the current one have
    /// no known outcome: their Tracking-Key means nothing to another host, so resending
    /// them there could apply them twice. Refused, nothing changed.
    #[error("{message}")]
    UnresolvedSends { count: i64, message: String },
    /// Something the command needs is busy or missing on this machine (e.g. another sync
    /// holds the ledger): nothing was changed.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// Talking to Ottu failed for the whole command (no credential, offline, refused key).
    #[error("{message}")]
    Remote { code: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The OS keyring could not be reached or failed; never carries the secret.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// What an adapter needs to decide: the CLI maps it to an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed (exit 2).
    BadInput,
    /// Well-formed, but the ledger's rules refuse it (exit 3).
    Refused,
    /// What it names does not exist (exit 4).
    NotFound,
    /// Anything else (exit 1).
    Unexpected,
}

/// The error as the UI and `--json` receive it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorView {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl Error {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid {
            field,
            code,
            message: message.into(),
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
            Error::Invalid { code, .. } => code,
            Error::Rule(rule) => rule.code(),
            Error::NotFound { .. } => "not_found",
            Error::NotDroppable { .. } => "queue.not_droppable",
            Error::NotRetryable { .. } => "queue.not_retryable",
            Error::AlreadyRetried { .. } => "queue.already_retried",
            Error::NotResendable { .. } => "queue.not_resendable",
            Error::ProfileInUse { .. } => "profile.in_use",
            Error::UnresolvedSends { .. } => "profile.unresolved_sends",
            Error::Remote { code, .. } | Error::Unavailable { code, .. } => code,
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
            | Error::NotFound { field, .. }
            | Error::ProfileInUse { field, .. } => Some(field),
            Error::UnresolvedSends { .. } => Some("base_url"),
            Error::Rule(rule) if rule.is_bad_input() => Some("amount"),
            Error::Store(store) => store.field(),
            _ => None,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Money { .. }
            | Error::Reference { .. }
            | Error::Word { .. }
            | Error::Invalid { .. } => ErrorKind::BadInput,
            Error::Rule(rule) if rule.is_bad_input() => ErrorKind::BadInput,
            // The --db path names no file (`:memory:`, a URI): the caller's input.
            Error::Store(store) if store.field().is_some() => ErrorKind::BadInput,
            Error::Rule(_)
            | Error::NotDroppable { .. }
            | Error::NotRetryable { .. }
            | Error::AlreadyRetried { .. }
            | Error::NotResendable { .. }
            | Error::ProfileInUse { .. }
            | Error::UnresolvedSends { .. } => ErrorKind::Refused,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Store(_)
            | Error::Secrets(_)
            | Error::Remote { .. }
            | Error::Unavailable { .. } => ErrorKind::Unexpected,
        }
    }

    pub fn view(&self) -> ErrorView {
        ErrorView {
            code: self.code().to_string(),
            message: self.to_string(),
            field: self.field().map(str::to_string),
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
