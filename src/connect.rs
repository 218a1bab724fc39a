//! From a profile's stored settings and its credential in the OS keyring to an Ottu
//! client: the one path every command that talks to Ottu (sync, import, refresh) takes.

use crate::model::{AuthKind, ProfileName};
use crate::ottu::{ClientConfig, OttuClient};
use crate::secrets::{SecretSlot, SecretStore, SecretsError};

/// What a profile row says about reaching Ottu.
#[derive(Clone, Debug)]
pub struct ProfileTarget<'a> {
    pub profile: &'a ProfileName,
    pub base_url: &'a str,
    pub auth_kind: AuthKind,
    pub basic_user: Option<&'a str>,
}

/// Why no client could be made for a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// The OS keyring could not be read: a condition of this machine (no session bus, from
    /// cron; locked), not a fact about the profile. Nothing may be stored about the profile.
    Keyring(SecretsError),
    /// What the merchant must do for this profile first (no credential stored, a base URL
    /// the client refuses); names the profile and the command that fixes it, never a secret.
    Profile(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Keyring(e) => e.fmt(f),
            ConnectError::Profile(message) => f.write_str(message),
        }
    }
}

/// A client for the profile, or what the merchant must do first (the message names the
/// profile and the command that fixes it, never a secret).
pub fn client_for(
    secrets: &dyn SecretStore,
    config: ClientConfig,
    target: &ProfileTarget<'_>,
) -> Result<OttuClient, String> {
    connect(secrets, config, target).map_err(|e| e.to_string())
}

/// [`client_for`] with the keyring's failure kept apart from the profile's.
pub fn connect(
    secrets: &dyn SecretStore,
    config: ClientConfig,
    target: &ProfileTarget<'_>,
) -> Result<OttuClient, ConnectError> {
    let profile = target.profile;
    let slot = SecretSlot::for_auth(profile, target.auth_kind, target.basic_user).ok_or_else(|| {
        ConnectError::Profile(format!(
            "profile {profile} uses Basic auth without a user: set one with `daftar profile set-key {profile} --basic-user USER`"
        ))
    })?;
    let credential = secrets
        .credential(&slot)
        .map_err(ConnectError::Keyring)?
        .ok_or_else(|| {
            ConnectError::Profile(format!("no credential stored for profile {profile}: store {slot} with `daftar profile set-key {profile}`"))
        })?;
    OttuClient::new(target.base_url, &credential, config)
        .map_err(|e| ConnectError::Profile(format!("profile {profile}: {e}")))
}

/// How commands reach Ottu: the async runtime HTTP runs on, and the client's timeouts.
#[derive(Clone, Debug)]
pub struct Remote {
    pub runtime: tokio::runtime::Handle,
    pub client_config: ClientConfig,
}
