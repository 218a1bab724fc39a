//! The Ottu client: the endpoints Daftar calls (`../shared/ottu/CONTRACT.md`), their
//! request and answer types, and what each answer means.
//!
//! Invariants it guards:
//! - every operation attempt carries its operation's `Tracking-Key`, and only an answer
//!   that says so is final ([`OperationOutcome::is_final`]): timeouts, dropped connections,
//!   5xx, 429 and unreadable bodies all mean "resend with the same key";
//! - the credential is read in one place ([`Credential`] → the `Authorization` header,
//!   marked sensitive), is sent only to the profile's base URL, and never appears in an
//!   error, a log or `Debug` output;
//! - requests match Ottu's published spec, which `tests/ottu_contract.rs` checks with
//!   Stoplight Prism.
//!
//! Classification is pure ([`classify_operation`] over a [`RawResponse`]), so it is tested
//! without a server; [`OttuClient`] only moves bytes.

mod auth;
mod base_url;
mod classify;
mod client;
mod wire;

pub use auth::{Credential, OttuCall};
pub use base_url::{
    BASE_URL_ALLOWED, BaseUrlError, normalize as normalize_base_url, parse_base_url,
};
pub use classify::{
    FetchError, OperationOutcome, RawResponse, TransportError, auth_message, classify_operation,
    operation_outcome, retry_after,
};
pub use client::{ClientConfig, ClientError, OttuClient, TRACKING_KEY_HEADER, origin_of};
pub use wire::{
    ChildError, ChildTxn, InquiryReply, OperationReply, OperationRequest, OperationResult,
    PaymentDetails, PaymentRef, RefundDestination, ReportFile, ReportPage, ReportQuery,
    RequestError,
};
