//! The LDAP face. `listener` accepts connections and applies the limits,
//! `connection` moves messages on one connection (TLS, StartTLS, idle
//! timeout), `session` turns each request into core calls and answers,
//! `search` runs searches, `sort` orders them (RFC 2891), `codec` reads
//! what the protocol library's decoding loses. The translations it uses are pure functions:
//! `dn` (names and the tree's layout), `filter` (RFC 4515 filters to the
//! core's query language), `entry` (accounts and groups as entries),
//! `schema` (the subschema entry and the root DSE).

pub mod attributes;
mod codec;
mod connection;
pub mod dn;
pub mod entry;
pub mod filter;
mod filter_cost;
mod listener;
#[doc(hidden)]
pub mod replay;
pub mod schema;
mod search;
mod session;
mod sort;

use std::sync::Arc;

use crate::config::Config;
use crate::core::Service;
use crate::metrics::Metrics;

pub use listener::listen;

/// How a listener's connections start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain LDAP, which may upgrade with StartTLS.
    Plain,
    /// LDAPS: TLS from the first byte.
    Ldaps,
}

/// What every LDAP connection shares.
pub struct LdapFace {
    pub service: Service,
    pub config: Arc<Config>,
    pub tls: tokio_rustls::TlsAcceptor,
    pub layout: dn::Layout,
    pub metrics: Metrics,
    /// `[ldap] max_connections`, shared by the LDAP and LDAPS listeners.
    pub slots: Arc<tokio::sync::Semaphore>,
}

impl LdapFace {
    pub fn new(
        service: Service,
        config: Arc<Config>,
        tls: Arc<rustls::ServerConfig>,
        metrics: Metrics,
    ) -> Result<Self, dn::DnError> {
        let layout = dn::Layout::new(&config.directory.base_dn)?;
        Ok(LdapFace {
            service,
            tls: tokio_rustls::TlsAcceptor::from(tls),
            layout,
            metrics,
            slots: Arc::new(tokio::sync::Semaphore::new(config.ldap.max_connections)),
            config,
        })
    }
}
