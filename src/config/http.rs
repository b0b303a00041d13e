//! `[http]`: the listener of the SCIM API and the web pages, and who may
//! read `/metrics`.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Listen;

/// `[http]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// HTTPS address for SCIM and the web pages, or "off".
    pub https_listen: Listen,
    /// Plain HTTP address, or "off"; only for use behind a TLS-terminating
    /// proxy on the same machine.
    pub http_listen: Listen,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Connections served at once, HTTPS and HTTP together; one more is
    /// closed (over plain HTTP after a 503).
    pub max_connections: usize,
    /// Seconds a connection may stay silent before it is closed.
    pub idle_timeout_secs: u64,
    /// The address people reach the web pages at, for the links sent to
    /// them (`https://id.example.com`). Unset: `https://` and the address
    /// of `https_listen`, with `localhost` for a loopback address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Who may read `/metrics` (Prometheus) on these listeners.
    pub metrics: MetricsAccess,
}

/// `[http] metrics`: who may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccess {
    /// Clients on this machine only. Over plain HTTP (behind a proxy, whose
    /// address every client shares) only requests without forwarding
    /// headers, so that what a proxy forwards is refused.
    #[default]
    Loopback,
    /// Any client.
    Everyone,
    /// Not served (404).
    Off,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            https_listen: Listen::on(SocketAddr::from(([127, 0, 0, 1], 8443))),
            http_listen: Listen::OFF,
            max_body_bytes: 1_048_576,
            max_connections: 1024,
            idle_timeout_secs: 60,
            public_url: None,
            metrics: MetricsAccess::Loopback,
        }
    }
}

impl HttpConfig {
    /// `idle_timeout_secs` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}
