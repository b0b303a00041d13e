//! Accepts HTTP connections (TLS or plain), at most `[http] max_connections`
//! at once, and serves HTTP/1.1 on each, with a header-read timeout against
//! slow clients, a limit on the size of a request's head and a graceful stop.

use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument as _;
use tracing::{debug, warn};

use super::{router, HttpFace, Peer};
use crate::daemon::Shutdown;
use crate::metrics::Listener;

/// The most a request's line and headers may take (hyper's default is about
/// 400 KiB): ample for a bearer token and a browser's cookies and headers.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What a plain HTTP connection over `max_connections` is told.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
    content-length: 37\r\nretry-after: 1\r\nconnection: close\r\n\r\n\
    too many connections: try again soon\n";

pub async fn listen(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    face: Arc<HttpFace>,
    mut shutdown: Shutdown,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        warn!(error = %e, "http accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = face.slots.clone().try_acquire_owned() else {
                    debug!(%peer, "http connection refused: max_connections reached");
                    // Plain HTTP is told why, in one write a new socket's
                    // buffer takes at once; HTTPS would need a handshake
                    // first, which a refused client is not given.
                    if acceptor.is_none() {
                        let _ = stream.try_write(BUSY);
                    }
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let face = face.clone();
                let shutdown = shutdown.clone();
                let acceptor = acceptor.clone();
                let counted = face.metrics.connection(Listener::Http);
                connections.spawn(async move {
                    let _counted = counted;
                    let _slot = slot;
                    let idle = face.config.http.idle_timeout();
                    match acceptor {
                        Some(acceptor) => {
                            match tokio::time::timeout(idle, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => {
                                    let peer = Peer { addr: peer, via_proxy: false };
                                    serve_connection(tls, peer, face, shutdown).await
                                }
                                _ => debug!(%peer, "https handshake failed or timed out"),
                            }
                        }
                        None => {
                            let peer = Peer { addr: peer, via_proxy: true };
                            serve_connection(stream, peer, face, shutdown).await
                        }
                    }
                });
            }
        }
    }
    while connections.join_next().await.is_some() {}
}

async fn serve_connection<S>(stream: S, peer: Peer, face: Arc<HttpFace>, mut shutdown: Shutdown)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let idle = face.config.http.idle_timeout();
    let service = service_fn(move |request| {
        let face = face.clone();
        // Every request gets an id: in each log line it causes (a span) and
        // in the answer's X-Request-Id, so a complaint can be found in the log.
        let id = crate::core::random::request_id();
        let span = tracing::info_span!("http", request = %id);
        async move {
            let mut response = router::route(&face, request, peer).instrument(span).await;
            if let Ok(value) = hyper::header::HeaderValue::from_str(&id) {
                response.headers_mut().insert("x-request-id", value);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        // The request line and headers together; past this, 431.
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                debug!(error = %e, "http connection ended with an error");
            }
        }
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
