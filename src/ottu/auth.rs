//! Credentials and permissions. The only place a secret is read ([`Credential`] →
//! `Authorization` header), and the one table of which Ottu permission each call needs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret as _, SecretString};

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
