//! What sending one operation came to, in the worker's terms. The transport maps Ottu's
//! HTTP answers (or their absence) into exactly one of these.

/// The child transaction Ottu reported for a succeeded external operation, as sent.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ChildReport {
    pub session_id: String,
    pub amount: Option<String>,
    pub state: Option<String>,
    /// `currency_code`: must be the payment's.
    pub currency: Option<String>,
}

/// What a success says it did, checked against what was sent before it is recorded: a
/// success for another payment, operation or amount is not this operation's success.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReplyFacts {
    pub operation: Option<String>,
    pub session_id: Option<String>,
    pub order_no: Option<String>,
    pub amount: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Ottu applied it (or had applied it: a replayed Tracking-Key).
    Succeeded {
        detail: String,
        reference_number: Option<String>,
        facts: ReplyFacts,
        child: Option<ChildReport>,
        raw: String,
    },
    /// A final refusal (`result: failed`, or a 400 with a reason).
    Refused { reason: String, raw: String },
    /// 401/403: the profile's queue pauses. Stored as code `ottu.auth` with these as its
    /// params; `permission` is the one Ottu named as missing, if any.
    Auth {
        status: u16,
        detail: String,
        permission: Option<String>,
    },
    /// Try again later. `offline`: Ottu was not reached at all (nothing was sent), so the
    /// attempt does not count. `throttled`: Ottu declined to process it (429), likewise.
    /// Otherwise the outcome is unknown (5xx, timeout, dropped connection).
    /// `raw`: the answer's body, bounded (empty without one), kept with the operation.
    RetryLater {
        reason: String,
        retry_after_ms: Option<u64>,
        offline: bool,
        throttled: bool,
        raw: String,
    },
    /// An answer we cannot read: treated like a timeout, with the raw reply kept.
    Unknown { reason: String, raw: String },
    /// Not Ottu's answer (a redirect, an HTML/text 404, a proxy's page): nothing was
    /// applied. The operation goes back to the queue with its attempt given back, and the
    /// profile is held for the rest of the run; nothing is stored about the profile.
    NotOttu { reason: String, raw: String },
    /// No request could be made for this profile: nothing was sent. Like `NotOttu`, it
    /// holds the profile for this run only. The worker checks each profile's client before
    /// claiming its work (no credential, a refused base URL hold it with nothing written),
    /// so this is only a safety net for a claim made without one.
    CannotSend { reason: String },
    /// The ledger could not be read to make the request (e.g. busy): nothing was sent.
    /// The operation goes back to the queue, due at once, its attempt given back; the
    /// profile is not held (the store's condition, not the profile's).
    LedgerUnreadable { reason: String },
}
