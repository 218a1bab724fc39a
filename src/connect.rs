//! From a profile's stored settings and its credential in the OS keyring to an Ottu
//! client: the one path every command that talks to Ottu (sync, import, refresh) takes.
//!
//! Invariant guarded here: a credential is sent only to the origin it was entered for. The
//! keyring entry is looked up under this ledger's id, the profile's id and the origin of
//! the base URL the client will send to (`secrets::CredentialOwner`); the client is then
//! checked to send to exactly that origin. A base URL changed in any way (`profile set`, or
//! an edit of the SQLite file) finds no entry, and the merchant is asked for the key again.

use thiserror::Error;

use crate::ledger::Ledger;
use crate::model::ProfileId;
use crate::ottu::{ClientConfig, ClientError, Credential, OttuClient};
use crate::secrets::{CredentialOwner, SecretSlot, SecretsError};
use crate::store;

/// Why no client could be made for a profile. Never holds a secret.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ConnectError {
    #[error(
        "profile {profile} uses Basic auth without a user: its key must be set again with the dashboard user"
    )]
    NoBasicUser { profile: String },
    #[error(
        "no credential stored for profile {profile} for {origin} (a credential is bound to this ledger, this profile and the host it was entered for, so it is asked for again after the base URL changes; keys stored under the profile name by earlier versions are not used)"
    )]
    NoCredential { profile: String, origin: String },
    /// The keyring could not be reached or read: a local condition, not the profile's.
    #[error(transparent)]
    Keyring(#[from] SecretsError),
    #[error("profile {profile}: {error}")]
    Client { profile: String, error: ClientError },
    /// The profile's row could not be read (gone, or corrupt).
    #[error("profile #{profile_id}: {message}")]
    Ledger { profile_id: i64, message: String },
}

impl ConnectError {
    /// No keyring could be reached at all: nothing is wrong with the profile.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ConnectError::Keyring(error) if error.is_unavailable())
    }

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectError::NoBasicUser { .. } | ConnectError::NoCredential { .. } => {
                "ottu.credential"
            }
            ConnectError::Keyring(error) => error.code(),
            ConnectError::Client { .. } => "ottu.base_url",
            ConnectError::Ledger { .. } => "ledger.corrupt",
        }
    }

    /// The values the message is made from (the profile, the origin; Ottu's client's own
    /// error text as `detail`).
    pub fn params(&self) -> crate::error::Params {
        use serde_json::json;
        let value = match self {
            ConnectError::NoBasicUser { profile } => {
                json!({ "profile": profile, "missing": "basic_user" })
            }
            ConnectError::NoCredential { profile, origin } => {
                json!({ "profile": profile, "origin": origin, "missing": "credential" })
            }
            ConnectError::Keyring(error) => return error.params(),
            ConnectError::Client { profile, error } => {
                json!({ "profile": profile, "detail": error.to_string() })
            }
            ConnectError::Ledger {
                profile_id,
                message,
            } => json!({ "profile_id": profile_id, "detail": message }),
        };
        crate::error::params(value)
    }
}

/// A client for the profile, or what the merchant must do first (the message names the
/// profile, never a secret; an adapter words the fix from the code and params).
pub fn client_for(
    ledger: &mut Ledger,
    config: ClientConfig,
    profile_id: ProfileId,
) -> Result<OttuClient, ConnectError> {
    client_or_store_error(ledger, config, profile_id).unwrap_or_else(|error| {
        Err(ConnectError::Ledger {
            profile_id: profile_id.0,
            message: error.to_string(),
        })
    })
}

/// As [`client_for`], with a failed read of the ledger kept apart (the outer `Err`): a
/// busy store is the store's condition, to report as such and retry, not the profile's.
pub(crate) fn client_or_store_error(
    ledger: &mut Ledger,
    config: ClientConfig,
    profile_id: ProfileId,
) -> Result<Result<OttuClient, ConnectError>, store::StoreError> {
    Ok(credential_or_store_error(ledger, profile_id)?.and_then(|c| c.client(config)))
}

/// As [`client_or_store_error`], stopping before the client is made: the profile's
/// credential as read from the keyring, for a caller that makes the client later, on
/// another thread, with timeouts it chooses then (the desktop app's connection check).
pub(crate) fn credential_or_store_error(
    ledger: &mut Ledger,
    profile_id: ProfileId,
) -> Result<Result<ProfileCredential, ConnectError>, store::StoreError> {
    let read = ledger.store().read(|tx| {
        let profile = store::profiles::by_id(tx, profile_id)?
            .ok_or_else(|| store::StoreError::corrupt("profile id", profile_id.0.to_string()))?;
        let auth = store::profiles::auth(tx, profile_id)?;
        let ids = store::profiles::ids(tx, profile_id)?;
        Ok::<_, store::StoreError>((profile, auth, ids))
    });
    let (profile, auth, ids) = read?;
    Ok(credential_from(ledger, profile, auth, ids))
}

/// A profile's credential with the origin its keyring entry is bound to. `Debug` shows
/// no secret ([`Credential`]'s own redacts it).
#[derive(Clone, Debug)]
pub(crate) struct ProfileCredential {
    pub profile: String,
    base_url: String,
    origin: String,
    credential: Credential,
}

impl ProfileCredential {
    /// A client that sends the credential to exactly the origin it was stored for.
    pub(crate) fn client(&self, config: ClientConfig) -> Result<OttuClient, ConnectError> {
        let client =
            OttuClient::new(&self.base_url, &self.credential, config).map_err(|error| {
                ConnectError::Client {
                    profile: self.profile.clone(),
                    error,
                }
            })?;
        // The entry was found under `origin`; the client must send to exactly that.
        if client.origin() != self.origin {
            return Err(ConnectError::NoCredential {
                profile: self.profile.clone(),
                origin: client.origin(),
            });
        }
        Ok(client)
    }
}

fn credential_from(
    ledger: &mut Ledger,
    profile: crate::model::Profile,
    auth: store::profiles::ProfileAuth,
    ids: store::profiles::ProfileIds,
) -> Result<ProfileCredential, ConnectError> {
    let name = profile.name.to_string();
    let client_error = |error| ConnectError::Client {
        profile: name.clone(),
        error,
    };
    let owner =
        CredentialOwner::new(&ids, &profile.name, &profile.base_url).map_err(client_error)?;
    let slot =
        SecretSlot::for_auth(&owner, auth.kind, auth.basic_user.as_deref()).ok_or_else(|| {
            ConnectError::NoBasicUser {
                profile: name.clone(),
            }
        })?;
    let credential =
        ledger
            .secrets()
            .credential(&slot)?
            .ok_or_else(|| ConnectError::NoCredential {
                profile: name.clone(),
                origin: owner.origin.clone(),
            })?;
    Ok(ProfileCredential {
        profile: name,
        base_url: profile.base_url,
        origin: owner.origin,
        credential,
    })
}

/// How commands reach Ottu: the async runtime HTTP runs on, and the client's timeouts.
#[derive(Clone, Debug)]
pub struct Remote {
    pub runtime: tokio::runtime::Handle,
    pub client_config: ClientConfig,
}
