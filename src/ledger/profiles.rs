//! Profiles: one merchant account each (base URL and currency; credentials never here).

use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::{Ledger, ProfileView};
use crate::error::{Error, FieldContext, Result};
use crate::model::{Profile, ProfileId, ProfileName};
use crate::money::Currency;
use crate::ottu::{normalize_base_url, origin_of};
use crate::store::{self, EventInsert};

/// The base URL in its stored form, checked by the same parser the Ottu client uses
/// ([`crate::ottu::parse_base_url`]): a profile never holds a URL sync would refuse.
fn check_base_url(url: &str) -> Result<String> {
    normalize_base_url(url)
        .map_err(|error| Error::invalid("base_url", error.code, error.to_string()))
}

impl Ledger {
    pub fn add_profile(
        &mut self,
        name: &str,
        base_url: &str,
        currency: &str,
    ) -> Result<ProfileView> {
        let name = ProfileName::parse_new(name).field("name")?;
        let base_url = check_base_url(base_url)?;
        let currency = Currency::from_code(currency).field("currency")?;
        let now_ms = self.clock.now_ms();
        let actor = self.actor.clone();
        self.store.write(|tx| {
            if store::profiles::by_name(tx, &name)?.is_some() {
                return Err(Error::invalid(
                    "name",
                    "profile.exists",
                    format!("a profile named '{name}' already exists; choose another name"),
                )
                .with("profile", name.as_str()));
            }
            let id = store::profiles::insert(tx, &name, &base_url, currency, now_ms)?;
            profile_event(
                tx,
                &ProfileEvent {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "profile.added",
                    profile: id,
                },
                None,
                Some(json!({"name": name, "base_url": base_url, "currency": currency})),
            )?;
            let profile = store::profiles::by_name(tx, &name)?.ok_or_else(|| Error::NotFound {
                what: "profile",
                field: "name",
                key: name.to_string(),
            })?;
            Ok(ProfileView::from(&profile))
        })
    }

    pub fn profiles(&mut self) -> Result<Vec<ProfileView>> {
        self.store.read(|tx| {
            Ok(store::profiles::list(tx)?
                .iter()
                .map(ProfileView::from)
                .collect())
        })
    }

    /// Changes a profile's base URL and/or currency, in one transaction with its
    /// `profile.changed` event.
    ///
    /// - The currency of a profile that holds payments stays: each payment keeps the
    ///   currency it was made in, and a profile whose currency no longer matched its
    ///   payments would mislead whoever reads it (refused, with the count).
    /// - A base URL on another origin (scheme, host, port) is refused while operations sent
    ///   to the current one have no known outcome ([`Error::UnresolvedSends`]): they would
    ///   be resent to the new host with the same Tracking-Key, which only the old host
    ///   knows, so a refund the old host applied could be applied again.
    /// - A new base URL lifts the profile's pause, whatever caused it: every pause (a
    ///   refused key, an answer that was not Ottu's, a URL the client could not use) was a
    ///   verdict on the old URL, and the new one has not been tried.
    /// - A key is bound to its origin: on an origin change the key stored for the old one
    ///   can never be used again, so it is deleted from the keyring first, through
    ///   [`Ledger::remove_key`] (when the keyring cannot be reached, nothing changes), and
    ///   the merchant sets it again (`set_key_again`). A path change on the same origin
    ///   keeps the key.
    pub fn set_profile(&mut self, change: &ProfileChange) -> Result<ProfileChanged> {
        let name = ProfileName::parse(&change.name).field("name")?;
        if change.base_url.is_none() && change.currency.is_none() {
            return Err(Error::invalid(
                "base_url",
                "profile.nothing_to_change",
                format!(
                    "nothing to change in profile {name}: give a new base URL, a new currency, or both"
                ),
            )
            .with("profile", name.as_str()));
        }
        let base_url = change.base_url.as_deref().map(check_base_url).transpose()?;
        let currency = change
            .currency
            .as_deref()
            .map(Currency::from_code)
            .transpose()
            .field("currency")?;
        let wanted =
            |tx: &rusqlite::Transaction<'_>| plan_change(tx, &name, base_url.as_deref(), currency);
        // Refused before the keyring is touched.
        let planned = self.store.read(|tx| wanted(tx))?;
        if planned.origin_changes {
            self.remove_key(name.as_str())?;
        }
        let now_ms = self.clock.now_ms();
        let actor = self.actor.clone();
        self.store.write(|tx| {
            // Checked again under the write lock: an operation may have been sent meanwhile.
            let plan = wanted(tx)?;
            if plan.origin_changes != planned.origin_changes {
                return Err(Error::invalid(
                    "base_url",
                    "profile.changed",
                    format!("profile {name} changed meanwhile: make the change again"),
                )
                .with("profile", name.as_str()));
            }
            let Plan {
                profile,
                auth,
                new_url,
                new_currency,
                origin_changes,
            } = plan;
            let mut changed = Vec::new();
            if new_url.is_some() {
                changed.push("base_url");
            }
            if new_currency.is_some() {
                changed.push("currency");
            }
            let lifted = new_url.as_ref().and(auth.paused_reason.clone());
            if !changed.is_empty() {
                let url = new_url.as_deref().unwrap_or(&profile.base_url);
                let cur = new_currency.unwrap_or(profile.currency);
                store::profiles::set_settings(tx, profile.id, url, cur)?;
                if lifted.is_some() {
                    store::profiles::clear_pause(tx, profile.id)?;
                }
                profile_event(
                    tx,
                    &ProfileEvent {
                        at_ms: now_ms,
                        actor: &actor,
                        action: "profile.changed",
                        profile: profile.id,
                    },
                    Some(json!({
                        "base_url": profile.base_url,
                        "currency": profile.currency,
                        "paused_reason": auth.paused_reason,
                    })),
                    Some(json!({
                        "base_url": url,
                        "currency": cur,
                        "paused_reason": if lifted.is_some() { None } else { auth.paused_reason.as_deref() },
                    })),
                )?;
            }
            let after = existing(tx, &name)?;
            Ok(ProfileChanged {
                profile: ProfileView::from(&after),
                changed,
                set_key_again: origin_changes,
                pause_lifted: lifted,
            })
        })
    }

    /// Deletes a profile that holds no payments (and so no operations), with its key in
    /// the OS keyring, and records `profile.removed`. A profile with history is refused:
    /// nothing is ever deleted from the ledger's history.
    ///
    /// The keyring entry goes first, through [`Ledger::remove_key`] (keyring before
    /// ledger, as `set_key` does): when the keyring cannot be reached, nothing changes.
    pub fn remove_profile(&mut self, name: &str) -> Result<ProfileView> {
        let name = ProfileName::parse(name).field("name")?;
        let refuse_if_held = |tx: &rusqlite::Transaction<'_>| -> Result<Profile> {
            let profile = existing(tx, &name)?;
            let held = store::profiles::holdings(tx, profile.id)?;
            if held.payments > 0 || held.operations > 0 {
                return Err(Error::ProfileInUse {
                    field: "name",
                    message: format!(
                        "profile {name} holds {} and {}; nothing is deleted from the ledger",
                        count(held.payments, "payment"),
                        count(held.operations, "operation"),
                    ),
                    params: crate::error::params(json!({
                        "profile": name.as_str(),
                        "payments": held.payments,
                        "operations": held.operations,
                    })),
                });
            }
            Ok(profile)
        };
        // Refused before the keyring is touched.
        self.store.read(|tx| refuse_if_held(tx))?;
        self.remove_key(name.as_str())?;
        let now_ms = self.clock.now_ms();
        let actor = self.actor.clone();
        self.store.write(|tx| {
            // Checked again under the write lock: a payment may have come in meanwhile.
            let profile = refuse_if_held(tx)?;
            let auth = store::profiles::auth(tx, profile.id)?;
            store::profiles::delete(tx, profile.id)?;
            profile_event(
                tx,
                &ProfileEvent {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "profile.removed",
                    profile: profile.id,
                },
                Some(json!({
                    "name": profile.name,
                    "base_url": profile.base_url,
                    "currency": profile.currency,
                    "auth": auth.kind,
                    "basic_user": auth.basic_user,
                })),
                None,
            )?;
            Ok(ProfileView::from(&profile))
        })
    }
}

/// What `profile set` asks to change; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct ProfileChange {
    pub name: String,
    pub base_url: Option<String>,
    pub currency: Option<String>,
}

/// The profile after `profile set` (the same fields as [`ProfileView`]), what changed, and
/// what the merchant must do next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ProfileChanged {
    #[serde(flatten)]
    pub profile: ProfileView,
    /// `base_url` and/or `currency`; empty when the values given were the current ones.
    pub changed: Vec<&'static str>,
    /// The base URL changed: the key stored for the old host is not sent to the new one,
    /// so it must be set again (`daftar profile set-key`).
    pub set_key_again: bool,
    /// The pause the base-URL change lifted, if the profile was paused.
    pub pause_lifted: Option<String>,
}

/// What `profile set` would change, checked against the profile as stored.
struct Plan {
    profile: Profile,
    auth: store::profiles::ProfileAuth,
    new_url: Option<String>,
    new_currency: Option<Currency>,
    /// The new base URL is on another origin than the stored one (an origin the client
    /// cannot parse counts as another): the stored key cannot follow.
    origin_changes: bool,
}

fn plan_change(
    tx: &rusqlite::Transaction<'_>,
    name: &ProfileName,
    base_url: Option<&str>,
    currency: Option<Currency>,
) -> Result<Plan> {
    let profile = existing(tx, name)?;
    let auth = store::profiles::auth(tx, profile.id)?;
    let new_url = base_url
        .filter(|url| *url != profile.base_url)
        .map(str::to_string);
    let new_currency = currency.filter(|c| *c != profile.currency);
    if let Some(currency) = new_currency {
        let held = store::profiles::holdings(tx, profile.id)?;
        if held.payments > 0 {
            return Err(Error::ProfileInUse {
                field: "currency",
                message: format!(
                    "profile {name} holds {}: its currency stays {}, because each payment keeps the currency it was made in; add another profile for {currency}",
                    count(held.payments, "payment"),
                    profile.currency,
                ),
                params: crate::error::params(json!({
                    "profile": name.as_str(),
                    "payments": held.payments,
                    "currency": profile.currency,
                    "new_currency": currency,
                })),
            });
        }
    }
    let origin_changes = new_url
        .as_deref()
        .is_some_and(|url| origin_of(url).ok() != origin_of(&profile.base_url).ok());
    if let Some(url) = new_url.as_deref().filter(|_| origin_changes) {
        let unresolved = store::profiles::unresolved_sends(tx, profile.id)?;
        if unresolved > 0 {
            return Err(Error::UnresolvedSends {
                profile: name.to_string(),
                count: unresolved,
                from: profile.base_url.clone(),
                to: url.to_string(),
            });
        }
    }
    Ok(Plan {
        profile,
        auth,
        new_url,
        new_currency,
        origin_changes,
    })
}

/// Who did what to which profile, and when: the fixed part of a profile's event.
pub(super) struct ProfileEvent<'a> {
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub profile: ProfileId,
}

/// Appends one event about a profile (no payment): its state before and after.
pub(super) fn profile_event(
    tx: &rusqlite::Transaction<'_>,
    event: &ProfileEvent<'_>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    store::events::append(
        tx,
        &EventInsert {
            at_ms: event.at_ms,
            actor: event.actor,
            action: event.action,
            entity: "profile",
            entity_id: event.profile.0,
            payment_id: None,
            before,
            after,
        },
    )?;
    Ok(())
}

fn existing(tx: &rusqlite::Transaction<'_>, name: &ProfileName) -> Result<Profile> {
    store::profiles::by_name(tx, name)?.ok_or_else(|| Error::NotFound {
        what: "profile",
        field: "name",
        key: name.to_string(),
    })
}

/// `1 payment`, `3 payments`.
fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ErrorKind;
    use crate::secrets::{Credential, MemoryStore, SecretsError};

    fn ledger(secrets: MemoryStore) -> (tempfile::TempDir, Ledger, Arc<MemoryStore>) {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(secrets);
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite3"), "test:profiles")
            .unwrap()
            .with_secret_store(secrets.clone());
        ledger
            .add_profile("souq", "https://souq.ottu.net", "KWD")
            .unwrap();
        (dir, ledger, secrets)
    }

    fn event_count(ledger: &mut Ledger) -> i64 {
        ledger
            .store()
            .connection()
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn remove_deletes_the_profile_and_its_keyring_entry() {
        let (_dir, mut ledger, secrets) = ledger(MemoryStore::new());
        ledger
            .set_key("souq", Credential::ApiKey("sk_test_1".into()))
            .unwrap();
        assert_eq!(secrets.accounts().len(), 1);
        let removed = ledger.remove_profile("souq").unwrap();
        assert_eq!(removed.name, "souq");
        assert!(secrets.accounts().is_empty());
        assert!(ledger.profiles().unwrap().is_empty());
        // The name is free again, and the new profile has no key.
        ledger
            .add_profile("souq", "https://souq.ottu.net", "KWD")
            .unwrap();
        assert!(ledger.credential("souq").unwrap().is_none());
    }

    #[test]
    fn without_a_keyring_remove_changes_nothing() {
        let (_dir, mut ledger, _) = ledger(MemoryStore::failing(SecretsError::NoSessionBus {
            detail: "DBUS_SESSION_BUS_ADDRESS is not set".into(),
        }));
        let events = event_count(&mut ledger);
        let error = ledger.remove_profile("souq").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
        assert_eq!(ledger.profiles().unwrap().len(), 1);
        assert_eq!(event_count(&mut ledger), events);
    }

    #[test]
    fn set_normalizes_and_records_one_event_per_change() {
        let (_dir, mut ledger, _) = ledger(MemoryStore::new());
        let events = event_count(&mut ledger);
        let change = |base_url: Option<&str>, currency: Option<&str>| ProfileChange {
            name: "souq".into(),
            base_url: base_url.map(Into::into),
            currency: currency.map(Into::into),
        };
        let changed = ledger
            .set_profile(&change(Some("HTTPS://Souq.Ottu.NET/"), None))
            .unwrap();
        assert!(changed.changed.is_empty() && !changed.set_key_again);
        assert_eq!(event_count(&mut ledger), events);
        let changed = ledger
            .set_profile(&change(Some("http://[::1]:8787"), Some("SAR")))
            .unwrap();
        assert_eq!(changed.changed, ["base_url", "currency"]);
        assert_eq!(changed.profile.base_url, "http://[::1]:8787");
        assert_eq!(event_count(&mut ledger), events + 1);
        let error = ledger.set_profile(&change(None, None)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
    }
}
