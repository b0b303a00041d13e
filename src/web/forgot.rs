//! `/forgot`: asks for a reset link. The answer is the same whether or not
//! an account matches; one client address may ask a limited number of
//! times an hour (the core limits links per account on its own). The link
//! is made and queued after the answer has gone.

use std::net::IpAddr;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tracing::{info, warn};

use super::page::{csrf_field, escape, html, layout, message};
use super::{form, FormToken, WebError};
use crate::http::{Body, HttpFace};

/// What every accepted request is told, account or not.
pub const ANSWER: &str =
    "If an account matches, a link is on its way to its email address. It works once, for an hour.";

fn form_page(token: &str, who: &str, problem: Option<&str>) -> String {
    let problem = problem.map(|p| message("error", p)).unwrap_or_default();
    layout(
        "Forgotten password",
        &format!(
            "{problem}<p>Enter your user name or email address. We will email you a link to set a new password.</p>\
             <form method=\"post\" action=\"/forgot\">{csrf}\
             <label for=\"who\">User name or email</label>\
             <input id=\"who\" name=\"who\" value=\"{who}\" autocomplete=\"username\" required autofocus>\
             <button type=\"submit\">Send the link</button></form>\
             <p><a href=\"/account\">Sign in</a></p>",
            csrf = csrf_field(token),
            who = escape(who),
        ),
    )
}

pub fn show(face: &HttpFace, request: &Request<Incoming>) -> Response<Body> {
    let token = FormToken::of(&face.web.sessions, request.headers());
    token.apply(html(StatusCode::OK, form_page(&token.value, "", None)))
}

pub async fn submit(
    face: &HttpFace,
    request: Request<Incoming>,
    client: IpAddr,
) -> Result<Response<Body>, WebError> {
    let headers = request.headers().clone();
    let fields = form::read(request).await?;
    if !face
        .web
        .sessions
        .form_token_matches(&headers, fields.get("csrf"))
    {
        return Err(WebError::Csrf);
    }
    let token = FormToken::of(&face.web.sessions, &headers);
    let who = fields.get("who").trim().to_owned();
    if who.is_empty() {
        return Ok(html(
            StatusCode::BAD_REQUEST,
            form_page(
                &token.value,
                "",
                Some("Enter your user name or email address."),
            ),
        ));
    }
    if !face.web.reset_requests.allow(client) {
        info!(%client, "too many password reset requests from one address");
        return Ok(html(
            StatusCode::TOO_MANY_REQUESTS,
            layout(
                "Forgotten password",
                &message(
                    "error",
                    "Too many requests came from your address. Wait an hour, then try again.",
                ),
            ),
        ));
    }
    // The request goes on without the answer waiting for it, so neither
    // the answer nor the time it takes differs for an account that exists;
    // a failure is logged, never shown.
    let base = face.web.public_url.clone();
    let service = face.web_service.clone();
    tokio::spawn(async move {
        let result = service
            .run(move |d| d.request_password_reset(&who, &base))
            .await;
        if let Err(e) = result {
            warn!(error = %e, "a password reset request failed");
        }
    });
    Ok(html(
        StatusCode::OK,
        layout(
            "Forgotten password",
            &format!(
                "{}<p><a href=\"/account\">Sign in</a></p>",
                message("notice", ANSWER)
            ),
        ),
    ))
}
