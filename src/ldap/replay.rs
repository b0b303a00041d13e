//! The answers one plain LDAP connection from the loopback address would
//! send for some bytes, without a socket: the same codec and the same
//! [`Session`] as `connection::run`, in the same order.
//!
//! Why this exists: the protocol logic (the session that turns a request
//! into answers) is private to the LDAP face and reachable only inside an
//! async connection, but the fuzz targets (`fuzz/`) and their corpus test
//! (`tests/fuzz_corpus.rs`, both through `crate::fuzzing`) need it from raw
//! bytes. It stays thin: transport concerns (TLS, timeouts, shutdown) are
//! left out, everything else is the connection's own code.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ldap3_proto::proto::{LdapMsg, LdapResultCode};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;

use super::connection::{codec, notice};
use super::session::{Action, Session};
use super::LdapFace;

/// One request and what the session answered.
#[derive(Debug)]
pub struct Exchange {
    pub request: LdapMsg,
    pub replies: Vec<LdapMsg>,
}

/// How the bytes ended the connection.
#[derive(Debug)]
pub enum End {
    /// Every byte belonged to a whole message, and each was answered.
    Drained,
    /// The last message is not complete: the connection would wait.
    Incomplete,
    /// The bytes are not LDAP: the connection sends this notice and closes.
    Malformed(LdapMsg),
    /// An unbind: the connection closes without a word.
    Closed,
    /// A StartTLS request: the connection sends this answer, then starts
    /// the handshake (on success) or closes.
    StartTls(LdapMsg),
}

#[derive(Debug)]
pub struct Replay {
    pub exchanges: Vec<Exchange>,
    pub end: End,
}

/// Decodes `bytes` as a connection would and answers each message.
pub async fn replay(face: Arc<LdapFace>, bytes: &[u8]) -> Replay {
    let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 40389));
    let mut codec = codec(&face);
    let mut session = Session::new(face, peer, false);
    let mut buffer = BytesMut::from(bytes);
    let mut exchanges = Vec::new();
    loop {
        if buffer.is_empty() {
            return Replay {
                exchanges,
                end: End::Drained,
            };
        }
        let msg = match codec.decode(&mut buffer) {
            Ok(Some(msg)) => msg,
            Ok(None) => {
                return Replay {
                    exchanges,
                    end: End::Incomplete,
                }
            }
            Err(_) => {
                return Replay {
                    exchanges,
                    end: End::Malformed(notice(
                        LdapResultCode::ProtocolError,
                        "malformed or oversized LDAP message",
                    )),
                }
            }
        };
        let request = msg.clone();
        let end = match session.handle(msg).await {
            Action::Reply(replies) => {
                exchanges.push(Exchange { request, replies });
                continue;
            }
            Action::Close => End::Closed,
            Action::StartTls(msgid) => End::StartTls(if buffer.is_empty() {
                session.starttls_answer(msgid, LdapResultCode::Success, "")
            } else {
                session.starttls_answer(
                    msgid,
                    LdapResultCode::OperationsError,
                    "data was sent after the StartTLS request before its answer",
                )
            }),
        };
        exchanges.push(Exchange {
            request,
            replies: Vec::new(),
        });
        return Replay { exchanges, end };
    }
}
