//! Credentials and permissions. The only place a secret is read ([`Credential`] →
//! `Authorization` header, and the [`Scrubber`] that takes it back out of what a server
//! echoes), and the one table of which Ottu permission each call needs.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE as BASE64_URL};
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use super::ClientError;
use crate::model::OperationKind;

/// How Daftar signs in to Ottu for one profile. `Debug` shows no secret (`secrecy` redacts).
#[derive(Debug, Clone)]
pub enum Credential {
    /// The merchant's private API key: every permission.
    ApiKey(SecretString),
    /// A dashboard user: each call needs that user's permission ([`OttuCall::permission`]).
    Basic {
        user: String,
        password: SecretString,
    },
}

impl Credential {
    /// The value of the `Authorization` header, marked sensitive so `http` never prints it.
    /// The one place a secret is exposed. An error names what is wrong, never the secret.
    pub(crate) fn authorization(&self) -> Result<HeaderValue, ClientError> {
        let (value, what) = match self {
            Credential::ApiKey(key) => (format!("Api-Key {}", key.expose_secret()), "API key"),
            Credential::Basic { user, password } => {
                // Basic auth splits user from password at the first ':'.
                if user.is_empty() || user.contains(':') {
                    return Err(ClientError::BadCredential {
                        what: "user name",
                        problem: "must be non-empty and contain no ':'",
                    });
                }
                let pair = format!("{user}:{}", password.expose_secret());
                (format!("Basic {}", BASE64.encode(pair)), "user or password")
            }
        };
        let mut header = HeaderValue::from_str(&value).map_err(|_| ClientError::BadCredential {
            what,
            problem: "contains a character that cannot travel in an HTTP header (a line break or control character?): enter it again",
        })?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// `api_key` or `basic`, as the profile stores it.
    pub fn kind_word(&self) -> &'static str {
        match self {
            Credential::ApiKey(_) => "api_key",
            Credential::Basic { .. } => "basic",
        }
    }
}

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// A form shorter than this is not scrubbed: a very short secret (or a base64 fragment of
/// one) would match ordinary text and mangle every answer. `set-key` refuses secrets
/// shorter than [`crate::limits::MIN_SECRET_CHARS`] (the same 8), so every stored secret and
/// each of its forms is scrubbed.
const MIN_SCRUBBED_FORM_CHARS: usize = crate::limits::MIN_SECRET_CHARS;

/// Takes one credential back out of whatever a server sent: a server that echoes the
/// `Authorization` header (in a 401 detail, an HTML error page, a 200 body, a header) must
/// not get the key stored in the ledger or printed. Built from the credential, it knows
/// every form the secret travels or is echoed in: as is, the whole header value, the
/// `user:password` pair, JSON-, HTML- and percent-encoded, and base64 (standard and
/// URL-safe, at each of the three alignments it can sit at inside a longer base64 text, so
/// `base64(user:password)` and a base64 of a larger echo are caught too). `Debug` shows no
/// form.
#[derive(Clone)]
pub(crate) struct Scrubber {
    /// Longest first, so a whole header value goes before the secret inside it.
    forms: Arc<[SecretString]>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} forms)", self.forms.len())
    }
}

impl Scrubber {
    pub(crate) fn new(credential: &Credential) -> Scrubber {
        let mut secrets: Vec<String> = Vec::new();
        let mut whole: Vec<String> = Vec::new();
        match credential {
            Credential::ApiKey(key) => {
                secrets.push(key.expose_secret().to_string());
                whole.push(format!("Api-Key {}", key.expose_secret()));
            }
            Credential::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose_secret());
                whole.push(format!("Basic {}", BASE64.encode(&pair)));
                whole.push(BASE64.encode(&pair));
                secrets.push(password.expose_secret().to_string());
                secrets.push(pair);
            }
        }
        let mut forms: Vec<String> = whole;
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            forms.push(secret.clone());
            let derived = [
                json_escaped(secret),
                json_escaped(secret).replace('/', "\\/"),
                html_escaped(secret),
                percent_encoded(secret, false),
                percent_encoded(secret, false).to_ascii_lowercase(),
                percent_encoded(secret, true),
            ];
            forms.extend(derived);
            for engine in [&BASE64, &BASE64_URL] {
                forms.extend(base64_fragments(engine, secret.as_bytes()));
            }
        }
        forms.retain(|form| form.chars().count() >= MIN_SCRUBBED_FORM_CHARS);
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        Scrubber {
            forms: forms.into_iter().map(SecretString::from).collect(),
        }
    }

    /// `text` with every form of the secret replaced by [`REDACTED`].
    pub(crate) fn text(&self, text: String) -> String {
        let mut text = text;
        for form in self.forms.iter() {
            let form = form.expose_secret();
            if text.contains(form) {
                text = text.replace(form, REDACTED);
            }
        }
        text
    }

    /// A body with every form of the secret replaced. A JSON body that uses escapes is
    /// also read and each string checked, since an escape (`\u0041`, `\/`) can hide a form
    /// from the byte search; it is written back only when something was replaced.
    pub(crate) fn body(&self, body: Vec<u8>) -> Vec<u8> {
        let body = match String::from_utf8(body) {
            Ok(text) => self.text(text).into_bytes(),
            Err(not_text) => {
                let mut bytes = not_text.into_bytes();
                for form in self.forms.iter() {
                    bytes = replace_bytes(bytes, form.expose_secret().as_bytes());
                }
                bytes
            }
        };
        if !body.contains(&b'\\') {
            return body;
        }
        let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
            return body;
        };
        if self.value(&mut value) {
            serde_json::to_vec(&value).unwrap_or(body)
        } else {
            body
        }
    }

    /// Scrubs every string and key of a JSON value; whether anything changed.
    fn value(&self, value: &mut Value) -> bool {
        match value {
            Value::String(text) => {
                let scrubbed = self.text(std::mem::take(text));
                let changed = scrubbed.contains(REDACTED);
                *text = scrubbed;
                changed
            }
            Value::Array(items) => items.iter_mut().fold(false, |c, v| self.value(v) | c),
            Value::Object(map) => {
                let mut changed = false;
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    changed |= self.value(&mut item);
                    let key = self.text(key);
                    changed |= key.contains(REDACTED);
                    map.insert(key, item);
                }
                changed
            }
            _ => false,
        }
    }

    /// Header values with the secret replaced (a redirect's `Location` is shown to the user).
    pub(crate) fn headers(&self, headers: &mut HeaderMap) {
        for value in headers.values_mut() {
            let scrubbed = match value.to_str() {
                Ok(text) => {
                    let scrubbed = self.text(text.to_string());
                    if scrubbed == text {
                        continue;
                    }
                    HeaderValue::from_str(&scrubbed)
                }
                Err(_) => {
                    let bytes = self.body(value.as_bytes().to_vec());
                    if bytes == value.as_bytes() {
                        continue;
                    }
                    HeaderValue::from_bytes(&bytes)
                }
            };
            *value = scrubbed.unwrap_or_else(|_| HeaderValue::from_static(REDACTED));
        }
    }
}

/// `bytes` with every `needle` replaced by [`REDACTED`] (for a body that is not UTF-8).
fn replace_bytes(bytes: Vec<u8>, needle: &[u8]) -> Vec<u8> {
    if needle.is_empty() || !bytes.windows(needle.len()).any(|w| w == needle) {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at..].starts_with(needle) {
            out.extend_from_slice(REDACTED.as_bytes());
            at += needle.len();
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    out
}

/// The secret inside a JSON string, without the quotes.
fn json_escaped(secret: &str) -> String {
    let quoted = serde_json::to_string(secret).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default()
        .to_string()
}

fn html_escaped(secret: &str) -> String {
    secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Every byte but `A-Za-z0-9-._~` as `%XX`; `plus`: a space as `+` (form encoding).
fn percent_encoded(secret: &str, plus: bool) -> String {
    let mut out = String::new();
    for byte in secret.bytes() {
        match byte {
            b' ' if plus => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') => {
                out.push(char::from(b))
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The base64 characters that depend on `secret` alone, for each of the three offsets
/// (mod 3) it can start at inside a longer encoded text.
fn base64_fragments(engine: &base64::engine::GeneralPurpose, secret: &[u8]) -> Vec<String> {
    (0..3)
        .filter_map(|pad: usize| {
            let mut bytes = vec![0u8; pad];
            bytes.extend_from_slice(secret);
            let encoded = engine.encode(&bytes);
            let start = (8 * pad).div_ceil(6);
            let end = 8 * (pad + secret.len()) / 6;
            encoded.get(start..end).map(str::to_string)
        })
        .filter(|fragment| !fragment.is_empty())
        .collect()
}

/// Every call Daftar makes to Ottu, for the permission it needs and for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OttuCall {
    Operation(OperationKind),
    Inquiry,
    Retrieve,
    ReportList,
    ReportDownload,
}

impl OttuCall {
    /// The dashboard permission a Basic-auth user needs (CONTRACT.md, "Authentication"); an
    /// API key has them all. `None`: Ottu documents no permission for it.
    pub fn permission(self) -> Option<&'static str> {
        Some(match self {
            OttuCall::Operation(OperationKind::Refund) => "payment.refund",
            OttuCall::Operation(OperationKind::Capture) => "payment.capture",
            OttuCall::Operation(OperationKind::Void) => "payment.void",
            OttuCall::Operation(OperationKind::Cancel) => "payment.cancel",
            OttuCall::Operation(OperationKind::Expire) => "payment.expire",
            OttuCall::Operation(OperationKind::Delete) => "payment.delete",
            OttuCall::Inquiry => "payment.inquiry",
            OttuCall::ReportList | OttuCall::ReportDownload => "report.can_view_report",
            OttuCall::Retrieve => return None,
        })
    }

    /// What the call is about, for messages: `refund`, `inquiry`, `payment`, `report`.
    pub fn noun(self) -> &'static str {
        match self {
            OttuCall::Operation(kind) => kind.as_str(),
            OttuCall::Inquiry => "inquiry",
            OttuCall::Retrieve => "payment",
            OttuCall::ReportList | OttuCall::ReportDownload => "report",
        }
    }
}

/// A permission named in Ottu's 403 detail (`payment.refund`, `report.can_view_report`),
/// if there is one.
pub(crate) fn permission_in(detail: &str) -> Option<String> {
    detail
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .map(|word| word.trim_end_matches('.'))
        .find(|word| {
            let mut parts = word.split('.');
            matches!(
                (parts.next(), parts.next(), parts.next()),
                (Some("payment" | "report"), Some(rest), None) if !rest.is_empty()
            )
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(credential: &Credential) -> String {
        credential
            .authorization()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn builds_both_authorization_headers_marked_sensitive() {
        let key = Credential::ApiKey(SecretString::from("k3y-abc"));
        assert_eq!(header(&key), "Api-Key k3y-abc");
        assert!(key.authorization().unwrap().is_sensitive());
        let basic = Credential::Basic {
            user: "clerk".into(),
            password: SecretString::from("pa:ss"),
        };
        // base64("clerk:pa:ss")
        assert_eq!(header(&basic), "Basic Y2xlcms6cGE6c3M=");
        assert!(basic.authorization().unwrap().is_sensitive());
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let key = Credential::ApiKey(SecretString::from("topsecret\n"));
        assert!(!format!("{key:?}").contains("topsecret"));
        let err = key.authorization().unwrap_err();
        assert!(!format!("{err} {err:?}").contains("topsecret"), "{err}");
        assert!(err.to_string().contains("API key"), "{err}");
        let basic = Credential::Basic {
            user: "a:b".into(),
            password: SecretString::from("hunter2"),
        };
        let err = basic.authorization().unwrap_err();
        assert!(!format!("{basic:?} {err} {err:?}").contains("hunter2"));
        assert!(err.to_string().contains("':'"), "{err}");
    }

    fn scrubbed_everywhere(scrubber: &Scrubber, text: &str) -> String {
        let out = scrubber.text(text.to_string());
        let body = String::from_utf8(scrubber.body(text.as_bytes().to_vec())).unwrap();
        assert_eq!(out, body, "text and body agree on plain text");
        out
    }

    #[test]
    fn the_scrubber_removes_every_form_of_an_api_key() {
        let key = "sk_live_Ab/c+d\\\"e&<f> g%h";
        let scrubber = Scrubber::new(&Credential::ApiKey(SecretString::from(key)));
        let json_key = serde_json::to_string(key).unwrap();
        for echo in [
            format!("Authorization: Api-Key {key}"),
            format!(
                "<pre>HTTP_AUTHORIZATION: &#x27;{}&#x27;</pre>",
                html_escaped(key)
            ),
            format!("{{\"detail\": {json_key}}}"),
            format!("?auth={}", percent_encoded(key, true)),
            format!("b64: {}", BASE64.encode(format!("Api-Key {key}"))),
            format!("b64: {}", BASE64_URL.encode(format!("xx{key}yy"))),
        ] {
            let out = scrubbed_everywhere(&scrubber, &echo);
            assert!(out.contains(REDACTED), "{echo} -> {out}");
            assert!(!out.contains(key) && !out.contains("Ab/c"), "{out}");
        }
        // A JSON body whose escapes hide the key from a byte search: read and rewritten.
        let hidden = format!(
            "{{\"detail\": \"{}\"}}",
            key.chars()
                .map(|c| format!("\\u{:04x}", c as u32))
                .collect::<String>()
        );
        let body = scrubber.body(hidden.into_bytes());
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["detail"], REDACTED);
        // Text without the key is left byte for byte.
        let clean = b"{\"detail\": \"Invalid API key \\/ no\"}".to_vec();
        assert_eq!(scrubber.body(clean.clone()), clean);
    }

    #[test]
    fn the_scrubber_removes_the_basic_password_and_header() {
        let credential = Credential::Basic {
            user: "clerk".into(),
            password: SecretString::from("pw-Distinct-1"),
        };
        let header = credential.authorization().unwrap();
        let header = header.to_str().unwrap().to_string();
        let token = header.trim_start_matches("Basic ").to_string();
        let scrubber = Scrubber::new(&credential);
        for echo in [
            format!("{{\"detail\": \"bad header {header}\"}}"),
            format!("token={token}"),
            token.trim_end_matches('=').to_string(),
            "password pw-Distinct-1 refused".to_string(),
            format!("again: {}", BASE64.encode("pw-Distinct-1")),
        ] {
            let out = scrubbed_everywhere(&scrubber, &echo);
            assert!(
                !out.contains("pw-Distinct-1") && !out.contains(token.trim_end_matches('=')),
                "{echo} -> {out}"
            );
            assert!(out.contains(REDACTED), "{out}");
        }
        // The user name alone is not a secret.
        assert_eq!(scrubber.text("user clerk".into()), "user clerk");
        let mut headers = HeaderMap::new();
        headers.insert(
            "location",
            HeaderValue::from_str(&format!("/x?{token}")).unwrap(),
        );
        scrubber.headers(&mut headers);
        assert_eq!(headers["location"], "/x?<redacted>");
        assert!(!format!("{scrubber:?}").contains("pw-"));
    }

    #[test]
    fn a_secret_too_short_to_scrub_leaves_answers_alone() {
        let scrubber = Scrubber::new(&Credential::ApiKey(SecretString::from("k")));
        let body = br#"{"result": "success", "detail": "ok k"}"#.to_vec();
        assert_eq!(scrubber.body(body.clone()), body);
        // The whole header value is still long enough to take out.
        assert_eq!(scrubber.text("sent Api-Key k".into()), "sent <redacted>");
    }

    #[test]
    fn base64_fragments_match_the_secret_at_any_offset() {
        let secret = b"secret-123";
        let fragments = base64_fragments(&BASE64, secret);
        for prefix in ["", "a", "ab", "abc", "abcd"] {
            let mut bytes = prefix.as_bytes().to_vec();
            bytes.extend_from_slice(secret);
            bytes.extend_from_slice(b"tail");
            let encoded = BASE64.encode(&bytes);
            assert!(
                fragments.iter().any(|f| encoded.contains(f.as_str())),
                "{prefix}: {encoded} {fragments:?}"
            );
        }
    }

    #[test]
    fn every_call_has_its_documented_permission() {
        let table: Vec<_> = OperationKind::ALL
            .iter()
            .map(|&kind| OttuCall::Operation(kind).permission().unwrap())
            .collect();
        assert_eq!(
            table,
            [
                "payment.refund",
                "payment.capture",
                "payment.void",
                "payment.cancel",
                "payment.expire",
                "payment.delete"
            ]
        );
        assert_eq!(OttuCall::Inquiry.permission(), Some("payment.inquiry"));
        assert_eq!(
            OttuCall::ReportDownload.permission(),
            Some("report.can_view_report")
        );
        assert_eq!(OttuCall::Retrieve.permission(), None);
    }

    #[test]
    fn finds_the_permission_in_a_detail() {
        assert_eq!(
            permission_in("You do not have permission `payment.refund`.").as_deref(),
            Some("payment.refund")
        );
        assert_eq!(
            permission_in("Missing report.can_view_report").as_deref(),
            Some("report.can_view_report")
        );
        assert_eq!(
            permission_in("You do not have permission to perform this action."),
            None
        );
        assert_eq!(permission_in("payment.refund.extra"), None);
    }
}
