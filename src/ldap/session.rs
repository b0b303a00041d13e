//! The LDAP protocol state of one connection: who is bound, and the answer
//! to each request. It translates; every decision is the core's.

use std::net::SocketAddr;
use std::sync::Arc;

use ldap3_proto::proto::{LdapExtendedResponse, LdapMsg, LdapOp, LdapResult, LdapResultCode};

use super::LdapFace;
use crate::core::Actor;

/// RFC 4511 section 4.14: StartTLS.
pub const OID_STARTTLS: &str = "1.3.6.1.4.1.1466.20037";

/// What the connection should do after a request.
pub enum Action {
    Reply(Vec<LdapMsg>),
    /// Answer StartTLS (via `starttls_answer`) and upgrade.
    StartTls(i32),
    Close,
}

pub struct Session {
    #[allow(dead_code)]
    face: Arc<LdapFace>,
    peer: SocketAddr,
    secure: bool,
    #[allow(dead_code)]
    bound: Option<Actor>,
}

impl Session {
    pub fn new(face: Arc<LdapFace>, peer: SocketAddr, secure: bool) -> Self {
        Session {
            face,
            peer,
            secure,
            bound: None,
        }
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub fn set_secure(&mut self) {
        self.secure = true;
    }

    pub async fn handle(&mut self, msg: LdapMsg) -> Action {
        match msg.op {
            LdapOp::UnbindRequest => Action::Close,
            LdapOp::ExtendedRequest(req) if req.name == OID_STARTTLS => {
                if self.secure {
                    Action::Reply(vec![self.starttls_answer(
                        msg.msgid,
                        LdapResultCode::OperationsError,
                        "TLS is already established",
                    )])
                } else {
                    Action::StartTls(msg.msgid)
                }
            }
            // Requests with no answer of their own.
            LdapOp::AbandonRequest(_) => Action::Reply(Vec::new()),
            _ => Action::Reply(vec![unwilling(msg.msgid, &msg.op)]),
        }
    }

    pub fn starttls_answer(&self, msgid: i32, code: LdapResultCode, message: &str) -> LdapMsg {
        LdapMsg::new(
            msgid,
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res: result(code, message),
                name: Some(OID_STARTTLS.to_owned()),
                value: None,
            }),
        )
    }
}

fn result(code: LdapResultCode, message: &str) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: message.to_owned(),
        referral: Vec::new(),
    }
}

/// The answer of the right kind for a request the face does not serve yet.
fn unwilling(msgid: i32, op: &LdapOp) -> LdapMsg {
    let res = result(
        LdapResultCode::UnwillingToPerform,
        "this operation is not served yet",
    );
    let op = match op {
        LdapOp::BindRequest(_) => LdapOp::BindResponse(ldap3_proto::proto::LdapBindResponse {
            res,
            saslcreds: None,
        }),
        LdapOp::SearchRequest(_) => LdapOp::SearchResultDone(res),
        LdapOp::ModifyRequest(_) => LdapOp::ModifyResponse(res),
        LdapOp::AddRequest(_) => LdapOp::AddResponse(res),
        LdapOp::DelRequest(_) => LdapOp::DelResponse(res),
        LdapOp::ModifyDNRequest(_) => LdapOp::ModifyDNResponse(res),
        LdapOp::CompareRequest(_) => LdapOp::CompareResult(res),
        _ => LdapOp::ExtendedResponse(LdapExtendedResponse {
            res,
            name: None,
            value: None,
        }),
    };
    LdapMsg::new(msgid, op)
}
