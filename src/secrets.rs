//! Credentials in the OS keyring: the only module that touches it (Secret Service on
//! Linux, Keychain on macOS, Credential Manager on Windows).
//!
//! Invariant guarded here: a secret only ever travels inside a [`SecretString`], whose
//! `Debug` prints a placeholder and which has no `Display` or `Serialize`; reading it takes
//! an explicit, greppable `expose_secret()`. No error of this module carries a secret: the
//! keyring's own error that could (`BadEncoding` holds the stored bytes) is dropped, and
//! every platform message is scrubbed of the secret being written before it is kept.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// The Ottu client's credential type (it builds the `Authorization` header from it); what
/// it takes to keep one in the keyring is added below.
pub use crate::ottu::Credential;
pub use secrecy::{ExposeSecret, SecretString, zeroize};
use thiserror::Error;

use crate::model::{AuthKind, ProfileName};
use crate::store::profiles::ProfileIds;

/// The keyring service every Daftar entry is filed under.
pub const KEYRING_SERVICE: &str = "daftar";

impl Credential {
    /// How the profile authenticates with this credential, as the ledger records it.
    pub fn auth_kind(&self) -> AuthKind {
        match self {
            Credential::ApiKey(_) => AuthKind::ApiKey,
            Credential::Basic { .. } => AuthKind::Basic,
        }
    }

    /// The dashboard user of a Basic credential: a name, not a secret.
    pub fn basic_user(&self) -> Option<&str> {
        match self {
            Credential::ApiKey(_) => None,
            Credential::Basic { user, .. } => Some(user),
        }
    }

    /// What goes into the keyring: the API key, or the Basic password.
    pub fn secret(&self) -> &SecretString {
        match self {
            Credential::ApiKey(key) => key,
            Credential::Basic { password, .. } => password,
        }
    }

    /// The keyring entry this credential is kept in for `owner`.
    pub fn slot(&self, owner: &CredentialOwner) -> SecretSlot {
        match self {
            Credential::ApiKey(_) => SecretSlot::ApiKey {
                owner: owner.clone(),
            },
            Credential::Basic { user, .. } => SecretSlot::BasicPassword {
                owner: owner.clone(),
                user: user.clone(),
            },
        }
    }
}

/// Whom a stored credential belongs to: this ledger and this profile, by the ids made when
/// each was created (never by name: two ledgers may both have a profile `souq`), and the
/// origin (`scheme://host:port`) it was entered for. All three are in the keyring account
/// name, which only the user's keyring session can write: editing `profiles.base_url` in
/// SQLite, or another ledger naming a profile the same way, finds no entry, so a key is
/// never sent to a host it was not entered for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CredentialOwner {
    /// 32 lowercase hex digits (`ledger_identity.uid`).
    pub ledger_uid: String,
    /// 32 lowercase hex digits (`profiles.uid`).
    pub profile_uid: String,
    /// For messages only; not part of the account name.
    pub profile: ProfileName,
    /// The normalised origin of the profile's base URL, e.g. `https://souq.ottu.net:443`.
    pub origin: String,
}

impl CredentialOwner {
    /// The owner for a profile with these ids and base URL; the base URL must be one the
    /// Ottu client accepts (its origin is what the key is bound to).
    pub fn new(
        ids: &ProfileIds,
        profile: &ProfileName,
        base_url: &str,
    ) -> Result<CredentialOwner, crate::ottu::ClientError> {
        Ok(CredentialOwner {
            ledger_uid: ids.ledger_uid.clone(),
            profile_uid: ids.profile_uid.clone(),
            profile: profile.clone(),
            origin: crate::ottu::origin_of(base_url)?,
        })
    }
}

/// One keyring entry: a profile's API key, or the password of one Basic user of a
/// profile, for one origin. Names and ids only, never a secret, so it may appear in messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretSlot {
    ApiKey {
        owner: CredentialOwner,
    },
    BasicPassword {
        owner: CredentialOwner,
        user: String,
    },
}

impl SecretSlot {
    /// The slot a profile's recorded auth settings point at; `None` for Basic without a
    /// user (nothing can be stored for it).
    pub fn for_auth(
        owner: &CredentialOwner,
        kind: AuthKind,
        basic_user: Option<&str>,
    ) -> Option<SecretSlot> {
        match (kind, basic_user) {
            (AuthKind::ApiKey, _) => Some(SecretSlot::ApiKey {
                owner: owner.clone(),
            }),
            (AuthKind::Basic, Some(user)) => Some(SecretSlot::BasicPassword {
                owner: owner.clone(),
                user: user.to_string(),
            }),
            (AuthKind::Basic, None) => None,
        }
    }

    pub fn owner(&self) -> &CredentialOwner {
        match self {
            SecretSlot::ApiKey { owner } | SecretSlot::BasicPassword { owner, .. } => owner,
        }
    }

    /// The keyring account name under [`KEYRING_SERVICE`]:
    /// `ledger/<uid>/profile/<uid>/host/<origin>/api-key` or `.../basic/<user>`, the user
    /// percent-encoded. Unambiguous: the ids are fixed-length hex, the origin has no `/`
    /// after its `://`, and the encoded user has no `/` at all, so no two slots share a name
    /// (the old `profile/<name>/basic/<user>` form let `a/basic/u`'s API key and user
    /// `u/api-key` of `a` collide).
    pub fn account(&self) -> String {
        let owner = self.owner();
        let base = format!(
            "ledger/{}/profile/{}/host/{}",
            owner.ledger_uid, owner.profile_uid, owner.origin
        );
        match self {
            SecretSlot::ApiKey { .. } => format!("{base}/api-key"),
            SecretSlot::BasicPassword { user, .. } => {
                format!("{base}/basic/{}", percent_encode(user))
            }
        }
    }

    /// Rebuilds the credential from the secret read out of this slot.
    pub fn credential(&self, secret: SecretString) -> Credential {
        match self {
            SecretSlot::ApiKey { .. } => Credential::ApiKey(secret),
            SecretSlot::BasicPassword { user, .. } => Credential::Basic {
                user: user.clone(),
                password: secret,
            },
        }
    }
}

/// Every byte but ASCII letters, digits and `-._~` as `%XX`: reversible, and never a `/`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl fmt::Display for SecretSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSlot::ApiKey { owner } => write!(
                f,
                "the API key of profile {} for {}",
                owner.profile, owner.origin
            ),
            SecretSlot::BasicPassword { owner, user } => write!(
                f,
                "the password of Basic user {user} in profile {} for {}",
                owner.profile, owner.origin
            ),
        }
    }
}

/// What to do when no keyring can be reached, in the platform's words.
#[cfg(target_os = "linux")]
const NO_KEYRING_FIX: &str = "install and start gnome-keyring (Debian: apt install gnome-keyring dbus-user-session, then log in again), or run Daftar inside `dbus-run-session` after `gnome-keyring-daemon --unlock --components=secrets`";
#[cfg(target_os = "linux")]
const UNLOCK_FIX: &str = "unlock it (log in to the desktop session, or pipe the keyring password to `gnome-keyring-daemon --unlock --replace`) and try again";
#[cfg(target_os = "macos")]
const NO_KEYRING_FIX: &str = "run Daftar in a logged-in macOS user session";
#[cfg(target_os = "macos")]
const UNLOCK_FIX: &str =
    "unlock the login keychain (Keychain Access, or `security unlock-keychain`) and try again";
#[cfg(target_os = "windows")]
const NO_KEYRING_FIX: &str =
    "run Daftar as a logged-in Windows user (Credential Manager needs a user profile)";
#[cfg(target_os = "windows")]
const UNLOCK_FIX: &str =
    "check that Windows Credential Manager is enabled for this user and try again";
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const NO_KEYRING_FIX: &str = "this platform has no supported keyring";
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const UNLOCK_FIX: &str = "this platform has no supported keyring";

/// Why a secret could not be stored, read or deleted. Never holds a secret.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SecretsError {
    /// No D-Bus session bus, so nothing can reach a Secret Service.
    #[error(
        "cannot reach the OS keyring: no D-Bus session bus ({detail}); {}",
        NO_KEYRING_FIX
    )]
    NoSessionBus { detail: String },
    /// A session bus, but nothing on it provides `org.freedesktop.secrets`.
    #[error(
        "cannot reach the OS keyring: no Secret Service on the session bus ({detail}); {}",
        NO_KEYRING_FIX
    )]
    NoSecretService { detail: String },
    /// The keyring is there but locked, and unlocking it was refused or impossible.
    #[error("the OS keyring is locked ({detail}): {}", UNLOCK_FIX)]
    Locked { detail: String },
    #[error(
        "the OS keyring holds {count} entries for {slot}: remove them with your keyring tool (service '{KEYRING_SERVICE}', account '{account}') and set the key again"
    )]
    Ambiguous {
        slot: String,
        account: String,
        count: usize,
    },
    #[error("the OS keyring entry for {slot} is not text: set the key again")]
    NotText { slot: String },
    #[error("the OS keyring refused the entry for {slot}: {detail}")]
    Rejected { slot: String, detail: String },
    #[error("the OS keyring failed to {action} {slot}: {detail}")]
    Failed {
        action: &'static str,
        slot: String,
        detail: String,
    },
}

impl SecretsError {
    /// No keyring could be reached or opened at all (as opposed to a failure with one entry).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            SecretsError::NoSessionBus { .. }
                | SecretsError::NoSecretService { .. }
                | SecretsError::Locked { .. }
        )
    }

    /// The stable machine code the facade reports.
    pub fn code(&self) -> &'static str {
        if self.is_unavailable() {
            "secrets.unavailable"
        } else {
            "secrets.failed"
        }
    }

    /// The values the message is made from: what failed (`problem`), the keyring entry
    /// (`slot`) and the keyring's own words (`detail`); never a secret.
    pub fn params(&self) -> crate::error::Params {
        use serde_json::json;
        let value = match self {
            SecretsError::NoSessionBus { detail } => {
                json!({ "problem": "no_session_bus", "detail": detail })
            }
            SecretsError::NoSecretService { detail } => {
                json!({ "problem": "no_secret_service", "detail": detail })
            }
            SecretsError::Locked { detail } => json!({ "problem": "locked", "detail": detail }),
            SecretsError::Ambiguous {
                slot,
                account,
                count,
            } => json!({
                "problem": "ambiguous", "slot": slot, "account": account, "count": count,
                "service": KEYRING_SERVICE,
            }),
            SecretsError::NotText { slot } => json!({ "problem": "not_text", "slot": slot }),
            SecretsError::Rejected { slot, detail } => {
                json!({ "problem": "rejected", "slot": slot, "detail": detail })
            }
            SecretsError::Failed {
                action,
                slot,
                detail,
            } => json!({ "problem": "failed", "action": action, "slot": slot, "detail": detail }),
        };
        crate::error::params(value)
    }
}

/// Where secrets are kept. [`KeyringStore`] is the real one; [`MemoryStore`] is for tests.
pub trait SecretStore: Send + Sync {
    /// Stores `secret` in `slot`, replacing what was there.
    fn set(&self, slot: &SecretSlot, secret: &SecretString) -> Result<(), SecretsError>;
    /// The secret in `slot`, or `None` when nothing is stored there.
    fn get(&self, slot: &SecretSlot) -> Result<Option<SecretString>, SecretsError>;
    /// Removes `slot`; `false` when nothing was stored there.
    fn delete(&self, slot: &SecretSlot) -> Result<bool, SecretsError>;

    /// Stores a credential for `owner` in the slot it belongs to.
    fn set_credential(
        &self,
        owner: &CredentialOwner,
        credential: &Credential,
    ) -> Result<(), SecretsError> {
        self.set(&credential.slot(owner), credential.secret())
    }

    /// The credential stored in `slot`, if any.
    fn credential(&self, slot: &SecretSlot) -> Result<Option<Credential>, SecretsError> {
        Ok(self.get(slot)?.map(|secret| slot.credential(secret)))
    }
}

/// The OS keyring. Creating one touches nothing: the keyring is reached on each call, so
/// a machine without one runs every command that does not need a key.
#[derive(Clone, Debug)]
pub struct KeyringStore {
    service: String,
}

impl Default for KeyringStore {
    fn default() -> Self {
        KeyringStore::new()
    }
}

impl KeyringStore {
    pub fn new() -> KeyringStore {
        KeyringStore {
            service: KEYRING_SERVICE.to_string(),
        }
    }

    /// Entries under another service name: lets a test keep its entries apart.
    pub fn with_service(service: &str) -> KeyringStore {
        KeyringStore {
            service: service.to_string(),
        }
    }

    fn entry(
        &self,
        slot: &SecretSlot,
        action: &'static str,
    ) -> Result<keyring::Entry, SecretsError> {
        keyring::Entry::new(&self.service, &slot.account())
            .map_err(|e| from_keyring(e, action, slot, None))
    }
}

impl SecretStore for KeyringStore {
    fn set(&self, slot: &SecretSlot, secret: &SecretString) -> Result<(), SecretsError> {
        let entry = self.entry(slot, "store")?;
        entry
            .set_password(secret.expose_secret())
            .map_err(|e| from_keyring(e, "store", slot, Some(secret)))
    }

    fn get(&self, slot: &SecretSlot) -> Result<Option<SecretString>, SecretsError> {
        let entry = self.entry(slot, "read")?;
        match entry.get_password() {
            Ok(secret) => Ok(Some(SecretString::from(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(from_keyring(e, "read", slot, None)),
        }
    }

    fn delete(&self, slot: &SecretSlot) -> Result<bool, SecretsError> {
        let entry = self.entry(slot, "delete")?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(from_keyring(e, "delete", slot, None)),
        }
    }
}

/// Turns keyring's error into ours, naming what is missing when no keyring is reachable.
/// `written` is the secret being stored, scrubbed from any message that echoes it.
fn from_keyring(
    error: keyring::Error,
    action: &'static str,
    slot: &SecretSlot,
    written: Option<&SecretString>,
) -> SecretsError {
    let scrub = |text: String| match written {
        Some(secret)
            if !secret.expose_secret().is_empty() && text.contains(secret.expose_secret()) =>
        {
            text.replace(secret.expose_secret(), "[redacted]")
        }
        _ => text,
    };
    match error {
        keyring::Error::PlatformFailure(cause) => {
            let detail = scrub(cause.to_string());
            unavailable(cause.as_ref(), detail.clone()).unwrap_or(SecretsError::Failed {
                action,
                slot: slot.to_string(),
                detail,
            })
        }
        keyring::Error::NoStorageAccess(cause) => {
            let detail = scrub(cause.to_string());
            unavailable(cause.as_ref(), detail.clone()).unwrap_or(SecretsError::Locked { detail })
        }
        // Only `get` and `delete` can meet it, and both handle it; kept total anyway.
        keyring::Error::NoEntry => SecretsError::Failed {
            action,
            slot: slot.to_string(),
            detail: "no such entry".to_string(),
        },
        // The bytes it carries are the stored secret: drop them here.
        keyring::Error::BadEncoding(_) => SecretsError::NotText {
            slot: slot.to_string(),
        },
        keyring::Error::TooLong(attribute, limit) => SecretsError::Rejected {
            slot: slot.to_string(),
            detail: format!("its {attribute} is longer than the platform's {limit} characters"),
        },
        keyring::Error::Invalid(attribute, reason) => SecretsError::Rejected {
            slot: slot.to_string(),
            detail: scrub(format!("{attribute} is invalid: {reason}")),
        },
        keyring::Error::Ambiguous(found) => SecretsError::Ambiguous {
            slot: slot.to_string(),
            account: slot.account(),
            count: found.len(),
        },
        other => SecretsError::Failed {
            action,
            slot: slot.to_string(),
            detail: scrub(other.to_string()),
        },
    }
}

/// Recognises the Secret Service failures that mean "no keyring here" from the D-Bus
/// error names that keyring boxes up.
#[cfg(target_os = "linux")]
fn unavailable(
    cause: &(dyn std::error::Error + Send + Sync + 'static),
    detail: String,
) -> Option<SecretsError> {
    use dbus_secret_service::Error as SsError;
    match cause.downcast_ref::<SsError>()? {
        SsError::Unavailable => Some(SecretsError::NoSecretService { detail }),
        SsError::Locked | SsError::Prompt | SsError::NoResult => {
            Some(SecretsError::Locked { detail })
        }
        SsError::Dbus(e) => match e.name()? {
            "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner" => {
                Some(SecretsError::NoSecretService { detail })
            }
            "org.freedesktop.DBus.Error.NotSupported"
            | "org.freedesktop.DBus.Error.NoServer"
            | "org.freedesktop.DBus.Error.FileNotFound"
            | "org.freedesktop.DBus.Error.BadAddress"
            | "org.freedesktop.DBus.Error.Disconnected"
            | "org.freedesktop.DBus.Error.Spawn.ExecFailed" => {
                Some(SecretsError::NoSessionBus { detail })
            }
            "org.freedesktop.Secret.Error.IsLocked" => Some(SecretsError::Locked { detail }),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn unavailable(
    _cause: &(dyn std::error::Error + Send + Sync + 'static),
    _detail: String,
) -> Option<SecretsError> {
    None
}

/// Secrets in a map in memory, for tests: nothing reaches the OS keyring. Tests outside
/// this crate (the sync engine's, the facade's) inject it too, which is why it is not
/// `cfg(test)`. `failing` makes every call fail, to test what a missing keyring does.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, SecretString>>,
    failure: Option<SecretsError>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store whose every call returns `error`.
    pub fn failing(error: SecretsError) -> MemoryStore {
        MemoryStore {
            entries: Mutex::default(),
            failure: Some(error),
        }
    }

    /// The accounts that hold a secret, sorted.
    pub fn accounts(&self) -> Vec<String> {
        let mut accounts: Vec<String> = self.lock().keys().cloned().collect();
        accounts.sort();
        accounts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretString>> {
        // A panic elsewhere cannot leave a HashMap half-written: keep using it.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self) -> Result<(), SecretsError> {
        self.failure.clone().map_or(Ok(()), Err)
    }
}

impl SecretStore for MemoryStore {
    fn set(&self, slot: &SecretSlot, secret: &SecretString) -> Result<(), SecretsError> {
        self.check()?;
        self.lock().insert(slot.account(), secret.clone());
        Ok(())
    }

    fn get(&self, slot: &SecretSlot) -> Result<Option<SecretString>, SecretsError> {
        self.check()?;
        Ok(self.lock().get(&slot.account()).cloned())
    }

    fn delete(&self, slot: &SecretSlot) -> Result<bool, SecretsError> {
        self.check()?;
        Ok(self.lock().remove(&slot.account()).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_live_Zq8uY3distinctive";

    const LEDGER: &str = "0123456789abcdef0123456789abcdef";
    const PROFILE: &str = "fedcba9876543210fedcba9876543210";

    fn owner(name: &str, profile_uid: &str, origin: &str) -> CredentialOwner {
        CredentialOwner {
            ledger_uid: LEDGER.into(),
            profile_uid: profile_uid.into(),
            profile: ProfileName::parse(name).unwrap(),
            origin: origin.into(),
        }
    }

    fn souq() -> CredentialOwner {
        owner("souq", PROFILE, "https://souq.ottu.net:443")
    }

    #[test]
    fn accounts_name_the_ids_the_origin_and_the_basic_user() {
        let api = Credential::ApiKey(KEY.into()).slot(&souq());
        assert_eq!(
            api.account(),
            format!("ledger/{LEDGER}/profile/{PROFILE}/host/https://souq.ottu.net:443/api-key")
        );
        let basic = Credential::Basic {
            user: "amal".into(),
            password: KEY.into(),
        }
        .slot(&souq());
        assert_eq!(
            basic.account(),
            format!("ledger/{LEDGER}/profile/{PROFILE}/host/https://souq.ottu.net:443/basic/amal")
        );
        assert_eq!(
            SecretSlot::for_auth(&souq(), AuthKind::Basic, Some("amal")),
            Some(basic)
        );
        assert_eq!(
            SecretSlot::for_auth(&souq(), AuthKind::ApiKey, Some("ignored")),
            Some(api)
        );
        assert_eq!(SecretSlot::for_auth(&souq(), AuthKind::Basic, None), None);
    }

    #[test]
    fn names_and_users_cannot_make_two_slots_share_an_account() {
        // The old scheme: profile `a/basic/u`'s API key and profile `a`'s Basic user
        // `u/api-key` were both `profile/a/basic/u/api-key`.
        let api = Credential::ApiKey(KEY.into()).slot(&owner("a", PROFILE, "https://a.b:443"));
        let basic = SecretSlot::BasicPassword {
            owner: owner("a", PROFILE, "https://a.b:443"),
            user: "u/api-key".into(),
        };
        assert_ne!(api.account(), basic.account());
        assert!(basic.account().ends_with("/basic/u%2Fapi-key"), "{basic:?}");
        // The name is not in the account at all; the profile id and the origin are.
        let other = owner(
            "souq",
            "00000000000000000000000000000000",
            "https://souq.ottu.net:443",
        );
        assert_ne!(
            Credential::ApiKey(KEY.into()).slot(&souq()).account(),
            Credential::ApiKey(KEY.into()).slot(&other).account()
        );
        let moved = owner("souq", PROFILE, "https://evil.example:443");
        assert_ne!(
            Credential::ApiKey(KEY.into()).slot(&souq()).account(),
            Credential::ApiKey(KEY.into()).slot(&moved).account()
        );
        assert_eq!(percent_encode("a b:%/é"), "a%20b%3A%25%2F%C3%A9");
    }

    #[test]
    fn memory_store_sets_overwrites_reads_and_deletes() {
        let store = MemoryStore::new();
        let slot = Credential::ApiKey(KEY.into()).slot(&souq());
        assert!(store.get(&slot).unwrap().is_none());
        store.set(&slot, &KEY.into()).unwrap();
        assert_eq!(store.get(&slot).unwrap().unwrap().expose_secret(), KEY);
        store.set(&slot, &"second".into()).unwrap();
        assert_eq!(store.get(&slot).unwrap().unwrap().expose_secret(), "second");
        assert!(store.delete(&slot).unwrap());
        assert!(!store.delete(&slot).unwrap());
        assert!(store.get(&slot).unwrap().is_none());
    }

    #[test]
    fn memory_store_round_trips_a_basic_credential() {
        let store = MemoryStore::new();
        let credential = Credential::Basic {
            user: "amal".into(),
            password: KEY.into(),
        };
        store.set_credential(&souq(), &credential).unwrap();
        assert_eq!(
            store.accounts(),
            [format!(
                "ledger/{LEDGER}/profile/{PROFILE}/host/https://souq.ottu.net:443/basic/amal"
            )]
        );
        let slot = SecretSlot::for_auth(&souq(), AuthKind::Basic, Some("amal")).unwrap();
        match store.credential(&slot).unwrap() {
            Some(Credential::Basic { user, password }) => {
                assert_eq!(user, "amal");
                assert_eq!(password.expose_secret(), KEY);
            }
            other => panic!("expected the Basic credential back, got {other:?}"),
        }
    }

    #[test]
    fn a_failing_store_fails_every_call() {
        let store = MemoryStore::failing(SecretsError::NoSecretService {
            detail: "test".into(),
        });
        let slot = Credential::ApiKey(KEY.into()).slot(&souq());
        assert!(store.set(&slot, &KEY.into()).unwrap_err().is_unavailable());
        assert!(store.get(&slot).is_err());
        assert!(store.delete(&slot).is_err());
    }

    #[test]
    fn debug_of_credentials_and_slots_never_shows_the_secret() {
        let api = Credential::ApiKey(KEY.into());
        let basic = Credential::Basic {
            user: "amal".into(),
            password: KEY.into(),
        };
        for text in [
            format!("{api:?}"),
            format!("{basic:?}"),
            format!("{:?}", api.slot(&souq())),
            format!("{}", basic.slot(&souq())),
            format!("{:?}", MemoryStore::new()),
        ] {
            assert!(!text.contains(KEY), "{text}");
        }
        assert!(format!("{basic:?}").contains("amal"));
        let store = MemoryStore::new();
        store.set(&api.slot(&souq()), api.secret()).unwrap();
        assert!(!format!("{store:?}").contains(KEY));
    }

    #[test]
    fn keyring_errors_never_carry_the_secret() {
        let slot = Credential::ApiKey(KEY.into()).slot(&souq());
        let secret = SecretString::from(KEY);
        let echoing: Box<dyn std::error::Error + Send + Sync> =
            format!("refused value {KEY} for attribute").into();
        let errors = [
            from_keyring(
                keyring::Error::PlatformFailure(echoing),
                "store",
                &slot,
                Some(&secret),
            ),
            from_keyring(
                keyring::Error::NoStorageAccess(format!("locked while writing {KEY}").into()),
                "store",
                &slot,
                Some(&secret),
            ),
            from_keyring(
                keyring::Error::BadEncoding(KEY.as_bytes().to_vec()),
                "read",
                &slot,
                None,
            ),
            from_keyring(
                keyring::Error::Invalid("secret".into(), format!("{KEY} has a NUL")),
                "store",
                &slot,
                Some(&secret),
            ),
        ];
        for error in &errors {
            for text in [format!("{error}"), format!("{error:?}")] {
                assert!(!text.contains(KEY), "{text}");
            }
        }
        assert_eq!(errors[1].code(), "secrets.unavailable");
        assert_eq!(errors[2].code(), "secrets.failed");
    }

    #[test]
    fn unavailable_errors_say_what_is_missing_and_how_to_get_it() {
        let text = SecretsError::NoSecretService {
            detail: "org.freedesktop.secrets was not provided".into(),
        }
        .to_string();
        assert!(text.contains("no Secret Service"), "{text}");
        #[cfg(target_os = "linux")]
        assert!(
            text.contains("apt install gnome-keyring") && text.contains("dbus-run-session"),
            "{text}"
        );
        let text = SecretsError::NoSessionBus {
            detail: "DBUS_SESSION_BUS_ADDRESS is not set".into(),
        }
        .to_string();
        assert!(text.contains("no D-Bus session bus"), "{text}");
    }
}
