//! Who is calling: `Authorization: Api-Key <key>` (every permission) or `Basic` with a user's
//! own permissions. Answers 401 for missing or bad credentials and 403 naming the permission
//! that is missing, like CONTRACT.md says.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use thiserror::Error;

use crate::model::Permission;
use crate::store::UserRow;

/// The caller, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    ApiKey,
    User {
        name: String,
        permissions: Vec<Permission>,
    },
}

/// 401: the sandbox does not know who this is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("Authentication credentials were not provided.")]
    Missing,
    #[error("Invalid API key.")]
    BadApiKey,
    #[error("Invalid username/password.")]
    BadPassword,
    #[error("Invalid basic header. Credentials not correctly base64 encoded.")]
    MalformedBasic,
    #[error("Unsupported authorization scheme; use 'Api-Key <key>' or 'Basic <credentials>'.")]
    UnknownScheme,
}

/// 403: known caller, missing permission.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "You do not have permission to perform this action: user '{user}' lacks permission {permission}."
)]
pub struct Forbidden {
    pub user: String,
    pub permission: Permission,
}

impl Principal {
    pub fn require(&self, permission: Permission) -> Result<(), Forbidden> {
        match self {
            Principal::ApiKey => Ok(()),
            Principal::User { name, permissions } => {
                if permissions.contains(&permission) {
                    Ok(())
                } else {
                    Err(Forbidden {
                        user: name.clone(),
                        permission,
                    })
                }
            }
        }
    }

    /// The Basic-auth user name, if any (reported as the operation's `initiator`).
    pub fn user_name(&self) -> Option<&str> {
        match self {
            Principal::ApiKey => None,
            Principal::User { name, .. } => Some(name),
        }
    }
}

/// The API key and the users the sandbox accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    api_key: String,
    users: HashMap<String, UserRow>,
}

impl Credentials {
    pub fn new(api_key: String, users: Vec<UserRow>) -> Credentials {
        Credentials {
            api_key,
            users: users.into_iter().map(|u| (u.name.clone(), u)).collect(),
        }
    }

    pub fn upsert_user(&mut self, user: UserRow) {
        self.users.insert(user.name.clone(), user);
    }

    /// Checks an `Authorization` header value (`None` when the header is absent).
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, AuthError> {
        let header = header
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(AuthError::Missing)?;
        let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("Api-Key") {
            if !value.is_empty() && value == self.api_key {
                return Ok(Principal::ApiKey);
            }
            return Err(AuthError::BadApiKey);
        }
        if scheme.eq_ignore_ascii_case("Basic") {
            let decoded = STANDARD
                .decode(value)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(AuthError::MalformedBasic)?;
            let (name, password) = decoded.split_once(':').ok_or(AuthError::MalformedBasic)?;
            return match self.users.get(name) {
                Some(user) if user.password == password => Ok(Principal::User {
                    name: user.name.clone(),
                    permissions: user.permissions.clone(),
                }),
                _ => Err(AuthError::BadPassword),
            };
        }
        Err(AuthError::UnknownScheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::new(
            "k".to_owned(),
            vec![UserRow {
                name: "amal".to_owned(),
                password: "pw:with:colons".to_owned(),
                permissions: vec![Permission::PaymentCapture],
            }],
        )
    }

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    #[test]
    fn api_key_has_every_permission() {
        let p = creds().authenticate(Some("Api-Key k")).unwrap();
        for perm in Permission::ALL {
            assert!(p.require(*perm).is_ok());
        }
        assert_eq!(
            creds().authenticate(Some("Api-Key x")),
            Err(AuthError::BadApiKey)
        );
        assert_eq!(
            creds().authenticate(Some("Api-Key ")),
            Err(AuthError::BadApiKey)
        );
        assert_eq!(creds().authenticate(None), Err(AuthError::Missing));
        assert_eq!(
            creds().authenticate(Some("Bearer k")),
            Err(AuthError::UnknownScheme)
        );
    }

    #[test]
    fn users_have_their_own_permissions() {
        let p = creds()
            .authenticate(Some(&basic("amal", "pw:with:colons")))
            .unwrap();
        assert!(p.require(Permission::PaymentCapture).is_ok());
        let err = p.require(Permission::PaymentRefund).unwrap_err();
        assert!(err.to_string().contains("payment.refund"), "{err}");
        assert_eq!(
            creds().authenticate(Some(&basic("amal", "nope"))),
            Err(AuthError::BadPassword)
        );
        assert_eq!(
            creds().authenticate(Some("Basic !!!")),
            Err(AuthError::MalformedBasic)
        );
    }
}
