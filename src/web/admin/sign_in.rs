//! Signing in to the console, as `/account` does (password, then a code
//! when the account's method asks for one; the same throttles), and out.

use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};

use super::{NoSession, SignedIn};
use crate::http::{Body, HttpFace, Peer};
use crate::web::account::{authenticate_form, RESET_PENDING};
use crate::web::page::SignInForm;
use crate::web::{form, session, sign_in_answer, with_cookie, WebError};

/// The console's sign-in form.
const SIGN_IN: SignInForm = SignInForm {
    title: "Server Settings: sign in",
    action: "/admin/sign-in",
    name_label: "User Name",
};

fn signed_out(
    face: &HttpFace,
    headers: &HeaderMap,
    status: StatusCode,
    user: &str,
    note: Option<(&str, &str)>,
) -> Response<Body> {
    sign_in_answer(face, headers, status, &SIGN_IN, user, note)
}

/// The answer to a request without a live session: the sign-in form, with
/// the reason when a session ended.
pub fn page_for(
    face: &HttpFace,
    headers: &HeaderMap,
    why: NoSession,
    method: &Method,
) -> Response<Body> {
    let (status, note) = match why {
        NoSession::None if method == Method::GET => (StatusCode::OK, None),
        NoSession::None => (
            StatusCode::UNAUTHORIZED,
            Some("You are not signed in, or your session has ended. Sign in again."),
        ),
        NoSession::ResetPending => (StatusCode::FORBIDDEN, Some(RESET_PENDING)),
        NoSession::PasswordChanged => (
            StatusCode::UNAUTHORIZED,
            Some("The password of this account was changed, so you were signed out. Sign in with the new one."),
        ),
    };
    signed_out(face, headers, status, "", note.map(|n| ("error", n)))
}

pub async fn submit(
    face: &HttpFace,
    request: Request<Incoming>,
    peer: Peer,
) -> Result<Response<Body>, WebError> {
    let headers = request.headers().clone();
    let fields = form::read(request).await?;
    let user = fields.get("user").trim().to_owned();
    Ok(
        match authenticate_form(face, &headers, &fields, peer, "/admin").await? {
            Ok(response) => response,
            Err((status, class, text)) => {
                signed_out(face, &headers, status, &user, Some((class, &text)))
            }
        },
    )
}

pub fn sign_out(face: &HttpFace, headers: &HeaderMap, s: &SignedIn) -> Response<Body> {
    face.web.sessions.end(&s.session.id);
    let response = signed_out(
        face,
        headers,
        StatusCode::OK,
        "",
        Some(("notice", "You are signed out.")),
    );
    with_cookie(
        response,
        &session::set_cookie(session::SESSION_COOKIE, None),
    )
}
