//! What can go wrong in the core, typed so each face can turn it into its
//! own protocol's answer (an LDAP result code, a SCIM status and scimType).

use crate::core::validate::PasswordRule;
use crate::model::UnknownValue;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid user name {name:?}: {reason}")]
    InvalidUserName { name: String, reason: &'static str },
    #[error("the password does not meet the policy: {}", describe_rules(.0))]
    PasswordPolicy(Vec<PasswordRule>),
    #[error("{0:?} is not a known IANA time zone (for example Europe/London)")]
    InvalidTimeZone(String),
    #[error("invalid {field}: {reason}")]
    InvalidValue { field: &'static str, reason: String },
    #[error(transparent)]
    UnknownValue(#[from] UnknownValue),
    #[error("unknown security role {0:?}")]
    UnknownRole(String),
    /// Missing, or outside what the actor may see: the two answer alike so
    /// that nobody learns what lies beyond their scope.
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("not permitted: {0}")]
    Forbidden(String),
    #[error("{0} is already taken")]
    Conflict(&'static str),
    #[error("the {0} was changed by someone else; read it again")]
    VersionMismatch(&'static str),
    #[error("{0}")]
    InUse(&'static str),
    #[error("invalid organisation tree change: {0}")]
    InvalidTree(String),
    /// A value fixed when the entry was made (a group's kind).
    #[error("{0} cannot be changed once set")]
    Immutable(&'static str),
    #[error("the account is not usable: {0}")]
    AccountUnusable(&'static str),
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("store: {0}")]
    Store(StoreError),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(field) => CoreError::Conflict(field),
            StoreError::NotFound(what) => CoreError::NotFound(what),
            StoreError::VersionMismatch(what) => CoreError::VersionMismatch(what),
            StoreError::InUse(why) => CoreError::InUse(why),
            other => CoreError::Store(other),
        }
    }
}

fn describe_rules(rules: &[PasswordRule]) -> String {
    rules
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

pub type CoreResult<T> = Result<T, CoreError>;
