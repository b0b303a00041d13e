//! One LDAP connection: reads messages, hands each to the session, writes
//! the answers. Owns the transport concerns: LDAPS, the StartTLS upgrade,
//! the idle timeout, malformed input and shutdown notices.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ldap3_proto::proto::{LdapExtendedResponse, LdapMsg, LdapOp, LdapResult, LdapResultCode};
use ldap3_proto::LdapCodec;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::codec::Framed;
use tracing::debug;
use tracing::Instrument as _;

use super::codec::Codec;
use super::session::{Action, Session};
use super::{LdapFace, Transport};
use crate::daemon::Shutdown;

/// RFC 4511 section 4.4.1: the unsolicited notice sent before a server
/// closes a connection on its own.
const NOTICE_OF_DISCONNECTION: &str = "1.3.6.1.4.1.1466.20036";
/// Deep enough for any real filter, shallow enough to bound the parser.
const MAX_BER_DEPTH: usize = 64;

/// Serves one LDAP connection; every log line it causes carries the
/// connection's id.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    face: Arc<LdapFace>,
    shutdown: Shutdown,
) {
    let span = tracing::info_span!("ldap", conn = %crate::core::random::request_id());
    serve_in_span(stream, peer, transport, face, shutdown)
        .instrument(span)
        .await
}

async fn serve_in_span(
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    face: Arc<LdapFace>,
    mut shutdown: Shutdown,
) {
    let idle = face.config.ldap.idle_timeout();
    let mut session = Session::new(face.clone(), peer, transport == Transport::Ldaps);
    match transport {
        Transport::Ldaps => {
            let Ok(Ok(tls)) = timeout(idle, face.tls.accept(stream)).await else {
                debug!(%peer, "ldaps handshake failed or timed out");
                return;
            };
            session.set_client_certificate(crate::tls::client_certificate_hash(tls.get_ref().1));
            run(framed(tls, &face), &mut session, &mut shutdown, idle).await;
        }
        Transport::Plain => {
            let Some(plain) = run(framed(stream, &face), &mut session, &mut shutdown, idle).await
            else {
                return;
            };
            // StartTLS: the success answer has gone out in the clear; the
            // TLS handshake starts on the very next byte.
            let Ok(Ok(tls)) = timeout(idle, face.tls.accept(plain.into_inner())).await else {
                debug!(%peer, "StartTLS handshake failed or timed out");
                return;
            };
            session.set_secure();
            session.set_client_certificate(crate::tls::client_certificate_hash(tls.get_ref().1));
            run(framed(tls, &face), &mut session, &mut shutdown, idle).await;
        }
    }
}

/// The buffers a connection starts with, each way; they grow as messages
/// need. Most requests are a few hundred bytes, and an idle connection
/// should cost little (tokio-util's default is 8 KiB each way).
const INITIAL_BUFFER: usize = 1024;
/// Answers are written out once this much is waiting (tokio-util's
/// default), so a search's entries still leave in few writes.
const WRITE_BOUNDARY: usize = 8 * 1024;

fn framed<S: AsyncRead + AsyncWrite>(stream: S, face: &LdapFace) -> Framed<S, Codec> {
    let mut framed = Framed::with_capacity(stream, Codec::new(codec(face)), INITIAL_BUFFER);
    framed.set_backpressure_boundary(WRITE_BOUNDARY);
    framed
}

/// The codec every connection decodes with (and `replay` too).
pub(super) fn codec(face: &LdapFace) -> LdapCodec {
    LdapCodec::new(
        Some(face.config.ldap.max_message_bytes),
        Some(MAX_BER_DEPTH),
    )
}

/// Serves messages until the connection ends. Returns the framed stream
/// only when the session asked for StartTLS and the answer was sent.
async fn run<S>(
    mut framed: Framed<S, Codec>,
    session: &mut Session,
    shutdown: &mut Shutdown,
    idle: Duration,
) -> Option<Framed<S, Codec>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let next = tokio::select! {
            _ = shutdown.changed() => {
                let _ = send(&mut framed, notice(LdapResultCode::Unavailable, "the server is shutting down"), idle).await;
                return None;
            }
            next = timeout(idle, framed.next()) => next,
        };
        let msg = match next {
            Err(_) => {
                let _ = send(
                    &mut framed,
                    notice(LdapResultCode::Unavailable, "idle timeout"),
                    idle,
                )
                .await;
                return None;
            }
            Ok(None) => return None,
            Ok(Some(Err(e))) => {
                debug!(peer = %session.peer(), error = %e, "malformed LDAP message");
                let _ = send(
                    &mut framed,
                    notice(
                        LdapResultCode::ProtocolError,
                        "malformed or oversized LDAP message",
                    ),
                    idle,
                )
                .await;
                return None;
            }
            Ok(Some(Ok(msg))) => msg,
        };
        session.set_sort_critical(framed.codec().sort_critical());
        match session.handle(msg).await {
            Action::Reply(replies) => {
                if send_all(&mut framed, replies, idle).await.is_err() {
                    return None;
                }
            }
            Action::Close => return None,
            Action::StartTls(msgid) => {
                // Bytes already read past the request would be plaintext
                // the client meant for inside TLS: refuse to mix the two.
                if !framed.read_buffer().is_empty() {
                    let refusal = session.starttls_answer(
                        msgid,
                        LdapResultCode::OperationsError,
                        "data was sent after the StartTLS request before its answer",
                    );
                    let _ = send(&mut framed, refusal, idle).await;
                    return None;
                }
                let ok = session.starttls_answer(msgid, LdapResultCode::Success, "");
                if send(&mut framed, ok, idle).await.is_err() {
                    return None;
                }
                return Some(framed);
            }
        }
    }
}

/// Writes one message, giving up on a client that stopped reading.
async fn send<S>(framed: &mut Framed<S, Codec>, msg: LdapMsg, limit: Duration) -> Result<(), ()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match timeout(limit, framed.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Writes a request's answers with one flush: a search's entries and its
/// done message leave in one write (and usually one TCP segment) instead
/// of one each. `feed` still flushes whenever the buffer grows past its
/// limit, so a large search streams rather than piling up in memory.
async fn send_all<S>(
    framed: &mut Framed<S, Codec>,
    replies: Vec<LdapMsg>,
    limit: Duration,
) -> Result<(), ()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // The limit applies to each step, as it did to each message alone: a
    // long search to a client that keeps reading is not cut off.
    for reply in replies {
        match timeout(limit, framed.feed(reply)).await {
            Ok(Ok(())) => {}
            _ => return Err(()),
        }
    }
    match timeout(limit, framed.flush()).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// The notice of disconnection (`busy`) a connection over `max_connections`
/// gets before it is closed, encoded once.
pub fn busy_notice() -> Vec<u8> {
    let mut bytes = tokio_util::bytes::BytesMut::new();
    let msg = notice(
        LdapResultCode::Busy,
        "too many connections: max_connections reached",
    );
    match tokio_util::codec::Encoder::encode(&mut LdapCodec::default(), msg, &mut bytes) {
        Ok(()) => bytes.to_vec(),
        Err(_) => Vec::new(),
    }
}

pub(super) fn notice(code: LdapResultCode, message: &str) -> LdapMsg {
    LdapMsg::new(
        0,
        LdapOp::ExtendedResponse(LdapExtendedResponse {
            res: LdapResult {
                code,
                matcheddn: String::new(),
                message: message.to_owned(),
                referral: Vec::new(),
            },
            name: Some(NOTICE_OF_DISCONNECTION.to_owned()),
            value: None,
        }),
    )
}
