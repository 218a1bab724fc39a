//! A profile's credential: the ledger records how the profile authenticates (`api_key` or
//! `basic` with its dashboard user) and the OS keyring holds the secret. This module keeps
//! the two in step through the injected [`SecretStore`].
//!
//! Invariants guarded here: no secret reaches SQLite, an event or an error (the audit
//! event of `profile.key_set` names the auth kind and user only); an unknown profile or a
//! malformed key is refused before the keyring is touched; commands that need no key never
//! touch the keyring, so they work on a machine without one; and every entry is filed
//! under this ledger's id, the profile's id and the origin of its base URL
//! ([`CredentialOwner`]), so a key is found (and `key_stored` is true) only for the host it
//! was entered for.

use std::sync::Arc;

use rusqlite::Transaction;
use serde_json::json;

use super::profiles::{ProfileEvent, profile_event};
use super::{Ledger, ProfileDetail, ProfileView};
use crate::error::{Error, FieldContext, Result};
use crate::limits::{MAX_BASIC_USER_CHARS, MAX_SECRET_CHARS, MIN_SECRET_CHARS};
use crate::model::{Profile, ProfileName};
use crate::ottu::ClientError;
use crate::secrets::{
    Credential, CredentialOwner, ExposeSecret, SecretSlot, SecretStore, SecretString,
};
use crate::store;
use crate::store::profiles::ProfileAuth;

/// A profile, how it authenticates, and whom its credential belongs to (an error when its
/// base URL is not one the client accepts: no key can be bound to it).
type ProfileKeyInfo = (
    Profile,
    ProfileAuth,
    std::result::Result<CredentialOwner, ClientError>,
);

fn profile_with_auth(tx: &Transaction<'_>, name: &ProfileName) -> Result<ProfileKeyInfo> {
    let profile = store::profiles::by_name(tx, name)?.ok_or_else(|| Error::NotFound {
        what: "profile",
        field: "profile",
        key: name.to_string(),
    })?;
    let auth = store::profiles::auth(tx, profile.id)?;
    let ids = store::profiles::ids(tx, profile.id)?;
    let owner = CredentialOwner::new(&ids, &profile.name, &profile.base_url);
    Ok((profile, auth, owner))
}

/// The keyring entry the profile's recorded auth points at, for the origin of its current
/// base URL; `None` when there is none (a base URL the client refuses, Basic without a user).
fn recorded_slot(
    owner: std::result::Result<CredentialOwner, ClientError>,
    auth: &ProfileAuth,
) -> Option<SecretSlot> {
    SecretSlot::for_auth(&owner.ok()?, auth.kind, auth.basic_user.as_deref())
}

/// The owner a key can be stored for, or why none can.
fn bindable(
    name: &ProfileName,
    owner: std::result::Result<CredentialOwner, ClientError>,
) -> Result<CredentialOwner> {
    owner.map_err(|error| {
        Error::invalid(
            "base_url",
            "base_url.invalid",
            format!(
                "profile {name}: {error}; a key is bound to the host of the base URL, so fix the URL first"
            ),
        )
        .with("profile", name.as_str())
        .with("detail", error.to_string())
    })
}

/// The secret must fit in one HTTP header and be what the merchant meant to paste.
/// Messages describe the problem, never the value.
fn check_secret(secret: &str, what: &str) -> Result<()> {
    if secret.is_empty() {
        return Err(
            Error::invalid("key", "key.empty", format!("{what} is empty")).with("what", what),
        );
    }
    let chars = secret.chars().count();
    if chars < MIN_SECRET_CHARS {
        return Err(Error::invalid(
            "key",
            "key.too_short",
            format!(
                "{what} is {chars} characters long, fewer than the {MIN_SECRET_CHARS} required: paste the whole key (a secret this short cannot be kept out of what a server echoes back)"
            ),
        )
        .with("what", what)
        .with("length", chars)
        .with("min_length", MIN_SECRET_CHARS));
    }
    if chars > MAX_SECRET_CHARS {
        return Err(Error::invalid(
            "key",
            "key.too_long",
            format!(
                "{what} is {chars} characters long, more than the {MAX_SECRET_CHARS} allowed: paste only the key"
            ),
        )
        .with("what", what)
        .with("length", chars)
        .with("max_length", MAX_SECRET_CHARS));
    }
    if let Some(at) = secret.chars().position(char::is_control) {
        return Err(Error::invalid(
            "key",
            "key.bad_character",
            format!(
                "{what} has a control character at position {}: paste only the key, on one line",
                at + 1
            ),
        )
        .with("what", what)
        .with("position", at + 1));
    }
    Ok(())
}

/// Validates a credential; an API key loses surrounding blanks (a paste artefact, and a key
/// never contains one), a password is kept exactly as typed.
fn check_credential(credential: Credential) -> Result<Credential> {
    match credential {
        Credential::ApiKey(key) => {
            let trimmed = key.expose_secret().trim();
            check_secret(trimmed, "the API key")?;
            if let Some(at) = trimmed.chars().position(char::is_whitespace) {
                return Err(Error::invalid(
                    "key",
                    "key.bad_character",
                    format!(
                        "the API key has a blank at position {}: paste only the key",
                        at + 1
                    ),
                ));
            }
            Ok(Credential::ApiKey(SecretString::from(trimmed)))
        }
        Credential::Basic { user, password } => {
            let user = user.trim().to_string();
            let allowed = "the dashboard user name, as you log in to the Ottu dashboard";
            if user.is_empty() {
                return Err(Error::invalid(
                    "basic_user",
                    "basic_user.empty",
                    format!("the Basic user is empty: give {allowed}"),
                ));
            }
            if user.chars().count() > MAX_BASIC_USER_CHARS {
                return Err(Error::invalid(
                    "basic_user",
                    "basic_user.too_long",
                    format!(
                        "the Basic user is longer than {MAX_BASIC_USER_CHARS} characters: give {allowed}"
                    ),
                ));
            }
            if user.contains(':') || user.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "basic_user",
                    "basic_user.bad_character",
                    format!(
                        // Not echoed: a `user:password` pasted as the user would show the password.
                        "the Basic user has a ':' or a control character, which Basic auth cannot carry: give {allowed}"
                    ),
                ));
            }
            check_secret(
                password.expose_secret(),
                &format!("the password of Basic user {user}"),
            )?;
            Ok(Credential::Basic { user, password })
        }
    }
}

impl Ledger {
    /// Uses `secrets` instead of the OS keyring (tests inject a `MemoryStore`).
    pub fn with_secret_store(mut self, secrets: Arc<dyn SecretStore>) -> Ledger {
        self.secrets = secrets;
        self
    }

    /// One profile's settings, without touching the keyring.
    pub fn profile(&mut self, name: &str) -> Result<ProfileView> {
        let name = ProfileName::parse(name).field("profile")?;
        let (profile, _, _) = self.store.read(|tx| profile_with_auth(tx, &name))?;
        Ok(ProfileView::from(&profile))
    }

    /// One profile with how it authenticates and whether the keyring holds its key for
    /// this ledger, this profile and the host of its current base URL (a key entered for
    /// another host, or by another ledger with a profile of the same name, is not its key).
    pub fn profile_show(&mut self, name: &str) -> Result<ProfileDetail> {
        let name = ProfileName::parse(name).field("profile")?;
        let (profile, auth, owner) = self.store.read(|tx| profile_with_auth(tx, &name))?;
        let slot = recorded_slot(owner, &auth);
        let key_stored = match slot {
            Some(slot) => self.secrets.get(&slot)?.is_some(),
            None => false,
        };
        Ok(ProfileDetail::new(&profile, &auth, key_stored))
    }

    /// Stores the profile's credential in the keyring, records the auth kind (and Basic
    /// user) with a `profile.key_set` event, and lifts an auth pause: the merchant has
    /// fixed the credential. An entry the profile no longer uses (the API key after a
    /// switch to Basic, another Basic user's password) is removed from the keyring.
    pub fn set_key(&mut self, name: &str, credential: Credential) -> Result<ProfileDetail> {
        let name = ProfileName::parse(name).field("profile")?;
        let credential = check_credential(credential)?;
        let (_, earlier, owner) = self.store.read(|tx| profile_with_auth(tx, &name))?;
        let owner = bindable(&name, owner)?;
        // The keyring first: when it is missing or locked, the ledger stays as it was.
        // Outside the write transaction, since a keyring may wait for an unlock prompt.
        let slot = credential.slot(&owner);
        self.secrets.set(&slot, credential.secret())?;
        let kind = credential.auth_kind();
        let user = credential.basic_user();
        let now_ms = self.clock.now_ms();
        let actor = self.actor.clone();
        let written = self.store.write(|tx| {
            let (profile, before, now_owner) = profile_with_auth(tx, &name)?;
            // The base URL changed since the key went in: it was stored for the old host.
            if now_owner.as_ref().ok() != Some(&owner) {
                return Err(Error::invalid(
                    "base_url",
                    "profile.changed",
                    format!(
                        "profile {name} changed while its key was being stored: set the key again"
                    ),
                )
                .with("profile", name.as_str())
                .with("change", "key"));
            }
            store::profiles::set_auth(tx, profile.id, kind, user)?;
            store::profiles::clear_pause(tx, profile.id)?;
            store::outbox::bump_credential_gen(tx, profile.id)?;
            profile_event(
                tx,
                &ProfileEvent {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "profile.key_set",
                    profile: profile.id,
                },
                Some(json!({
                    "auth": before.kind,
                    "basic_user": before.basic_user,
                    "paused_reason": before.paused_reason,
                })),
                Some(json!({
                    "auth": kind,
                    "basic_user": user,
                    "paused_reason": null,
                })),
            )?;
            let after = store::profiles::auth(tx, profile.id)?;
            Ok((ProfileDetail::new(&profile, &after, true), before))
        });
        let slot_of = |auth: &ProfileAuth| {
            SecretSlot::for_auth(&owner, auth.kind, auth.basic_user.as_deref())
        };
        match written {
            Ok((detail, before)) => {
                if let Some(stale) = slot_of(&before).filter(|old| *old != slot) {
                    // Best effort: the new credential is in place and recorded; a stale
                    // entry left behind is never read, and a later set-key retries this.
                    let _ = self.secrets.delete(&stale);
                }
                Ok(detail)
            }
            Err(error) => {
                // Undo a keyring entry the ledger does not point at. (Overwriting the
                // entry the profile already used cannot be undone, and needs no undo.)
                if slot_of(&earlier).as_ref() != Some(&slot) {
                    let _ = self.secrets.delete(&slot);
                }
                Err(error)
            }
        }
    }

    /// Deletes the profile's key (or Basic password) for the origin of its current base URL
    /// from the keyring. The auth kind stays recorded; a `profile.key_removed` event (with
    /// the base URL it was for) is written when there was a key to remove. Also the first
    /// step of `profile remove` and of `profile set` to another origin.
    pub fn remove_key(&mut self, name: &str) -> Result<ProfileDetail> {
        let name = ProfileName::parse(name).field("profile")?;
        let (profile, auth, owner) = self.store.read(|tx| profile_with_auth(tx, &name))?;
        let slot = recorded_slot(owner, &auth);
        let Some(slot) = slot else {
            return Ok(ProfileDetail::new(&profile, &auth, false));
        };
        if self.secrets.delete(&slot)? {
            let now_ms = self.clock.now_ms();
            let actor = self.actor.clone();
            self.store.write(|tx| {
                store::outbox::bump_credential_gen(tx, profile.id)?;
                profile_event(
                    tx,
                    &ProfileEvent {
                        at_ms: now_ms,
                        actor: &actor,
                        action: "profile.key_removed",
                        profile: profile.id,
                    },
                    Some(json!({
                        "auth": auth.kind,
                        "basic_user": auth.basic_user,
                        "base_url": profile.base_url,
                    })),
                    None,
                )
            })?;
        }
        Ok(ProfileDetail::new(&profile, &auth, false))
    }

    /// The credential to authenticate the profile's requests with, read from the keyring;
    /// `None` when none is stored. For the sync engine: the secret leaves the keyring only
    /// here, and only to be put in an `Authorization` header.
    pub fn credential(&mut self, name: &str) -> Result<Option<Credential>> {
        let name = ProfileName::parse(name).field("profile")?;
        let (_, auth, owner) = self.store.read(|tx| profile_with_auth(tx, &name))?;
        let slot = recorded_slot(owner, &auth);
        let Some(slot) = slot else {
            return Ok(None);
        };
        Ok(self.secrets.credential(&slot)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ErrorKind;
    use crate::secrets::{MemoryStore, SecretsError};

    const KEY: &str = "sk_test_Q7vLp2distinctive";

    struct Fixture {
        _dir: tempfile::TempDir,
        ledger: Ledger,
        secrets: Arc<MemoryStore>,
    }

    fn fixture_with(secrets: MemoryStore) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(secrets);
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite3"), "test:keys")
            .unwrap()
            .with_secret_store(secrets.clone());
        ledger
            .add_profile("souq", "https://souq.ottu.net", "KWD")
            .unwrap();
        Fixture {
            _dir: dir,
            ledger,
            secrets,
        }
    }

    fn fixture() -> Fixture {
        fixture_with(MemoryStore::new())
    }

    fn api(key: &str) -> Credential {
        Credential::ApiKey(key.into())
    }

    fn basic(user: &str, password: &str) -> Credential {
        Credential::Basic {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The keyring account of profile `souq`'s entry ending in `tail`: this ledger's id, the
    /// profile's id and the origin of its base URL, never its name.
    fn account(f: &mut Fixture, tail: &str) -> String {
        let (ledger, profile): (String, String) = f
            .ledger
            .store()
            .connection()
            .query_row(
                "SELECT (SELECT uid FROM ledger_identity), uid FROM profiles WHERE name = 'souq'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        format!("ledger/{ledger}/profile/{profile}/host/https://souq.ottu.net:443/{tail}")
    }

    #[test]
    fn a_changed_base_url_finds_no_key_and_a_new_ledger_none_either() {
        let mut f = fixture();
        f.ledger.set_key("souq", api(KEY)).unwrap();
        assert!(f.ledger.profile_show("souq").unwrap().key_stored);
        let set_url = |f: &mut Fixture, url: &str| {
            f.ledger
                .store()
                .connection()
                .execute("UPDATE profiles SET base_url = ?1", [url])
                .unwrap();
        };
        set_url(&mut f, "https://evil.example");
        assert!(!f.ledger.profile_show("souq").unwrap().key_stored);
        assert!(f.ledger.credential("souq").unwrap().is_none());
        // Another path on the same host is the same server.
        set_url(&mut f, "https://souq.ottu.net/other/");
        assert!(f.ledger.profile_show("souq").unwrap().key_stored);
        // Another ledger sharing the keyring, same profile name and URL: not its key.
        let dir = tempfile::tempdir().unwrap();
        let mut other = Ledger::open(&dir.path().join("other.sqlite3"), "test:keys")
            .unwrap()
            .with_secret_store(f.secrets.clone());
        other
            .add_profile("souq", "https://souq.ottu.net", "KWD")
            .unwrap();
        assert!(!other.profile_show("souq").unwrap().key_stored);
        assert!(other.credential("souq").unwrap().is_none());
    }

    /// Every event's action and JSON, in order.
    fn events(ledger: &mut Ledger) -> Vec<(String, String)> {
        let conn = ledger.store().connection();
        let mut stmt = conn
            .prepare(
                "SELECT action, coalesce(before_json, '') || ' ' || coalesce(after_json, '') FROM events ORDER BY id",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|row| row.unwrap())
            .collect()
    }

    #[test]
    fn set_key_stores_the_secret_and_records_the_auth_without_it() {
        let mut f = fixture();
        let shown = f.ledger.profile_show("souq").unwrap();
        assert_eq!((shown.auth.as_str(), shown.key_stored), ("api_key", false));

        let detail = f
            .ledger
            .set_key("souq", api(&format!("  {KEY}\n")))
            .unwrap();
        assert_eq!((detail.auth.as_str(), detail.key_stored), ("api_key", true));
        assert_eq!(f.secrets.accounts(), [account(&mut f, "api-key")]);
        match f.ledger.credential("souq").unwrap() {
            Some(Credential::ApiKey(key)) => assert_eq!(key.expose_secret(), KEY),
            other => panic!("expected the trimmed API key, got {other:?}"),
        }
        let events = events(&mut f.ledger);
        assert_eq!(events.last().unwrap().0, "profile.key_set");
        assert!(events.iter().all(|(_, json)| !json.contains(KEY)));
        assert!(f.ledger.profile_show("souq").unwrap().key_stored);
    }

    #[test]
    fn switching_to_basic_records_the_user_and_drops_the_stale_api_key() {
        let mut f = fixture();
        f.ledger.set_key("souq", api(KEY)).unwrap();
        let detail = f.ledger.set_key("souq", basic(" amal ", KEY)).unwrap();
        assert_eq!(detail.auth, crate::model::AuthKind::Basic);
        assert_eq!(detail.basic_user.as_deref(), Some("amal"));
        assert_eq!(f.secrets.accounts(), [account(&mut f, "basic/amal")]);
        f.ledger
            .set_key("souq", basic("noor", "pw with spaces "))
            .unwrap();
        assert_eq!(f.secrets.accounts(), [account(&mut f, "basic/noor")]);
        match f.ledger.credential("souq").unwrap() {
            Some(Credential::Basic { user, password }) => {
                assert_eq!(user, "noor");
                assert_eq!(password.expose_secret(), "pw with spaces ");
            }
            other => panic!("expected noor's password, got {other:?}"),
        }
    }

    #[test]
    fn set_key_lifts_an_auth_pause() {
        let mut f = fixture();
        f.ledger
            .store()
            .connection()
            .execute(
                "UPDATE profiles SET paused_reason = 'Ottu answered 401', paused_at_ms = 5",
                [],
            )
            .unwrap();
        let paused = f.ledger.profile_show("souq").unwrap();
        assert_eq!(paused.paused_reason.as_deref(), Some("Ottu answered 401"));
        assert!(paused.paused_at.is_some());
        let detail = f.ledger.set_key("souq", api(KEY)).unwrap();
        assert_eq!((detail.paused_reason, detail.paused_at), (None, None));
        let (_, json) = events(&mut f.ledger).pop().unwrap();
        assert!(json.contains("Ottu answered 401"), "{json}");
    }

    #[test]
    fn bad_keys_and_unknown_profiles_are_refused_before_the_keyring() {
        let mut f = fixture_with(MemoryStore::failing(SecretsError::NoSecretService {
            detail: "test".into(),
        }));
        let before = events(&mut f.ledger);
        for (name, credential, kind, code) in [
            ("souq", api(""), ErrorKind::InvalidInput, "key.empty"),
            ("souq", api(" \n"), ErrorKind::InvalidInput, "key.empty"),
            (
                "souq",
                api("abcdefgh ijkl"),
                ErrorKind::InvalidInput,
                "key.bad_character",
            ),
            (
                "souq",
                api(&"k".repeat(MAX_SECRET_CHARS + 1)),
                ErrorKind::InvalidInput,
                "key.too_long",
            ),
            (
                "souq",
                basic("amal", ""),
                ErrorKind::InvalidInput,
                "key.empty",
            ),
            (
                "souq",
                api("sk_1234"),
                ErrorKind::InvalidInput,
                "key.too_short",
            ),
            (
                "souq",
                basic("amal", "seven77"),
                ErrorKind::InvalidInput,
                "key.too_short",
            ),
            (
                "souq",
                basic("am:al", KEY),
                ErrorKind::InvalidInput,
                "basic_user.bad_character",
            ),
            // `user:password` pasted as the user: the refusal must not echo the password.
            (
                "souq",
                basic(&format!("amal:{KEY}"), "abcdefgh"),
                ErrorKind::InvalidInput,
                "basic_user.bad_character",
            ),
            (
                "souq",
                basic(" ", KEY),
                ErrorKind::InvalidInput,
                "basic_user.empty",
            ),
            (
                "souq",
                basic("amal", "abcd\u{7}efgh"),
                ErrorKind::InvalidInput,
                "key.bad_character",
            ),
            ("nowhere", api(KEY), ErrorKind::NotFound, "not_found"),
        ] {
            let error = f.ledger.set_key(name, credential).unwrap_err();
            assert_eq!((error.kind(), error.code()), (kind, code), "{error}");
            assert!(!format!("{error} {error:?}").contains(KEY));
        }
        assert_eq!(events(&mut f.ledger), before);
    }

    #[test]
    fn a_missing_keyring_changes_nothing_and_says_so() {
        let mut f = fixture_with(MemoryStore::failing(SecretsError::NoSessionBus {
            detail: "DBUS_SESSION_BUS_ADDRESS is not set".into(),
        }));
        let before = events(&mut f.ledger);
        let error = f.ledger.set_key("souq", api(KEY)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        assert_eq!(error.code(), "secrets.unavailable");
        assert!(
            error.to_string().contains("no D-Bus session bus"),
            "{error}"
        );
        assert_eq!(events(&mut f.ledger), before);
        assert_eq!(f.ledger.profile("souq").unwrap().name, "souq");
        assert!(f.ledger.profile_show("souq").is_err());
        assert!(f.ledger.remove_key("souq").is_err());
    }

    #[test]
    fn remove_key_deletes_the_entry_and_records_it_once() {
        let mut f = fixture();
        f.ledger.set_key("souq", basic("amal", KEY)).unwrap();
        let detail = f.ledger.remove_key("souq").unwrap();
        assert!(!detail.key_stored);
        assert_eq!(detail.basic_user.as_deref(), Some("amal"));
        assert!(f.secrets.accounts().is_empty());
        assert!(f.ledger.credential("souq").unwrap().is_none());
        let count = |f: &mut Fixture| {
            events(&mut f.ledger)
                .iter()
                .filter(|(a, _)| a == "profile.key_removed")
                .count()
        };
        assert_eq!(count(&mut f), 1);
        // Nothing left to remove: still fine, and no second event.
        assert!(!f.ledger.remove_key("souq").unwrap().key_stored);
        assert_eq!(count(&mut f), 1);
    }

    #[test]
    fn views_never_show_the_secret() {
        let mut f = fixture();
        let detail = f.ledger.set_key("souq", basic("amal", KEY)).unwrap();
        let json = serde_json::to_string(&detail).unwrap();
        for text in [format!("{detail:?}"), json] {
            assert!(!text.contains(KEY), "{text}");
        }
        let credential = f.ledger.credential("souq").unwrap().unwrap();
        assert!(!format!("{credential:?}").contains(KEY));
    }
}
