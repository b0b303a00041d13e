//! `[ldap]`: the LDAP listener and what anonymous clients may read.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Listen;

/// `[ldap]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapConfig {
    /// Plain LDAP (StartTLS available) address, or "off".
    pub listen: Listen,
    /// LDAP over TLS address, or "off".
    pub ldaps_listen: Listen,
    /// Allow a simple bind over plain (not yet StartTLS) LDAP from a
    /// non-loopback client. Off by default: the password would cross the
    /// network in clear text.
    pub allow_insecure_bind: bool,
    /// What an unauthenticated client may read: "rootdse" (only the root DSE
    /// and the subschema entry, so clients can discover the server) or "none".
    pub anonymous: AnonymousAccess,
    /// Connections served at once, LDAP and LDAPS together; one more is
    /// told `busy` and closed.
    pub max_connections: usize,
    /// Seconds a connection may stay silent before it is closed.
    pub idle_timeout_secs: u64,
    /// Largest LDAP message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most entries one search returns (without paging).
    pub max_search_entries: usize,
}

impl Default for LdapConfig {
    fn default() -> Self {
        LdapConfig {
            listen: Listen::on(SocketAddr::from(([127, 0, 0, 1], 3389))),
            ldaps_listen: Listen::on(SocketAddr::from(([127, 0, 0, 1], 3636))),
            allow_insecure_bind: false,
            anonymous: AnonymousAccess::RootDse,
            max_connections: 16384,
            idle_timeout_secs: 300,
            max_message_bytes: 1_048_576,
            max_search_entries: 1000,
        }
    }
}

impl LdapConfig {
    /// `idle_timeout_secs` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

/// `[ldap] anonymous`: what an unauthenticated LDAP client may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum AnonymousAccess {
    /// The root DSE and the subschema entry only.
    #[serde(rename = "rootdse")]
    RootDse,
    /// Nothing: every search needs a bind first.
    #[serde(rename = "none")]
    None,
}
