//! A profile's base URL: the one parser both `profile add`/`profile set` (when the URL is
//! stored) and [`super::OttuClient`] (when it is used) run, so the ledger never holds a
//! URL the client would later refuse, and the client never accepts one `profile add`
//! would have refused.
//!
//! What it accepts: `https://host[:port][/path]`, or plain `http://` to a loopback host
//! (`localhost`, `127.0.0.0/8`, `[::1]`: the bundled sandbox), since a key must never
//! travel in clear text to another machine. No user, password, query or fragment; a
//! port from 1 to 65535; a host name of non-empty DNS labels. What it stores: the
//! normalized form ([`normalize`]): lowercase scheme and host, no default port, no
//! trailing slash, so two spellings of one URL are one URL.

use std::net::{Ipv4Addr, Ipv6Addr};

use reqwest::Url;
use thiserror::Error;

use crate::limits::MAX_BASE_URL_CHARS;

/// What every base-URL message ends with: what is allowed.
pub const BASE_URL_ALLOWED: &str = "an https:// URL such as https://example.ottu.net, or http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT for the sandbox";

/// Why a base URL was refused. `code` is stable (`base_url.invalid`, `base_url.insecure`,
/// `base_url.too_long`); the message names the URL, the problem and what is allowed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("base URL '{url}' {problem}: use {BASE_URL_ALLOWED}")]
pub struct BaseUrlError {
    /// The URL as given with any user and password replaced by `***` ([`redact`]): the
    /// message goes to the terminal, the JSON error and the log file, and a URL typed as
    /// `https://user:password@host` must not leave its password in any of them. Escaped
    /// so control characters and bidi overrides show as escapes.
    pub url: String,
    pub code: &'static str,
    pub problem: &'static str,
}

/// Parses and checks a base URL (see the module doc for the rules).
pub fn parse_base_url(text: &str) -> Result<Url, BaseUrlError> {
    let bad = |code, problem| BaseUrlError {
        url: redact(text).escape_debug().to_string(),
        code,
        problem,
    };
    let invalid = |problem| bad("base_url.invalid", problem);
    if text.chars().count() > MAX_BASE_URL_CHARS {
        return Err(bad(
            "base_url.too_long",
            "is longer than the 256 characters allowed",
        ));
    }
    // Url::parse silently drops surrounding blanks and tabs or newlines inside: refuse them,
    // the merchant should see the URL stored exactly as meant.
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("contains a blank or control character"));
    }
    // `url::ParseError` is not re-exported by reqwest; its messages are stable words
    // ("invalid port number"...). An unknown one still gets a true, if general, message.
    let url = Url::parse(text).map_err(|error| {
        invalid(match error.to_string().as_str() {
            "invalid port number" => "has a port that is not a number from 1 to 65535",
            "empty host" => "has no host",
            "invalid IPv6 address" | "invalid IPv4 address" => "has an IP address that is not one",
            "invalid international domain name" | "invalid domain character" => {
                "has a host name with a character other than letters, digits, - and ."
            }
            _ => "is not a URL",
        })
    })?;
    let loopback = match url.host_str() {
        None | Some("") => return Err(invalid("has no host")),
        Some(ip6) if ip6.starts_with('[') => ip6
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<Ipv6Addr>()
            .map_err(|_| invalid("has an IP address that is not one"))?
            .is_loopback(),
        Some(name) => match name.parse::<Ipv4Addr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => {
                check_domain(name).map_err(invalid)?;
                name == "localhost"
            }
        },
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(
                "base_url.insecure",
                "is plain http to another machine, which would send the key in clear text",
            ));
        }
        _ => return Err(invalid("must start with https://")),
    }
    if url.port() == Some(0) {
        return Err(invalid("has port 0, which no server listens on"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not hold a user or password (store the credential as the profile's key instead)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    Ok(url)
}

/// `text` with everything between its scheme and its last `@` (the user information)
/// replaced by `***:***` (`***` when it has no `:`). Works on text the URL parser refuses
/// too: a URL may be refused for its host or its length and still carry a password, and
/// a password may hold `/`, `?` or `@` unencoded, so the last `@` anywhere counts (a base
/// URL has no reason to hold one in its path).
pub fn redact(text: &str) -> String {
    let start = text.find("://").map_or(0, |at| at + 3);
    match text[start..].rfind('@') {
        Some(at) => {
            let user = &text[start..start + at];
            let mask = if user.contains(':') { "***:***" } else { "***" };
            format!("{}{mask}{}", &text[..start], &text[start + at..])
        }
        None => text.to_string(),
    }
}

/// The form a base URL is stored and shown in: [`parse_base_url`]'s URL (lowercase scheme
/// and host, IDN as punycode, no default port) without its trailing slash.
pub fn normalize(text: &str) -> Result<String, BaseUrlError> {
    let url = parse_base_url(text)?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A DNS name as the URL parser left it (lowercase, punycode): labels of 1 to 63 letters,
/// digits and hyphens, not starting or ending with a hyphen. The URL standard lets empty
/// labels (`x..net`) and odd characters through; no resolver would find such a host, and
/// the profile would only fail later, at sync.
fn check_domain(name: &str) -> Result<(), &'static str> {
    // A final dot (an absolute name) is still one host; keep it readable without it.
    let labels = name.strip_suffix('.').unwrap_or(name);
    if labels.is_empty() || labels.len() > 253 {
        return Err("has a host name that is empty or longer than 253 characters");
    }
    for label in labels.split('.') {
        if label.is_empty() {
            return Err(
                "has an empty label in its host name (two dots in a row, or a leading dot)",
            );
        }
        if label.len() > 63 {
            return Err("has a host name label longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("has a host name with a character other than letters, digits, - and .");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a host name label that starts or ends with a hyphen");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_urls_are_normalized() {
        for (given, stored) in [
            ("https://x.ottu.net", "https://x.ottu.net"),
            ("https://x.ottu.net/", "https://x.ottu.net"),
            ("HTTPS://X.Ottu.NET:443/", "https://x.ottu.net"),
            (
                "https://x.ottu.net:8443/ottu/",
                "https://x.ottu.net:8443/ottu",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://127.0.0.2", "http://127.0.0.2"),
            ("http://[::1]:8787", "http://[::1]:8787"),
            ("http://[0:0:0:0:0:0:0:1]:8787/", "http://[::1]:8787"),
            ("http://LOCALHOST", "http://localhost"),
            ("http://localhost:4010/", "http://localhost:4010"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
        ] {
            assert_eq!(normalize(given).as_deref(), Ok(stored), "{given}");
        }
    }

    #[test]
    fn bad_urls_name_the_problem() {
        for (given, code, problem) in [
            ("https://x.ottu.net:abc", "base_url.invalid", "port"),
            ("https://x.ottu.net:99999", "base_url.invalid", "port"),
            ("https://x.ottu.net:0", "base_url.invalid", "port 0"),
            ("https://[::1", "base_url.invalid", "IP address"),
            ("https://x..net", "base_url.invalid", "empty label"),
            ("https://.x.net", "base_url.invalid", "empty label"),
            ("https://-x.net", "base_url.invalid", "hyphen"),
            ("https://x_y.net", "base_url.invalid", "character"),
            ("http://x.ottu.net", "base_url.insecure", "plain http"),
            (
                "http://localhost.evil.net",
                "base_url.insecure",
                "plain http",
            ),
            ("ftp://x", "base_url.invalid", "https://"),
            ("x.ottu.net", "base_url.invalid", "not a URL"),
            ("https://", "base_url.invalid", "host"),
            (
                "https://u:p@x.ottu.net",
                "base_url.invalid",
                "user or password",
            ),
            ("https://x.ottu.net?a=1", "base_url.invalid", "query"),
            ("https://x.ottu.net/#a", "base_url.invalid", "fragment"),
            ("https://x .net", "base_url.invalid", "blank"),
            (" https://x.net", "base_url.invalid", "blank"),
            ("https://x.net/\t", "base_url.invalid", "control"),
        ] {
            let error = parse_base_url(given).unwrap_err();
            assert_eq!(error.code, code, "{given}: {error}");
            let message = error.to_string();
            assert!(message.contains(problem), "{given}: {message}");
            assert!(message.contains("https://example.ottu.net"), "{message}");
        }
        let long = format!("https://x.net/{}", "a".repeat(MAX_BASE_URL_CHARS));
        assert_eq!(parse_base_url(&long).unwrap_err().code, "base_url.too_long");
    }

    #[test]
    fn a_refused_url_never_shows_its_password() {
        for (given, shown) in [
            (
                "https://merchant:S3cretPW@shop.ottu.net",
                "https://***:***@shop.ottu.net",
            ),
            (
                "https://S3cretPW@shop.ottu.net/x",
                "https://***@shop.ottu.net/x",
            ),
            // Refused for its host before its user is looked at.
            ("https://u:S3cretPW@x_y.net", "https://***:***@x_y.net"),
            ("http://u:S3cretPW@x.ottu.net", "http://***:***@x.ottu.net"),
            // A password holding '@' or '/' (not percent-encoded).
            ("https://u:S3c@retPW@x.net", "https://***:***@x.net"),
            ("https://u:S3c/retPW@x.net", "https://***:***@x.net"),
            ("u:S3cretPW@x.net", "***:***@x.net"),
        ] {
            assert_eq!(redact(given), shown, "{given}");
            let error = parse_base_url(given).unwrap_err();
            let text = format!("{error} {error:?}");
            assert!(
                !text.contains("S3cretPW") && !text.contains("retPW"),
                "{text}"
            );
        }
        let long = format!(
            "https://u:S3cretPW@x.net/{}",
            "a".repeat(MAX_BASE_URL_CHARS)
        );
        assert!(
            !parse_base_url(&long)
                .unwrap_err()
                .to_string()
                .contains("S3cretPW")
        );
    }
}
