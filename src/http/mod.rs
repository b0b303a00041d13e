//! The HTTP face: SCIM 2.0 under `/scim/v2` and the self-service pages
//! (`/forgot`, `/reset`, `/account`, in `crate::web`), on
//! HTTPS (and optionally plain HTTP behind a TLS proxy). `listener` owns the
//! connections; `router` picks the handler for a request.

mod listener;
mod router;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::Config;
use crate::core::Service;
use crate::metrics::Metrics;
use crate::web::WebState;

pub use listener::listen;
pub use router::Body;

/// Who is at the other end of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The address the connection comes from.
    pub addr: SocketAddr,
    /// Plain HTTP, which is only served behind a TLS-terminating proxy:
    /// `addr` is then the proxy's, shared by every client.
    pub via_proxy: bool,
}

/// What every HTTP connection shares.
pub struct HttpFace {
    /// The core as SCIM uses it.
    pub service: Service,
    /// The core as the self-service pages use it (audited as `web`).
    pub web_service: Service,
    pub config: Arc<Config>,
    /// Sessions, limits and the public URL of the self-service pages.
    pub web: WebState,
    pub metrics: Metrics,
    /// `[http] max_connections`, shared by the HTTPS and HTTP listeners.
    pub slots: Arc<tokio::sync::Semaphore>,
}

impl HttpFace {
    /// `public_url` is where people reach the pages (see
    /// [`crate::web::public_url`]).
    pub fn new(
        service: Service,
        config: Arc<Config>,
        public_url: String,
        metrics: Metrics,
    ) -> Self {
        HttpFace {
            web_service: service.for_face(crate::core::audit::Face::Web),
            service,
            slots: Arc::new(tokio::sync::Semaphore::new(config.http.max_connections)),
            config,
            web: WebState::new(public_url),
            metrics,
        }
    }
}
