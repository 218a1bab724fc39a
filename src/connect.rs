//! From a profile's stored settings and its credential in the OS keyring to an Ottu
//! client: the one path every command that talks to Ottu (sync, import, refresh) takes.

use crate::model::{AuthKind, ProfileName};
use crate::ottu::{ClientConfig, OttuClient};
use crate::secrets::{SecretSlot, SecretStore};

/// What a profile row says about reaching Ottu.
#[derive(Clone, Debug)]
pub struct ProfileTarget<'a> {
    pub profile: &'a ProfileName,
    pub base_url: &'a str,
    pub auth_kind: AuthKind,
    pub basic_user: Option<&'a str>,
}

/// A client for the profile, or what the merchant must do first (the message names the
/// profile and the command that fixes it, never a secret).
pub fn client_for(
    secrets: &dyn SecretStore,
    config: ClientConfig,
    target: &ProfileTarget<'_>,
) -> Result<OttuClient, String> {
    let profile = target.profile;
    let slot = SecretSlot::for_auth(profile, target.auth_kind, target.basic_user).ok_or_else(|| {
        format!(
            "profile {profile} uses Basic auth without a user: set one with `daftar profile set-key {profile} --basic-user USER`"
        )
    })?;
    let credential = secrets
        .credential(&slot)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!("no credential stored for profile {profile}: store {slot} with `daftar profile set-key {profile}`")
        })?;
    OttuClient::new(target.base_url, &credential, config)
        .map_err(|e| format!("profile {profile}: {e}"))
}

/// How commands reach Ottu: the async runtime HTTP runs on, and the client's timeouts.
#[derive(Clone, Debug)]
pub struct Remote {
    pub runtime: tokio::runtime::Handle,
    pub client_config: ClientConfig,
}
