//! The ledger's nouns: profiles, payments, operations, children and events, their
//! states and kinds, and the id newtypes that keep a session id from ever being
//! passed where a tracking key is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;
use uuid::Uuid;

use crate::money::{Amount, Currency};

/// Ottu caps `session_id` and `order_no` at 128 characters.
pub const MAX_REFERENCE_CHARS: usize = 128;
/// Profile names appear in commands and file names; keep them short and plain.
pub const MAX_PROFILE_NAME_CHARS: usize = 64;

/// A word that names no known variant of an enum; `allowed` lists the accepted words.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("unknown {what} '{value}': allowed are {allowed}")]
pub struct UnknownWord {
    pub what: &'static str,
    pub value: String,
    pub allowed: String,
}

/// Defines a string-backed enum with `as_str`, `ALL`, `FromStr`, `Display`, serde and a
/// TypeScript union of its words (ts-rs).
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS,
        )]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err(UnknownWord {
                        what: $what,
                        value: s.to_string(),
                        allowed: [$($word),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            /// The word, padded as asked (`{:<10}` lines up the CLI's tables).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

word_enum!(
    /// The state of an Ottu payment transaction (the parent).
    PaymentState, "payment state" {
        Created => "created",
        Pending => "pending",
        Attempted => "attempted",
        Authorized => "authorized",
        Paid => "paid",
        Failed => "failed",
        Canceled => "canceled",
        Expired => "expired",
        Invalided => "invalided",
        Cod => "cod",
        Cash => "cash",
        Refunded => "refunded",
        Voided => "voided",
    }
);

word_enum!(
    /// What the merchant asks Ottu to do to a payment.
    OperationKind, "operation" {
        Refund => "refund",
        Capture => "capture",
        Void => "void",
        Cancel => "cancel",
        Expire => "expire",
        Delete => "delete",
    }
);

impl OperationKind {
    /// External operations go on to the payment gateway and create a child.
    pub fn is_external(self) -> bool {
        matches!(
            self,
            OperationKind::Refund | OperationKind::Capture | OperationKind::Void
        )
    }

    /// Ottu reads `amount` only for refund and capture.
    pub fn takes_amount(self) -> bool {
        matches!(self, OperationKind::Refund | OperationKind::Capture)
    }
}

word_enum!(
    /// Where an operation is in its life: the queue holds `queued`, `in_flight`,
    /// `blocked` (held by an earlier failure on the same payment) and `needs_attention`
    /// (outcome unknown after the attempts limit); the rest are final.
    OperationStatus, "operation status" {
        Queued => "queued",
        InFlight => "in_flight",
        Succeeded => "succeeded",
        Failed => "failed",
        NeedsAttention => "needs_attention",
        Dropped => "dropped",
        Blocked => "blocked",
    }
);

impl OperationStatus {
    /// Whether the operation's amount is still spoken for. An operation whose outcome is
    /// unknown (`in_flight`, `needs_attention`) may have taken effect at Ottu, so it keeps
    /// its reservation until Ottu's answer says otherwise; a `blocked` one still means to go.
    pub fn reserves_balance(self) -> bool {
        matches!(
            self,
            OperationStatus::Queued
                | OperationStatus::InFlight
                | OperationStatus::NeedsAttention
                | OperationStatus::Blocked
        )
    }

    /// Only an operation that has never left the machine may be dropped.
    pub fn is_droppable(self) -> bool {
        matches!(self, OperationStatus::Queued | OperationStatus::Blocked)
    }

    /// Whether the merchant may replace it with a new operation (new tracking key):
    /// after a refusal, an unknown outcome, or a hold.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            OperationStatus::Failed | OperationStatus::NeedsAttention | OperationStatus::Blocked
        )
    }
}

word_enum!(
    /// The state of a child transaction Ottu creates for a succeeded external operation.
    ChildState, "child state" {
        Paid => "paid",
        Refunded => "refunded",
        RefundQueued => "refund_queued",
        RefundRejected => "refund_rejected",
        Voided => "voided",
    }
);

word_enum!(
    /// Where a payment row came from.
    PaymentSource, "payment source" {
        Manual => "manual",
        Ottu => "ottu",
        Report => "report",
    }
);

word_enum!(
    /// How a profile authenticates to Ottu (the secret itself lives only in the OS keyring).
    AuthKind, "auth kind" {
        ApiKey => "api_key",
        Basic => "basic",
    }
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OperationId(pub i64);

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The `Tracking-Key` header value of one operation: made once when it is queued and
/// sent on every attempt, so Ottu can recognise a retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingKey(pub Uuid);

impl TrackingKey {
    pub fn new_random() -> TrackingKey {
        TrackingKey(Uuid::new_v4())
    }
}

impl fmt::Display for TrackingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Why a reference (session id, order number, profile name) was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is {len} characters long: at most {max} are allowed")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// `value` is escaped (`\u{202e}`), so an invisible or bidi character shows as what
    /// it is and cannot reorder the message around it.
    #[error("{what} '{value}' {problem}: {allowed}")]
    BadCharacter {
        what: &'static str,
        value: String,
        problem: String,
        allowed: &'static str,
    },
}

/// The characters a new reference may hold. Narrow on purpose: these ids are typed in
/// shells, sent in URL paths, shown in terminals and spreadsheets, and named in keyring
/// entries, where quotes, `%`, `*`, `..`, invisible and right-to-left characters make ids
/// that break, escape or look alike.
struct Alphabet {
    /// The message's "what is allowed".
    allowed: &'static str,
    /// Punctuation allowed besides ASCII letters and digits.
    punctuation: &'static str,
    /// Must start with a letter or digit (no `-x` that reads as a flag, no `.hidden`, no `/`).
    alphanumeric_start: bool,
}

/// Ottu's retrieve path takes `^[-\w]+$`: a session id outside it cannot be fetched.
const SESSION_ID_ALPHABET: Alphabet = Alphabet {
    allowed: "a session id is ASCII letters, digits, - and _ (Ottu's pattern [-\\w]+), at most 128 characters",
    punctuation: "-_",
    alphanumeric_start: false,
};
const ORDER_NO_ALPHABET: Alphabet = Alphabet {
    allowed: "an order number is ASCII letters, digits and - _ . : /, starting with a letter or digit, without '..', at most 128 characters",
    punctuation: "-_.:/",
    alphanumeric_start: true,
};
const PROFILE_NAME_ALPHABET: Alphabet = Alphabet {
    allowed: "a profile name is ASCII letters, digits and - _ ., starting with a letter or digit, at most 64 characters",
    punctuation: "-_.",
    alphanumeric_start: true,
};

/// How one character reads in a message: the character itself when it is plain, else
/// what it is (a blank, an invisible or control character, by code point).
fn describe(c: char) -> String {
    if c == ' ' {
        "a space".to_string()
    } else if c.is_whitespace() {
        format!("a blank (U+{:04X})", c as u32)
    } else if c.is_control() {
        format!("a control character (U+{:04X})", c as u32)
    } else if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("'{}' (U+{:04X})", c.escape_debug(), c as u32)
    }
}

fn bad(what: &'static str, value: &str, problem: String, allowed: &'static str) -> ReferenceError {
    ReferenceError::BadCharacter {
        what,
        value: value.escape_debug().to_string(),
        problem,
        allowed,
    }
}

fn check_length(what: &'static str, value: &str, max: usize) -> Result<(), ReferenceError> {
    let len = value.chars().count();
    if len == 0 {
        return Err(ReferenceError::Empty { what });
    }
    if len > max {
        return Err(ReferenceError::TooLong { what, len, max });
    }
    Ok(())
}

/// The rule every stored or looked-up reference meets: what older versions accepted (no
/// blank, no control character). Reading a ledger never fails on an id it already holds,
/// and a lookup can still name one.
fn check_reference(
    what: &'static str,
    value: &str,
    max: usize,
    alphabet: &Alphabet,
) -> Result<(), ReferenceError> {
    scan(what, value, max, alphabet, |c| {
        !c.is_whitespace() && !c.is_control()
    })
}

/// The length, then every character: the first one `allowed` refuses is named with its
/// position, and the error says what `alphabet` allows.
fn scan(
    what: &'static str,
    value: &str,
    max: usize,
    alphabet: &Alphabet,
    allowed: impl Fn(char) -> bool,
) -> Result<(), ReferenceError> {
    check_length(what, value, max)?;
    match value.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        Some((at, c)) => {
            let problem = format!("has {} at position {}", describe(c), at + 1);
            Err(bad(what, value, problem, alphabet.allowed))
        }
        None => Ok(()),
    }
}

/// The rule for a reference the merchant enters for something new: the documented alphabet.
fn check_new_reference(
    what: &'static str,
    value: &str,
    max: usize,
    alphabet: &Alphabet,
) -> Result<(), ReferenceError> {
    scan(what, value, max, alphabet, |c| {
        c.is_ascii_alphanumeric() || alphabet.punctuation.contains(c)
    })?;
    if alphabet.alphanumeric_start
        && let Some(first) = value.chars().next()
        && !first.is_ascii_alphanumeric()
    {
        let problem = format!("starts with {}", describe(first));
        return Err(bad(what, value, problem, alphabet.allowed));
    }
    if alphabet.punctuation.contains('.') && value.contains("..") {
        return Err(bad(what, value, "has '..'".to_string(), alphabet.allowed));
    }
    Ok(())
}

macro_rules! reference_newtype {
    ($(#[$meta:meta])* $name:ident, $what:literal, $max:expr, $alphabet:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A reference as stored, looked up or answered by Ottu: refuses only what no
            /// version ever accepted (empty, too long, blanks, control characters), so
            /// older ledgers stay readable. New ones go through `parse_new`.
            pub fn parse(value: &str) -> Result<$name, ReferenceError> {
                check_reference($what, value, $max, &$alphabet)?;
                Ok($name(value.to_string()))
            }

            /// A reference the merchant enters for a new row: the documented alphabet.
            pub fn parse_new(value: &str) -> Result<$name, ReferenceError> {
                check_new_reference($what, value, $max, &$alphabet)?;
                Ok($name(value.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

reference_newtype!(
    /// Ottu's `session_id` of a payment: unique within a profile.
    SessionId,
    "session id",
    MAX_REFERENCE_CHARS,
    SESSION_ID_ALPHABET
);
reference_newtype!(
    /// The merchant's `order_no` of a payment.
    OrderNo,
    "order number",
    MAX_REFERENCE_CHARS,
    ORDER_NO_ALPHABET
);
reference_newtype!(
    /// The name a merchant gives one Ottu account.
    ProfileName,
    "profile name",
    MAX_PROFILE_NAME_CHARS,
    PROFILE_NAME_ALPHABET
);

/// One merchant account. Never holds a credential: keys live only in the OS keyring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    #[serde(skip)]
    pub id: ProfileId,
    pub name: ProfileName,
    pub base_url: String,
    pub currency: Currency,
    pub created_at_ms: i64,
}

/// One Ottu payment transaction as the ledger knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub profile: ProfileName,
    pub session_id: SessionId,
    pub order_no: Option<OrderNo>,
    pub amount: Amount,
    pub state: PaymentState,
    /// Set by a succeeded Ottu `delete`: hidden from reports, history kept.
    pub hidden: bool,
    pub source: PaymentSource,
    pub created_at_ms: i64,
    /// The customer's email and phone as Ottu (or `payment add`) gave them; searchable.
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
}

/// A payment before it has a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayment {
    pub session_id: SessionId,
    pub order_no: Option<OrderNo>,
    pub amount: Amount,
    pub state: PaymentState,
    pub source: PaymentSource,
    pub created_at_ms: i64,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
}

/// One operation the merchant asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub id: OperationId,
    pub payment_id: PaymentId,
    pub kind: OperationKind,
    /// What is sent as `amount`; `None` means the full or remaining amount.
    pub requested: Option<Amount>,
    /// What the ledger holds back for it while it is not final (zero for cancel, expire,
    /// delete): the requested amount, or what remained when it was queued.
    pub reserved: Amount,
    pub tracking_key: TrackingKey,
    pub status: OperationStatus,
    pub attempts: u32,
    pub reason: Option<String>,
    pub requested_by: String,
    /// The last error's English, built from `last_error_stored` when it has a code.
    pub last_error: Option<String>,
    /// The last error's code and params (`None` for one stored before codes were).
    pub last_error_stored: Option<crate::error::stored::StoredCode>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The request may have reached Ottu at least once: it can no longer be dropped.
    pub sent: bool,
    /// When the sync worker may try it next (after a retryable failure or a busy
    /// answer); `None` = as soon as it is its turn, or never again once finished.
    pub next_attempt_at_ms: Option<i64>,
}

/// A transaction Ottu created for a succeeded external operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Child {
    pub payment_id: PaymentId,
    pub operation_id: Option<OperationId>,
    pub kind: OperationKind,
    pub session_id: SessionId,
    pub amount: Amount,
    pub state: ChildState,
    pub created_at_ms: i64,
}

/// One entry of the append-only audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_words_list_what_is_allowed() {
        for state in PaymentState::ALL {
            assert_eq!(state.as_str().parse::<PaymentState>().unwrap(), *state);
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        for status in OperationStatus::ALL {
            assert_eq!(status.as_str().parse::<OperationStatus>().unwrap(), *status);
        }
        // Padding applies to the word, as it did when views carried strings.
        assert_eq!(format!("[{:<8}]", OperationStatus::Queued), "[queued  ]");
        let err = "refnd".parse::<OperationKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown operation 'refnd': allowed are refund, capture, void, cancel, expire, delete"
        );
    }

    #[test]
    fn references_are_checked() {
        assert!(SessionId::parse("abc-123").is_ok());
        assert_eq!(
            SessionId::parse("").unwrap_err(),
            ReferenceError::Empty { what: "session id" }
        );
        let long = "x".repeat(129);
        assert!(matches!(
            OrderNo::parse(&long),
            Err(ReferenceError::TooLong {
                len: 129,
                max: 128,
                ..
            })
        ));
        assert!(OrderNo::parse(&"x".repeat(128)).is_ok());
        assert!(matches!(
            SessionId::parse("a b"),
            Err(ReferenceError::BadCharacter { .. })
        ));
    }

    #[test]
    fn new_references_keep_to_their_alphabet_and_stored_ones_stay_readable() {
        for good in ["abc-123", "A_b-C", "0a1b2c3d4e5f", "-x", "_"] {
            assert!(SessionId::parse_new(good).is_ok(), "{good}");
        }
        for good in ["INV-2025/11:0042.a", "o1", "9"] {
            assert!(OrderNo::parse_new(good).is_ok(), "{good}");
        }
        for good in ["souq", "shop.kw-2_b", "A"] {
            assert!(ProfileName::parse_new(good).is_ok(), "{good}");
        }
        let bad = |result: Result<(), ReferenceError>| match result {
            Err(ReferenceError::BadCharacter { value, problem, .. }) => (value, problem),
            other => panic!("expected a bad character, got {other:?}"),
        };
        for (value, problem) in [
            ("a.b", "has '.' at position 2"),
            ("50%", "has '%' at position 3"),
            ("a\u{200b}b", "has '\\u{200b}' (U+200B) at position 2"),
            ("a b", "has a space at position 2"),
        ] {
            let (shown, said) = bad(SessionId::parse_new(value).map(drop));
            assert_eq!(said, problem, "{value}");
            assert_eq!(shown, value.escape_debug().to_string());
        }
        assert_eq!(
            bad(OrderNo::parse_new("../../etc/passwd").map(drop)).1,
            "starts with '.'"
        );
        assert_eq!(bad(OrderNo::parse_new("a..b").map(drop)).1, "has '..'");
        assert_eq!(
            bad(ProfileName::parse_new("a/basic/u").map(drop)).1,
            "has '/' at position 2"
        );
        let error = SessionId::parse_new("a*").unwrap_err().to_string();
        assert_eq!(
            error,
            "session id 'a*' has '*' at position 2: a session id is ASCII letters, digits, - and _ (Ottu's pattern [-\\w]+), at most 128 characters"
        );
        // What older versions stored still parses: reading a ledger never fails on it.
        for old in ["a.b", "o'1%", "a}b", "a/basic/u", "a\u{200b}b"] {
            assert!(SessionId::parse(old).is_ok(), "{old}");
            assert!(ProfileName::parse(old).is_ok(), "{old}");
        }
    }

    #[test]
    fn reservations_follow_the_status() {
        use OperationStatus::*;
        let reserving: Vec<_> = OperationStatus::ALL
            .iter()
            .filter(|s| s.reserves_balance())
            .collect();
        assert_eq!(reserving, [&Queued, &InFlight, &NeedsAttention, &Blocked]);
        let droppable: Vec<_> = OperationStatus::ALL
            .iter()
            .filter(|s| s.is_droppable())
            .collect();
        assert_eq!(droppable, [&Queued, &Blocked]);
    }
}
