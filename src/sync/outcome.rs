//! What sending one operation came to, in the worker's terms. The transport maps Ottu's
//! HTTP answers (or their absence) into exactly one of these.

/// The child transaction Ottu reported for a succeeded external operation, as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildReport {
    pub session_id: String,
    pub amount: Option<String>,
    pub state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Ottu applied it (or had applied it: a replayed Tracking-Key).
    Succeeded {
        detail: String,
        reference_number: Option<String>,
        child: Option<ChildReport>,
        raw: String,
    },
    /// A final refusal (`result: failed`, or a 400 with a reason).
    Refused { reason: String, raw: String },
    /// 401/403, or no credential stored: the profile's queue pauses; `reason` names the
    /// missing permission or credential.
    Auth { reason: String },
    /// Try again later. `offline`: Ottu was not reached at all (nothing was sent), so the
    /// attempt does not count. `throttled`: Ottu declined to process it (429), likewise.
    /// Otherwise the outcome is unknown (5xx, timeout, dropped connection).
    RetryLater {
        reason: String,
        retry_after_ms: Option<u64>,
        offline: bool,
        throttled: bool,
    },
    /// An answer we cannot read: treated like a timeout, with the raw reply kept.
    Unknown { reason: String, raw: String },
}
