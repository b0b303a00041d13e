//! `[scim]`: what identity providers may send over SCIM.

use serde::{Deserialize, Serialize};

/// `[scim]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScimConfig {
    /// A SCIM `userName` that is not a valid user name (a UPN, an email
    /// login): "derive" keeps it as the account's login name and derives
    /// the user name from it; "strict" refuses it.
    pub user_names: UserNames,
}

/// `[scim] user_names`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserNames {
    #[default]
    Derive,
    Strict,
}
