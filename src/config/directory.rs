//! `[directory]`: the tree both faces show, and the check of its base DN.

use serde::{Deserialize, Serialize};

use crate::ldap::dn;

/// `[directory]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// The base DN of the LDAP tree; people live under `ou=people,<base_dn>`
    /// and groups under `ou=groups,<base_dn>`.
    pub base_dn: String,
    /// The IANA time zone given to accounts created without one.
    pub default_time_zone: String,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            base_dn: "dc=example,dc=com".to_string(),
            default_time_zone: "UTC".to_string(),
        }
    }
}

/// Checks a DN in the string form of RFC 4514 with the LDAP face's own
/// grammar (`crate::ldap::dn`), so the configuration accepts the base DNs
/// that face can serve. On top of that grammar a base DN may not be empty
/// (the root DSE cannot be the base) and no value in it may be empty.
pub(super) fn check_dn(text: &str) -> Result<(), String> {
    let rdns = dn::parse_dn(text).map_err(|e| e.reason)?;
    if rdns.is_empty() {
        return Err("it is empty".to_string());
    }
    for ava in rdns.iter().flatten() {
        if ava.value.is_empty() {
            return Err(format!("the value of {:?} is empty", ava.attr));
        }
    }
    Ok(())
}
