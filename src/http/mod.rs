//! The HTTP face: SCIM 2.0 under `/scim/v2` and the self-service pages, on
//! HTTPS (and optionally plain HTTP behind a TLS proxy). `listener` owns the
//! connections; `router` picks the handler for a request.

mod listener;
mod router;

use std::sync::Arc;

use crate::config::Config;
use crate::core::Service;

pub use listener::listen;
pub use router::Body;

/// What every HTTP connection shares.
pub struct HttpFace {
    pub service: Service,
    pub config: Arc<Config>,
}

impl HttpFace {
    pub fn new(service: Service, config: Arc<Config>) -> Self {
        HttpFace { service, config }
    }
}
