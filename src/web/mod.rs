//! The self-service pages on the HTTPS listener: plain server-rendered
//! forms, no script. `/forgot` asks for a reset link, `/reset` sets a new
//! password with one, `/account` signs in and changes one's own password,
//! time zone and authenticator app.
//!
//! Like SCIM, the pages translate: every rule lives in the core. What is
//! the web's own: sessions and CSRF tokens (`session`), how often one
//! client address may ask for reset links (`limit`), reading forms
//! (`form`), and the HTML (`page`). No password, code, reset token or
//! session id is ever logged.

mod account;
mod admin;
mod forgot;
pub mod form;
mod limit;
pub mod page;
mod reset;
pub mod session;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};
use tracing::warn;

use crate::config::Config;
use crate::core::CoreError;
use crate::http::{Body, HttpFace, Peer};

pub use limit::AddressLimiter;
pub use session::Sessions;

/// Reset requests one client address may make in an hour.
pub const RESETS_PER_ADDRESS_PER_HOUR: u32 = 10;
/// Failed sign-ins one client address may make in a quarter of an hour
/// before the sign-in form refuses it for the rest of that time.
pub const FAILED_SIGN_INS_PER_ADDRESS: u32 = 20;

/// What the pages keep between requests.
pub struct WebState {
    pub sessions: Sessions,
    pub reset_requests: AddressLimiter,
    pub failed_sign_ins: AddressLimiter,
    /// The public URL the links in messages start with, without a final `/`.
    pub public_url: String,
}

impl WebState {
    pub fn new(public_url: String) -> Self {
        WebState {
            sessions: Sessions::default(),
            reset_requests: AddressLimiter::new(
                RESETS_PER_ADDRESS_PER_HOUR,
                Duration::from_secs(3600),
            ),
            failed_sign_ins: AddressLimiter::new(
                FAILED_SIGN_INS_PER_ADDRESS,
                Duration::from_secs(15 * 60),
            ),
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }
}

/// The public URL of the pages: `[http] public_url`, else `https://` and
/// the address the HTTPS listener is bound to (`localhost` for a loopback
/// one), else `http://` and the plain listener's.
pub fn public_url(config: &Config, https: Option<SocketAddr>, http: Option<SocketAddr>) -> String {
    if let Some(url) = &config.http.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let (scheme, addr) = match (https, http) {
        (Some(a), _) => ("https", a),
        (None, Some(a)) => ("http", a),
        (None, None) => return "https://localhost".into(),
    };
    let host = match addr.ip() {
        ip if ip.is_loopback() => "localhost".to_owned(),
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    if addr.ip().is_unspecified() {
        warn!("the web pages listen on every address: set [http] public_url so that reset links name this server");
    }
    format!("{scheme}://{host}:{}", addr.port())
}

/// Whether `path` is one of the pages.
pub fn serves(path: &str) -> bool {
    matches!(path, "/" | "/forgot" | "/reset" | "/account")
        || path.starts_with("/account/")
        || admin::serves(path)
}

/// What can stop a page request before its handler answers.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("the form must be sent as application/x-www-form-urlencoded")]
    MediaType,
    #[error("the form is larger than {} bytes", form::MAX_FORM_BYTES)]
    TooLarge,
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("the form has expired or did not come from this site: go back, reload the page and try again")]
    Csrf,
    #[error("no such page")]
    NotFound,
    #[error("this page does not answer that method")]
    Method,
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl WebError {
    pub fn into_response(self) -> Response<Body> {
        let status = match &self {
            WebError::MediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Method => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Core(CoreError::ShuttingDown) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Core(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let text = match &self {
            WebError::Core(e) => {
                warn!(error = %e, "a self-service page failed");
                "Something went wrong on the server. Try again later.".to_owned()
            }
            other => capitalise(&other.to_string()),
        };
        page::simple(status, "Sorry", &text)
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Adds a `Set-Cookie` header.
pub fn with_cookie(mut response: Response<Body>, cookie: &str) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The sign-in form `form` for a browser without a session, with its
/// pre-sign-in CSRF token.
pub fn sign_in_answer(
    face: &HttpFace,
    headers: &hyper::HeaderMap,
    status: StatusCode,
    form: &page::SignInForm,
    user: &str,
    note: Option<(&str, &str)>,
) -> Response<Body> {
    let token = FormToken::of(&face.web.sessions, headers);
    let body = page::sign_in_page(form, &token.value, user, note);
    token.apply(page::html(status, body))
}

/// The pre-sign-in CSRF token of this browser: the one in its cookie when
/// this server signed it, else a new one, sent along as a cookie.
pub struct FormToken {
    pub value: String,
    new: bool,
}

impl FormToken {
    pub fn of(sessions: &Sessions, headers: &hyper::HeaderMap) -> FormToken {
        match session::cookie(headers, session::CSRF_COOKIE) {
            Some(v) if sessions.form_token_valid(&v) => FormToken {
                value: v,
                new: false,
            },
            _ => FormToken {
                value: sessions.new_form_token(),
                new: true,
            },
        }
    }

    /// The response, with the cookie when the token is new.
    pub fn apply(&self, response: Response<Body>) -> Response<Body> {
        if self.new {
            with_cookie(
                response,
                &session::set_cookie(session::CSRF_COOKIE, Some(&self.value)),
            )
        } else {
            response
        }
    }
}

/// Serves one page request; `peer` is the client's address.
pub async fn handle(face: &HttpFace, request: Request<Incoming>, peer: Peer) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let result = match (&method, path.as_str()) {
        (&Method::GET, "/forgot") => Ok(forgot::show(face, &request)),
        (&Method::POST, "/forgot") => forgot::submit(face, request, peer.addr.ip()).await,
        (&Method::GET, "/reset") => reset::show(face, &request).await,
        (&Method::POST, "/reset") => reset::submit(face, request).await,
        (&Method::GET, "/account") => account::show(face, &request).await,
        (&Method::POST, "/account") => account::sign_in(face, request, peer).await,
        (&Method::POST, action) if action.starts_with("/account/") => {
            account::act(face, request, &action["/account/".len()..], peer.addr.ip()).await
        }
        (&Method::GET, "/") => Ok(admin::root(face, &request).await),
        (_, p) if admin::serves(p) => admin::handle(face, request, peer).await,
        (_, "/" | "/forgot" | "/reset" | "/account") => Err(WebError::Method),
        _ => Err(WebError::NotFound),
    };
    result.unwrap_or_else(WebError::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_defaults_to_the_https_listener() {
        let mut c = Config::default();
        let lo: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        assert_eq!(public_url(&c, Some(lo), None), "https://localhost:8443");
        let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        assert_eq!(public_url(&c, Some(v6), None), "https://[2001:db8::1]:443");
        let plain: SocketAddr = "192.0.2.1:8080".parse().unwrap();
        assert_eq!(public_url(&c, None, Some(plain)), "http://192.0.2.1:8080");
        c.http.public_url = Some("https://id.example.com/".into());
        assert_eq!(public_url(&c, Some(lo), None), "https://id.example.com");
    }

    #[test]
    fn pages_are_recognised() {
        for p in ["/forgot", "/reset", "/account", "/account/password"] {
            assert!(serves(p), "{p}");
        }
        for p in ["/admin", "/admin/accounts/new", "/"] {
            assert!(serves(p), "{p}");
        }
        for p in [
            "/accounts",
            "/administrator",
            "/scim/v2/Users",
            "/forgotten",
        ] {
            assert!(!serves(p), "{p}");
        }
    }
}
