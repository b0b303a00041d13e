//! The LDAP face. `listener` accepts connections and applies the limits,
//! `connection` moves messages on one connection (TLS, StartTLS, idle
//! timeout), `session` turns each request into core calls and answers.

mod connection;
mod listener;
mod session;

use std::sync::Arc;

use crate::config::Config;
use crate::core::Service;

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
}

impl LdapFace {
    pub fn new(service: Service, config: Arc<Config>, tls: Arc<rustls::ServerConfig>) -> Self {
        LdapFace {
            service,
            config,
            tls: tokio_rustls::TlsAcceptor::from(tls),
        }
    }
}
