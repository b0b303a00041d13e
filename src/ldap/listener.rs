//! Accepts LDAP connections, at most `max_connections` at once (LDAP and
//! LDAPS together): past that a new connection is closed at once (on plain
//! LDAP after a notice of disconnection saying `busy`), so a flood costs
//! connections, never the daemon's memory.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::connection;
use super::{LdapFace, Transport};
use crate::daemon::Shutdown;
use crate::metrics::Listener;

pub async fn listen(
    listener: TcpListener,
    transport: Transport,
    face: Arc<LdapFace>,
    mut shutdown: Shutdown,
) {
    let slots = face.slots.clone();
    let busy = connection::busy_notice();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off briefly.
                        warn!(error = %e, "ldap accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    debug!(%peer, "ldap connection refused: max_connections reached");
                    // Plain LDAP is told why (a new socket's send buffer
                    // takes these few bytes at once; if not, the close
                    // alone says it). LDAPS expects a TLS handshake, which
                    // costs too much to give a refused client: closed.
                    if transport == Transport::Plain {
                        let _ = stream.try_write(&busy);
                    }
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let face = face.clone();
                let shutdown = shutdown.clone();
                let counted = face.metrics.connection(Listener::Ldap);
                connections.spawn(async move {
                    connection::serve(stream, peer, transport, face, shutdown).await;
                    drop(counted);
                    drop(slot);
                });
            }
        }
    }
    // Stopping: every connection has been told through `shutdown`; wait for
    // them to say goodbye (the daemon bounds the wait).
    while connections.join_next().await.is_some() {}
}
