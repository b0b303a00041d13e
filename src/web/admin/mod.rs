//! The administrator's console at `/admin`: the manual's Server Settings ›
//! User Accounts, the organisation tree, bearer tokens, the audit log and
//! the outbox. Plain forms without script, like the self-service pages,
//! and the same sessions (a session begun on `/account` serves here too).
//!
//! The console has no rule of its own: every page asks the core, as the
//! signed-in account, what to show and whether to change it, so it shows
//! and refuses exactly what LDAP and SCIM would.
//!
//! One file a page: `sign_in`, `accounts` (the list), `add`, `entry` (one
//! account, its edit and actions), `groups`, `tokens`, `audit`, `outbox`;
//! `account_form` is the account's fields (shared by Add and the entry),
//! `chrome` the page around them.

mod account_form;
mod accounts;
mod add;
mod audit;
mod chrome;
mod entry;
mod groups;
mod outbox;
mod sign_in;
mod tokens;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::account::{signed_in, NoSession, SignedIn};
use super::{form, session, WebError};
use crate::core::CoreError;
use crate::http::{Body, HttpFace, Peer};

pub(super) use chrome::redirect;

/// Whether `path` belongs to the console.
pub fn serves(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// A signed-in request: the session and the form, CSRF checked.
pub(super) struct Posted {
    pub s: SignedIn,
    pub fields: form::Form,
}

/// The query string of a GET as a form.
fn query(request: &Request<Incoming>) -> form::Form {
    form::Form::parse(request.uri().query().unwrap_or("").as_bytes())
}

/// Serves one console request.
pub async fn handle(
    face: &HttpFace,
    request: Request<Incoming>,
    peer: Peer,
) -> Result<Response<Body>, WebError> {
    let path = request.uri().path().trim_end_matches('/').to_owned();
    let rest = path.strip_prefix("/admin").unwrap_or("");
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let method = request.method().clone();
    if method == Method::POST && parts == ["sign-in"] {
        return sign_in::submit(face, request, peer).await;
    }
    let headers = request.headers().clone();
    let s = match signed_in(face, &headers).await? {
        Ok(s) => s,
        Err(why) => return Ok(sign_in::page_for(face, &headers, why, &method)),
    };
    if method == Method::GET {
        let q = query(&request);
        return match parts.as_slice() {
            [] | ["accounts"] => accounts::show(face, &s, &q).await,
            ["accounts", "new"] => add::show(face, &s).await,
            ["accounts", user] => entry::show(face, &s, user, entry::note_from(&q)).await,
            ["groups"] => groups::show(face, &s, None).await,
            ["groups", id] => groups::show_one(face, &s, id, None).await,
            ["tokens"] => tokens::show(face, &s, None).await,
            ["audit"] => audit::show(face, &s, &q).await,
            ["outbox"] => outbox::show(face, &s).await,
            _ => Err(WebError::NotFound),
        };
    }
    if method != Method::POST {
        return Err(WebError::Method);
    }
    let fields = form::read(request).await?;
    if !session::same(&s.session.csrf, fields.get("csrf")) {
        return Err(WebError::Csrf);
    }
    let p = Posted { s, fields };
    match parts.as_slice() {
        ["sign-out"] => Ok(sign_in::sign_out(face, &headers, &p.s)),
        ["accounts", "new"] => add::submit(face, p).await,
        ["accounts", user, "computers", c] => {
            entry::act(face, p, user, &format!("computers/{c}")).await
        }
        ["accounts", user, action] => entry::act(face, p, user, action).await,
        ["groups", "new"] => groups::create(face, p).await,
        ["groups", id, action] => groups::act(face, p, id, action).await,
        ["tokens", "issue"] => tokens::issue(face, p).await,
        ["tokens", id, "revoke"] => tokens::revoke(face, p, id).await,
        _ => Err(WebError::NotFound),
    }
}

/// `/`: the console for a signed-in browser, else the account page.
pub async fn root(face: &HttpFace, request: &Request<Incoming>) -> Response<Body> {
    let to = match signed_in(face, request.headers()).await {
        Ok(Ok(_)) => "/admin",
        _ => "/account",
    };
    redirect(to)
}

/// A refusal of the core in words for the person at the console, or the
/// error itself when it is the server's (a store failure).
pub(super) fn in_words(e: CoreError) -> Result<String, WebError> {
    Ok(match e {
        CoreError::Store(_) | CoreError::Hashing(_) | CoreError::ShuttingDown => {
            return Err(e.into())
        }
        CoreError::PasswordPolicy(rules) => super::reset::rules_in_words(&rules).join(" "),
        CoreError::Forbidden(reason) => super::capitalise(&reason) + ".",
        other => super::capitalise(&other.to_string()) + ".",
    })
}

/// The status of a page that shows a refusal of the core: 403 when the
/// rules forbid it, else 400 (a value the person can correct).
pub(super) fn refusal_status(e: &CoreError) -> StatusCode {
    match e {
        CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// What an entry that is hidden or missing answers: the same page.
pub(super) fn missing(s: &SignedIn, what: &str) -> Response<Body> {
    chrome::page(
        StatusCode::NOT_FOUND,
        s,
        "Not found",
        chrome::Nav::None,
        &format!(
            "<p>There is no such {} here.</p>",
            super::page::escape(what)
        ),
    )
}
