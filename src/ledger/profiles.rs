//! Profiles: one merchant account each (base URL and currency; credentials never here).

use serde_json::json;

use super::{Ledger, ProfileView};
use crate::error::{Error, FieldContext, Result};
use crate::limits::MAX_BASE_URL_CHARS;
use crate::model::ProfileName;
use crate::money::Currency;
use crate::store::{self, EventInsert};

/// Accepts `https://host[:port][/path]`, or `http://` on loopback (the bundled sandbox);
/// a key must never travel in clear text to a remote host.
fn check_base_url(url: &str) -> Result<String> {
    let allowed = "an https:// URL such as https://example.ottu.net, or http://127.0.0.1:PORT for the sandbox";
    if url.chars().count() > MAX_BASE_URL_CHARS {
        return Err(Error::invalid(
            "base_url",
            "base_url.too_long",
            format!("'{url}' is longer than {MAX_BASE_URL_CHARS} characters"),
        ));
    }
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(Error::invalid(
                "base_url",
                "base_url.insecure",
                format!("'{url}' is plain http to a remote host: use {allowed}"),
            ));
        }
        rest
    } else {
        return Err(Error::invalid(
            "base_url",
            "base_url.invalid",
            format!("'{url}' is not a URL: use {allowed}"),
        ));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || rest.contains(|c: char| c.is_whitespace() || c.is_control())
        || rest.contains(['?', '#', '@'])
    {
        return Err(Error::invalid(
            "base_url",
            "base_url.invalid",
            format!(
                "'{url}' is not a plain base URL (no credentials, query or fragment): use {allowed}"
            ),
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

impl Ledger {
    pub fn add_profile(
        &mut self,
        name: &str,
        base_url: &str,
        currency: &str,
    ) -> Result<ProfileView> {
        let name = ProfileName::parse(name).field("name")?;
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
                ));
            }
            let id = store::profiles::insert(tx, &name, &base_url, currency, now_ms)?;
            store::events::append(
                tx,
                &EventInsert {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "profile.added",
                    entity: "profile",
                    entity_id: id.0,
                    payment_id: None,
                    before: None,
                    after: Some(json!({"name": name, "base_url": base_url, "currency": currency})),
                },
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
}

#[cfg(test)]
mod tests {
    use super::check_base_url;

    #[test]
    fn base_urls_must_be_https_or_loopback() {
        assert_eq!(
            check_base_url("https://x.ottu.net/").unwrap(),
            "https://x.ottu.net"
        );
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        for bad in [
            "http://x.ottu.net",
            "ftp://x",
            "x.ottu.net",
            "https://",
            "https://user:pw@x.ottu.net",
            "https://x.ottu.net?a=1",
            "https://x .net",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}
