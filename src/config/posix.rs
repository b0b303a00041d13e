//! `[posix]`: the numbers, home directories and shells that Linux hosts
//! read through LDAP.

use serde::{Deserialize, Serialize};

/// `[posix]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosixConfig {
    /// New accounts' uidNumbers, allocated once, never reused.
    pub uid_min: i64,
    pub uid_max: i64,
    /// New groups' gidNumbers (apart from the uid range).
    pub gid_min: i64,
    pub gid_max: i64,
    /// Every new account's gidNumber; unset: its private group (its
    /// uidNumber).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_gid: Option<i64>,
    /// `{user}` is the user name.
    pub home_directory: String,
    pub login_shell: String,
}

impl Default for PosixConfig {
    fn default() -> Self {
        let d = crate::core::posix::PosixSettings::default();
        PosixConfig {
            uid_min: d.uid_min,
            uid_max: d.uid_max,
            gid_min: d.gid_min,
            gid_max: d.gid_max,
            default_gid: d.default_gid,
            home_directory: d.home_directory,
            login_shell: d.login_shell,
        }
    }
}

impl PosixConfig {
    pub fn settings(&self) -> crate::core::posix::PosixSettings {
        crate::core::posix::PosixSettings {
            uid_min: self.uid_min,
            uid_max: self.uid_max,
            gid_min: self.gid_min,
            gid_max: self.gid_max,
            default_gid: self.default_gid,
            home_directory: self.home_directory.clone(),
            login_shell: self.login_shell.clone(),
        }
    }
}
