//! The merchant's "Test connection": one read at Ottu with the profile's stored
//! credential, proving both that Ottu answers at the base URL and that it accepts the
//! credential, without changing anything there.
//!
//! The request is the retrieve of a session id that no payment can have
//! ([`CONNECTION_CHECK_SESSION_ID`]): Ottu checks the credential before it looks the id up,
//! so a wrong key is its 401/403, and a key it accepts meets its JSON 404 ("no such
//! payment"), which is the success here. A read changes nothing, is not throttled like
//! the inquiry, and needs no permission of a Basic-auth user.
//!
//! Split in two so the desktop app's `Mutex<Ledger>` is never held across the network:
//! [`Ledger::connection_check`] reads the profile and its credential (ledger and keyring,
//! synchronous, quick) into a [`ConnectionCheckJob`]; the job then runs without the ledger.

use std::sync::Arc;

use serde::Serialize;
use tokio::runtime::Handle;
use ts_rs::TS;

use super::Ledger;
use crate::connect::{ProfileCredential, credential_or_store_error};
use crate::error::{Error, ErrorView, Result};
use crate::model::SessionId;
use crate::ottu::{ClientConfig, FetchError};
use crate::sources::{Clock, format_ms};

/// The session id the check retrieves. Ottu's session ids are 40 hexadecimal digits; this
/// one has letters no hex digit is, so no payment has it, and it names its purpose in
/// Ottu's access logs.
pub const CONNECTION_CHECK_SESSION_ID: &str = "daftar-connection-check";

/// What a connection check found. `error` is why it failed (`ottu.auth`: the credential
/// was refused; `ottu.offline`: nothing answered; `ottu.not_ottu`: whatever answered is
/// not Ottu's API; `ottu.unavailable`, `ottu.throttled`, `ottu.refused`, `ottu.base_url`),
/// `null` when `ok`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ConnectionCheck {
    pub ok: bool,
    pub error: Option<ErrorView>,
    /// When the answer came (RFC 3339, the ledger's clock).
    pub checked_at: String,
}

/// A connection check, ready to run without the ledger. Made by
/// [`Ledger::connection_check`]; [`ConnectionCheckJob::run_async`] or
/// [`ConnectionCheckJob::run`].
pub struct ConnectionCheckJob {
    credential: ProfileCredential,
    client_config: ClientConfig,
    clock: Arc<dyn Clock>,
}

impl Ledger {
    /// Reads the profile and its credential (from the keyring) for a connection check;
    /// nothing is sent until the job runs. An unknown profile is `not_found` (field
    /// `profile`); no credential stored (or a Basic user missing) is `ottu.credential`; a
    /// keyring that cannot be reached is `secrets.unavailable`: each an `Err` here, as for
    /// every command that needs the key.
    pub fn connection_check(&mut self, profile: &str) -> Result<ConnectionCheckJob> {
        let id = self.profile_id(profile)?;
        let credential = credential_or_store_error(self, id)??;
        Ok(ConnectionCheckJob {
            credential,
            client_config: ClientConfig::default(),
            clock: self.clock(),
        })
    }
}

impl ConnectionCheckJob {
    /// The client's timeouts (tests shorten them).
    pub fn with_client_config(mut self, config: ClientConfig) -> ConnectionCheckJob {
        self.client_config = config;
        self
    }

    /// The profile the check is for.
    pub fn profile(&self) -> &str {
        &self.credential.profile
    }

    /// Runs the check on the caller's tokio runtime (it needs its I/O and time drivers):
    /// for an async caller, such as a desktop command. Never blocks a worker. Bounded by
    /// the client's connect and request timeouts.
    pub async fn run_async(self) -> ConnectionCheck {
        let result = check(&self.credential, self.client_config).await;
        self.finish(result)
    }

    /// Runs the check's request on `runtime` and waits for it on this thread, which must
    /// not be one of `runtime`'s workers (an async caller uses
    /// [`ConnectionCheckJob::run_async`]); `runtime` must be running, with its I/O and time
    /// drivers.
    pub fn run(self, runtime: &Handle) -> ConnectionCheck {
        let (answer, answered) = std::sync::mpsc::channel();
        let credential = self.credential.clone();
        let config = self.client_config;
        runtime.spawn(async move {
            // The receiver waits below; it is gone only if this thread is.
            let _ = answer.send(check(&credential, config).await);
        });
        let result = answered.recv().unwrap_or_else(|e| {
            Err(Error::Remote {
                code: "runtime",
                message: format!("the connection check stopped unexpectedly: {e}"),
            })
        });
        self.finish(result)
    }

    fn finish(&self, result: Result<()>) -> ConnectionCheck {
        let checked_at = format_ms(self.clock.now_ms());
        match &result {
            Ok(()) => tracing::info!(profile = %self.profile(), "connection check passed"),
            Err(error) => tracing::info!(
                profile = %self.profile(),
                code = error.code(),
                "connection check failed: {error}"
            ),
        }
        ConnectionCheck {
            ok: result.is_ok(),
            error: result.err().map(|e| e.view()),
            checked_at,
        }
    }
}

/// The request, and what its answer says of the connection.
async fn check(credential: &ProfileCredential, config: ClientConfig) -> Result<()> {
    let client = credential.client(config)?;
    let id = SessionId::parse(CONNECTION_CHECK_SESSION_ID).map_err(|e| Error::Invariant {
        what: format!("the connection check's session id: {e}"),
    })?;
    match client.retrieve_payment(&id).await {
        // Ottu accepted the credential and looked the id up (a payment with it would be
        // someone's odd id, but the key was accepted all the same).
        Ok(_) | Err(FetchError::NotFound { .. }) => Ok(()),
        Err(error) => Err(fetch_error(&credential.profile, error)),
    }
}

/// A failed check as the error the other commands that talk to Ottu use.
fn fetch_error(profile: &str, error: FetchError) -> Error {
    let code = match &error {
        FetchError::Auth { .. } => "ottu.auth",
        FetchError::Offline { .. } => "ottu.offline",
        FetchError::Unavailable { .. } => "ottu.unavailable",
        FetchError::Throttled { .. } => "ottu.throttled",
        // A 2xx that is not a payment (a web page, a catch-all) is not Ottu's API either.
        FetchError::NotOttu { .. } | FetchError::BadBody { .. } => "ottu.not_ottu",
        // (`check` takes a not-found as the success it is; listed for exhaustiveness.)
        FetchError::Refused { .. } | FetchError::Request(_) | FetchError::NotFound { .. } => {
            "ottu.refused"
        }
    };
    let status = match &error {
        FetchError::Auth { status, .. }
        | FetchError::Refused { status, .. }
        | FetchError::NotOttu { status, .. } => Some(*status),
        _ => None,
    };
    Error::Remote {
        code,
        message: format!("profile {profile}: {error}"),
    }
    .with("profile", profile)
    .with("detail", error.to_string())
    .with("status", status)
}
