//! The LDAP protocol state of one connection (who is bound, open paged
//! searches) and the answer to each request. It translates: every decision
//! about accounts and access is the core's. Searches live in `search.rs`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapBindResponse, LdapCompareRequest, LdapExtendedRequest,
    LdapExtendedResponse, LdapMsg, LdapOp, LdapPasswordModifyRequest, LdapPasswordModifyResponse,
    LdapResult, LdapResultCode, OID_PASSWORD_MODIFY, OID_WHOAMI,
};
use tracing::{debug, info};

use super::dn::Target;
use super::entry::{self, Selection};
use super::search::Paged;
use super::LdapFace;
use crate::core::second_factor::Computer;
use crate::core::stamp::PasswordStamp;
use crate::core::{Actor, AuthError, CoreError};
use crate::metrics::Face;

/// RFC 4511 section 4.14: StartTLS.
pub const OID_STARTTLS: &str = "1.3.6.1.4.1.1466.20037";

/// The directory is provisioned over SCIM; LDAP only reads (and changes
/// passwords through the Password Modify operation).
const READ_ONLY: &str = "read-only directory: provision over SCIM";

/// What the connection should do after a request.
pub enum Action {
    Reply(Vec<LdapMsg>),
    /// Answer StartTLS (via `starttls_answer`) and upgrade.
    StartTls(i32),
    Close,
}

/// An LDAP result to send instead of the operation's success.
#[derive(Debug)]
pub struct LdapError {
    pub code: LdapResultCode,
    pub message: String,
    pub matched: String,
}

impl LdapError {
    pub fn new(code: LdapResultCode, message: impl Into<String>) -> Self {
        LdapError {
            code,
            message: message.into(),
            matched: String::new(),
        }
    }

    /// The core's verdicts in LDAP's words.
    pub fn from_core(e: CoreError) -> Self {
        use LdapResultCode as C;
        let code = match &e {
            CoreError::NotFound(_) => C::NoSuchObject,
            CoreError::Forbidden(_) => C::InsufficentAccessRights,
            CoreError::PasswordPolicy(_) => C::ConstraintViolation,
            CoreError::InvalidUserName { .. }
            | CoreError::InvalidTimeZone(_)
            | CoreError::InvalidValue { .. }
            | CoreError::UnknownValue(_)
            | CoreError::UnknownRole(_)
            | CoreError::InvalidTree(_)
            | CoreError::Immutable(_) => C::ConstraintViolation,
            CoreError::Conflict(_) => C::EntryAlreadyExists,
            CoreError::InUse(_) => C::NotAllowedOnNonLeaf,
            CoreError::VersionMismatch(_) => C::Busy,
            CoreError::AccountUnusable(_) | CoreError::InvalidToken => C::InvalidCredentials,
            CoreError::ShuttingDown => C::Unavailable,
            CoreError::Hashing(_) | CoreError::Store(_) => C::OperationsError,
        };
        let message = match code {
            // Internal detail stays in the server's log.
            C::OperationsError => {
                tracing::error!(error = %e, "ldap operation failed");
                "internal error; see the server log".to_owned()
            }
            _ => e.to_string(),
        };
        LdapError::new(code, message)
    }
}

pub fn ldap_result(code: LdapResultCode, message: &str) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: message.to_owned(),
        referral: Vec::new(),
    }
}

pub struct Session {
    pub(super) face: Arc<LdapFace>,
    peer: SocketAddr,
    secure: bool,
    /// The account as it bound. Every request reads it again as it is now
    /// (`as_actor`); this copy only says who bound.
    pub(super) bound: Option<Actor>,
    /// Its password's stamp at the bind, or at this connection's own
    /// Password Modify: another change of it ends the bind.
    pub(super) bound_stamp: PasswordStamp,
    /// Set by `as_actor` when the account can no longer act: the
    /// connection becomes unbound once the request is answered.
    pub(super) revoked: Arc<AtomicBool>,
    bound_dn: String,
    pub(super) paged: Paged,
    /// SHA-256 of the TLS client certificate, when one was presented.
    client_certificate: Option<[u8; 32]>,
    /// Why the bind just answered failed, for the metrics.
    bind_failure: Option<&'static str>,
    /// Whether the request being handled has a critical sort control
    /// (which the decoded message does not say).
    sort_critical: bool,
}

impl Session {
    pub fn new(face: Arc<LdapFace>, peer: SocketAddr, secure: bool) -> Self {
        Session {
            face,
            peer,
            secure,
            bound: None,
            bound_stamp: PasswordStamp::default(),
            revoked: Arc::new(AtomicBool::new(false)),
            bound_dn: String::new(),
            paged: Paged::new(),
            client_certificate: None,
            bind_failure: None,
            sort_critical: false,
        }
    }

    /// Tells the session whether the next request's sort control is
    /// critical (see `codec`).
    pub fn set_sort_critical(&mut self, critical: bool) {
        self.sort_critical = critical;
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The computer a bind comes from: its TLS client certificate when it
    /// presented one, else its address.
    fn computer(&self) -> Computer {
        match self.client_certificate {
            Some(hash) => Computer::Certificate(hash),
            None => Computer::Address(self.peer.ip()),
        }
    }

    /// Records the SHA-256 of the client certificate the TLS handshake
    /// received (LDAPS or StartTLS).
    pub fn set_client_certificate(&mut self, hash: Option<[u8; 32]>) {
        self.client_certificate = hash;
    }

    pub fn set_secure(&mut self) {
        self.secure = true;
    }

    /// Answers one request, and counts it (`crate::metrics`).
    pub async fn handle(&mut self, msg: LdapMsg) -> Action {
        let started = Instant::now();
        let operation = operation_name(&msg.op);
        let action = self.dispatch(msg).await;
        // A bound account that became inactive, archived or reset-pending,
        // or whose password changed elsewhere, leaves its connection
        // unbound, as after a failed bind (RFC 4513 section 4.2.1), rather
        // than closed: the request that found out was answered like an
        // anonymous one (insufficientAccessRights, saying why), and the
        // client may bind again on the same connection. Pooled clients
        // (SSSD, Nextcloud, Apache) rebind on that answer; a dropped
        // connection would make them retry blindly and hide the reason.
        // Either way nothing more is done with the old rights.
        if self.revoked.swap(false, Ordering::Relaxed) {
            info!(peer = %self.peer, "ldap bind no longer valid: connection unbound");
            self.unbind();
        }
        let result = match &action {
            Action::Reply(replies) => replies
                .last()
                .and_then(result_code)
                .map_or("none", code_name),
            Action::StartTls(_) => "success",
            Action::Close => "none",
        };
        let metrics = &self.face.metrics;
        metrics.operation(Face::Ldap, operation, result, started);
        if let Some(reason) = self.bind_failure.take() {
            metrics.bind_failure(reason);
        }
        action
    }

    async fn dispatch(&mut self, msg: LdapMsg) -> Action {
        let LdapMsg { msgid, op, ctrl } = msg;
        if let Some(oid) = unsupported_critical(&ctrl) {
            return Action::Reply(vec![error_reply(
                msgid,
                &op,
                LdapError::new(
                    LdapResultCode::UnavailableCriticalExtension,
                    format!("the critical control {oid} is not supported"),
                ),
            )]);
        }
        match op {
            LdapOp::UnbindRequest => Action::Close,
            LdapOp::BindRequest(req) => Action::Reply(vec![self.bind(msgid, req).await]),
            LdapOp::SearchRequest(req) => {
                let critical = self.sort_critical;
                Action::Reply(self.search(msgid, req, &ctrl, critical).await)
            }
            LdapOp::CompareRequest(req) => Action::Reply(vec![self.compare(msgid, req).await]),
            LdapOp::ExtendedRequest(req) if req.name == OID_STARTTLS => {
                if self.secure {
                    Action::Reply(vec![self.starttls_answer(
                        msgid,
                        LdapResultCode::OperationsError,
                        "TLS is already established",
                    )])
                } else {
                    Action::StartTls(msgid)
                }
            }
            LdapOp::ExtendedRequest(req) => Action::Reply(vec![self.extended(msgid, req).await]),
            // Operations are answered in order, so by the time an abandon
            // arrives its target is done; abandon has no answer of its own.
            LdapOp::AbandonRequest(_) => Action::Reply(Vec::new()),
            op @ (LdapOp::AddRequest(_)
            | LdapOp::ModifyRequest(_)
            | LdapOp::DelRequest(_)
            | LdapOp::ModifyDNRequest(_)) => Action::Reply(vec![error_reply(
                msgid,
                &op,
                LdapError::new(LdapResultCode::UnwillingToPerform, READ_ONLY),
            )]),
            // A response or other server-only message from a client.
            op => {
                debug!(peer = %self.peer, "unexpected LDAP operation from a client");
                Action::Reply(vec![error_reply(
                    msgid,
                    &op,
                    LdapError::new(
                        LdapResultCode::ProtocolError,
                        "not a request a client may send",
                    ),
                )])
            }
        }
    }

    pub fn starttls_answer(&self, msgid: i32, code: LdapResultCode, message: &str) -> LdapMsg {
        LdapMsg::new(
            msgid,
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res: ldap_result(code, message),
                name: Some(OID_STARTTLS.to_owned()),
                value: None,
            }),
        )
    }

    /// Simple binds over cleartext from another machine would expose the
    /// password on the wire: refused unless configured otherwise.
    /// Back to anonymous: no identity, no paged searches of the old one.
    fn unbind(&mut self) {
        self.bound = None;
        self.bound_stamp = PasswordStamp::default();
        self.bound_dn.clear();
        self.paged.clear();
    }

    fn cleartext_refused(&self) -> bool {
        !self.secure && !self.peer.ip().is_loopback() && !self.face.config.ldap.allow_insecure_bind
    }

    async fn bind(&mut self, msgid: i32, req: LdapBindRequest) -> LdapMsg {
        // RFC 4513 section 4.2.1: a bind attempt leaves the session
        // anonymous until it succeeds; paged searches belong to the old
        // identity and end with it.
        self.unbind();
        let reply = |code, message: &str| {
            LdapMsg::new(
                msgid,
                LdapOp::BindResponse(LdapBindResponse {
                    res: ldap_result(code, message),
                    saslcreds: None,
                }),
            )
        };
        if req.version != 3 {
            self.bind_failure = Some("protocol_version");
            return reply(
                LdapResultCode::ProtocolError,
                "only LDAP version 3 is supported",
            );
        }
        let password = match req.cred {
            LdapBindCred::Simple(pw) => pw,
            _ => {
                self.bind_failure = Some("auth_method");
                return reply(
                    LdapResultCode::AuthMethodNotSupported,
                    "only simple binds are supported (use TLS)",
                );
            }
        };
        if req.dn.is_empty() && password.is_empty() {
            return reply(LdapResultCode::Success, "");
        }
        if password.is_empty() {
            // RFC 4513 section 5.1.2: an "unauthenticated" bind would look
            // like success to careless applications.
            self.bind_failure = Some("unauthenticated");
            return reply(
                LdapResultCode::UnwillingToPerform,
                "unauthenticated binds (a name without a password) are refused",
            );
        }
        if self.cleartext_refused() {
            self.bind_failure = Some("confidentiality_required");
            return reply(
                LdapResultCode::ConfidentialityRequired,
                "a password bind needs TLS: use LDAPS or StartTLS",
            );
        }
        let Some(user_name) = self.bind_name(&req.dn) else {
            self.bind_failure = Some("invalid_dn");
            return reply(LdapResultCode::InvalidCredentials, "");
        };
        match self
            .face
            .service
            .authenticate(user_name.clone(), password, self.computer())
            .await
        {
            Ok(account) => {
                let id = account.id;
                let stamp = match self
                    .face
                    .service
                    .run(move |d| d.actor_with_password_stamp(id))
                    .await
                {
                    Ok((_, stamp)) => stamp,
                    Err(e) => {
                        self.bind_failure = Some("error");
                        let e = LdapError::from_core(e);
                        return reply(e.code, &e.message);
                    }
                };
                info!(peer = %self.peer, user = %account.user_name, "ldap bind");
                self.bound_dn = self.face.layout.person_dn(&account.user_name);
                self.bound_stamp = stamp;
                self.bound = Some(Actor::Account(Box::new(account)));
                reply(LdapResultCode::Success, "")
            }
            Err(AuthError::Core(e)) => {
                self.bind_failure = Some(match &e {
                    CoreError::AccountUnusable(_) => "account_unusable",
                    CoreError::InvalidToken => "invalid_credentials",
                    CoreError::ShuttingDown => "shutting_down",
                    _ => "error",
                });
                let e = LdapError::from_core(e);
                reply(e.code, &e.message)
            }
            Err(e) => {
                info!(peer = %self.peer, user = %user_name, reason = %e, "ldap bind refused");
                self.bind_failure = Some(bind_failure_reason(&e));
                match e {
                    // Nothing that helps a guesser: no hint at all.
                    AuthError::InvalidCredentials => reply(LdapResultCode::InvalidCredentials, ""),
                    // The rest follow a right password: say what to do.
                    other => reply(LdapResultCode::InvalidCredentials, &other.to_string()),
                }
            }
        }
    }

    /// The user name a bind DN names: `uid=NAME,ou=people,BASE` or a bare
    /// user name (what many applications' "login attribute" settings send).
    fn bind_name(&self, dn: &str) -> Option<String> {
        if !dn.contains('=') {
            return Some(dn.trim().to_owned());
        }
        match self.face.layout.classify(dn) {
            Ok(Target::Person(name)) => Some(name),
            _ => None,
        }
    }

    async fn compare(&mut self, msgid: i32, req: LdapCompareRequest) -> LdapMsg {
        let reply = |res: LdapResult| LdapMsg::new(msgid, LdapOp::CompareResult(res));
        match self.compare_inner(req).await {
            Ok(true) => reply(ldap_result(LdapResultCode::CompareTrue, "")),
            Ok(false) => reply(ldap_result(LdapResultCode::CompareFalse, "")),
            Err(e) => reply(LdapResult {
                code: e.code,
                matcheddn: e.matched,
                message: e.message,
                referral: Vec::new(),
            }),
        }
    }

    async fn compare_inner(&mut self, req: LdapCompareRequest) -> Result<bool, LdapError> {
        if req.atype.eq_ignore_ascii_case("userPassword") {
            // A compare on a password is a password-guessing oracle.
            return Err(LdapError::new(
                LdapResultCode::InsufficentAccessRights,
                "passwords cannot be compared; bind instead",
            ));
        }
        let target = self.face.layout.classify(&req.dn).map_err(|e| {
            LdapError::new(LdapResultCode::InvalidDNSyntax, format!("invalid DN: {e}"))
        })?;
        let all = Selection::all();
        let entry = match &target {
            Target::Person(name) => {
                let name = name.clone();
                let (account, related) = self
                    .as_actor(move |d, a| {
                        let account = d.account_by_user_name(a, &name)?;
                        let related = d.related(a, &[&account], &[])?;
                        Ok((account, related))
                    })
                    .await?;
                entry::person_entry(&account, &related, &self.face.layout, &all)
            }
            Target::Group(name) => {
                let name = name.clone();
                let (node, related) = self
                    .as_actor(move |d, a| {
                        let node = d.node_by_name(a, &name)?;
                        let related = d.related(a, &[], &[&node])?;
                        Ok((node, related))
                    })
                    .await?;
                entry::group_entry(&node, &related, &self.face.layout, &all)
            }
            Target::Base | Target::People | Target::Groups => {
                self.as_actor(|_, _| Ok(())).await?;
                match target {
                    Target::Base => entry::base_entry(&self.face.layout, &all),
                    Target::People => entry::people_ou_entry(&self.face.layout, &all),
                    _ => entry::groups_ou_entry(&self.face.layout, &all),
                }
            }
            _ => {
                return Err(LdapError::new(
                    LdapResultCode::NoSuchObject,
                    "no such entry",
                ));
            }
        };
        let attribute = entry
            .attributes
            .iter()
            .find(|a| a.atype.eq_ignore_ascii_case(&req.atype))
            .ok_or_else(|| {
                LdapError::new(
                    LdapResultCode::NoSuchAttribute,
                    format!("the entry has no {}", req.atype),
                )
            })?;
        let wanted = String::from_utf8_lossy(&req.val).to_lowercase();
        Ok(attribute
            .vals
            .iter()
            .any(|v| String::from_utf8_lossy(v).to_lowercase() == wanted))
    }

    async fn extended(&mut self, msgid: i32, req: LdapExtendedRequest) -> LdapMsg {
        let reply = |res: LdapResult, value: Option<Vec<u8>>| {
            LdapMsg::new(
                msgid,
                LdapOp::ExtendedResponse(LdapExtendedResponse {
                    res,
                    name: None,
                    value,
                }),
            )
        };
        match req.name.as_str() {
            OID_WHOAMI => {
                // RFC 4532: "dn:<DN>" when bound, empty when anonymous
                // (also when the bound account can no longer act).
                let current = self.bound.is_some() && self.as_actor(|_, _| Ok(())).await.is_ok();
                let value = if current {
                    format!("dn:{}", self.bound_dn)
                } else {
                    String::new()
                };
                reply(
                    ldap_result(LdapResultCode::Success, ""),
                    Some(value.into_bytes()),
                )
            }
            OID_PASSWORD_MODIFY => match self.password_modify(&req).await {
                Ok(generated) => match generated {
                    // RFC 3062: a value only when the server chose the password.
                    Some(password) => LdapMsg::new(
                        msgid,
                        LdapOp::ExtendedResponse(
                            LdapPasswordModifyResponse {
                                res: ldap_result(LdapResultCode::Success, ""),
                                gen_password: Some(password),
                            }
                            .into(),
                        ),
                    ),
                    None => reply(ldap_result(LdapResultCode::Success, ""), None),
                },
                Err(e) => reply(ldap_result(e.code, &e.message), None),
            },
            other => reply(
                // RFC 4511 section 4.12: an unknown extended operation is a
                // protocolError.
                ldap_result(
                    LdapResultCode::ProtocolError,
                    &format!("the extended operation {other} is not supported"),
                ),
                None,
            ),
        }
    }

    /// RFC 3062: changes one's own password, or (for a manager) that of an
    /// account in its branch. Returns the password the server generated
    /// when none was given.
    async fn password_modify(
        &mut self,
        req: &LdapExtendedRequest,
    ) -> Result<Option<String>, LdapError> {
        // RFC 3062 lets the request value be absent altogether (change my
        // own password to one the server generates); ldap3_proto's parser
        // insists on a value, so that case is ours.
        let request = match &req.value {
            None => LdapPasswordModifyRequest {
                user_identity: None,
                old_password: None,
                new_password: None,
            },
            Some(_) => LdapPasswordModifyRequest::try_from(req).map_err(|_| {
                LdapError::new(
                    LdapResultCode::ProtocolError,
                    "malformed Password Modify request",
                )
            })?,
        };
        if self.cleartext_refused() {
            return Err(LdapError::new(
                LdapResultCode::ConfidentialityRequired,
                "changing a password needs TLS: use LDAPS or StartTLS",
            ));
        }
        if self.bound.is_none() {
            return Err(LdapError::new(
                LdapResultCode::InsufficentAccessRights,
                "bind first to change a password",
            ));
        }
        let actor = self.as_actor(|_, a| Ok(a.clone())).await?;
        let Some(me) = actor.account().map(|a| a.user_name.clone()) else {
            return Err(LdapError::new(
                LdapResultCode::InsufficentAccessRights,
                "bind first",
            ));
        };
        let target = match request.user_identity.as_deref() {
            None | Some("") => me.clone(),
            Some(identity) => self
                .bind_name(identity)
                .ok_or_else(|| LdapError::new(LdapResultCode::NoSuchObject, "no such entry"))?,
        };
        let (new_password, generated) = match request.new_password {
            Some(p) => (p, false),
            None => (self.face.service.directory().generate_password(), true),
        };
        // The core owns the order (the right, then the old password,
        // throttled and audited, then the policy).
        let result = self
            .face
            .service
            .change_password(
                &actor,
                target.clone(),
                request.old_password,
                new_password.clone(),
                Some(self.peer.ip()),
            )
            .await;
        match result {
            Ok(_) => {}
            Err(AuthError::Core(e)) => return Err(LdapError::from_core(e)),
            Err(_) => {
                return Err(LdapError::new(
                    LdapResultCode::InvalidCredentials,
                    "the old password is wrong",
                ))
            }
        }
        if target.eq_ignore_ascii_case(&me) {
            // This connection set the new password itself: it stays bound.
            if let Some(id) = actor.id() {
                if let Ok((_, stamp)) = self
                    .face
                    .service
                    .run(move |d| d.actor_with_password_stamp(id))
                    .await
                {
                    self.bound_stamp = stamp;
                }
            }
        }
        info!(peer = %self.peer, user = %me, target = %target, "ldap password changed");
        Ok(generated.then_some(new_password))
    }
}

/// The operation label of a request.
fn operation_name(op: &LdapOp) -> &'static str {
    match op {
        LdapOp::BindRequest(_) => "bind",
        LdapOp::UnbindRequest => "unbind",
        LdapOp::SearchRequest(_) => "search",
        LdapOp::CompareRequest(_) => "compare",
        LdapOp::ExtendedRequest(req) => match req.name.as_str() {
            OID_STARTTLS => "starttls",
            OID_WHOAMI => "whoami",
            OID_PASSWORD_MODIFY => "password_modify",
            _ => "extended",
        },
        LdapOp::AbandonRequest(_) => "abandon",
        LdapOp::AddRequest(_) => "add",
        LdapOp::ModifyRequest(_) => "modify",
        LdapOp::DelRequest(_) => "delete",
        LdapOp::ModifyDNRequest(_) => "modify_dn",
        _ => "other",
    }
}

/// The result code an answer carries (a search's is in its last message).
fn result_code(msg: &LdapMsg) -> Option<&LdapResultCode> {
    match &msg.op {
        LdapOp::BindResponse(r) => Some(&r.res.code),
        LdapOp::ExtendedResponse(r) => Some(&r.res.code),
        LdapOp::SearchResultDone(r)
        | LdapOp::CompareResult(r)
        | LdapOp::ModifyResponse(r)
        | LdapOp::AddResponse(r)
        | LdapOp::DelResponse(r)
        | LdapOp::ModifyDNResponse(r) => Some(&r.code),
        _ => None,
    }
}

/// RFC 4511's name of a result code (`invalidCredentials`).
fn code_name(code: &LdapResultCode) -> &'static str {
    use LdapResultCode as C;
    match code {
        C::Success => "success",
        C::OperationsError => "operationsError",
        C::ProtocolError => "protocolError",
        C::TimeLimitExceeded => "timeLimitExceeded",
        C::SizeLimitExceeded => "sizeLimitExceeded",
        C::CompareFalse => "compareFalse",
        C::CompareTrue => "compareTrue",
        C::AuthMethodNotSupported => "authMethodNotSupported",
        C::StrongerAuthRequired => "strongerAuthRequired",
        C::AdminLimitExceeded => "adminLimitExceeded",
        C::UnavailableCriticalExtension => "unavailableCriticalExtension",
        C::ConfidentialityRequired => "confidentialityRequired",
        C::NoSuchAttribute => "noSuchAttribute",
        C::UndefinedAttributeType => "undefinedAttributeType",
        C::InappropriateMatching => "inappropriateMatching",
        C::ConstraintViolation => "constraintViolation",
        C::InvalidAttributeSyntax => "invalidAttributeSyntax",
        C::NoSuchObject => "noSuchObject",
        C::InvalidDNSyntax => "invalidDNSyntax",
        C::InvalidCredentials => "invalidCredentials",
        C::InsufficentAccessRights => "insufficientAccessRights",
        C::Busy => "busy",
        C::Unavailable => "unavailable",
        C::UnwillingToPerform => "unwillingToPerform",
        C::NotAllowedOnNonLeaf => "notAllowedOnNonLeaf",
        C::EntryAlreadyExists => "entryAlreadyExists",
        _ => "other",
    }
}

/// The reason label of a refused bind.
fn bind_failure_reason(e: &AuthError) -> &'static str {
    match e {
        AuthError::InvalidCredentials => "invalid_credentials",
        AuthError::ResetPending => "reset_pending",
        AuthError::SecondFactorRequired(_) => "second_factor_required",
        AuthError::InvalidCode => "invalid_code",
        AuthError::NotEnrolled => "not_enrolled",
        AuthError::ChannelNotConfigured(_) => "channel_not_configured",
        AuthError::CodeSent { .. } => "code_sent",
        AuthError::NoAddress(_) => "no_address",
        AuthError::Core(_) => "error",
    }
}

/// The first critical control this gateway does not act on. Paged results
/// is served; ManageDsaIT is honoured trivially (there are no referrals).
/// Sorting (RFC 2891) is served by `search`, which reads its criticality.
fn unsupported_critical(controls: &[LdapControl]) -> Option<String> {
    controls.iter().find_map(|c| match c {
        LdapControl::SimplePagedResults { .. } | LdapControl::ManageDsaIT { .. } => None,
        LdapControl::Unknown {
            oid, criticality, ..
        } if *criticality => Some(oid.clone()),
        LdapControl::SyncRequest { criticality, .. } if *criticality => {
            Some("1.3.6.1.4.1.4203.1.9.1.1 (content synchronisation)".into())
        }
        LdapControl::SearchOptions { criticality, .. }
        | LdapControl::ShowDeleted { criticality }
        | LdapControl::SdFlags { criticality, .. }
        | LdapControl::ExtendedDn { criticality, .. }
            if *criticality =>
        {
            Some("an Active Directory control".into())
        }
        _ => None,
    })
}

/// The error answer of the right kind for a request.
fn error_reply(msgid: i32, op: &LdapOp, e: LdapError) -> LdapMsg {
    let res = LdapResult {
        code: e.code,
        matcheddn: e.matched,
        message: e.message,
        referral: Vec::new(),
    };
    let op = match op {
        LdapOp::BindRequest(_) => LdapOp::BindResponse(LdapBindResponse {
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
