//! `/reset?token=...`: a new password, twice, with a link from `/forgot`.
//! The token travels in a hidden field, never in a log, and no page leaks
//! it in a Referer (every page is `Referrer-Policy: no-referrer`).

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tracing::info;

use super::page::{csrf_field, escape, html, layout, message};
use super::{form, FormToken, WebError};
use crate::core::validate::PasswordRule;
use crate::core::CoreError;
use crate::http::{Body, HttpFace};

/// Longer than any token the core makes (43 characters): not worth hashing.
const MAX_TOKEN_LEN: usize = 128;

const TITLE: &str = "Set a new password";

fn token_from_query(request: &Request<Incoming>) -> String {
    request
        .uri()
        .query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

fn gone() -> Response<Body> {
    html(
        StatusCode::GONE,
        layout(
            TITLE,
            &format!(
                "{}<p><a href=\"/forgot\">Ask for a new link</a></p>",
                message(
                    "error",
                    "This link has expired or was already used. Ask for a new one."
                )
            ),
        ),
    )
}

fn form_page(csrf: &str, token: &str, problems: &[String]) -> String {
    let problems = match problems {
        [] => String::new(),
        many => format!(
            "<div class=\"error\" role=\"alert\"><p>The password was not set:</p><ul>{}</ul></div>",
            many.iter()
                .map(|p| format!("<li>{}</li>", escape(p)))
                .collect::<String>()
        ),
    };
    layout(
        TITLE,
        &format!(
            "{problems}<p>It needs an upper-case letter, a lower-case letter and a digit, and must not contain the word \"password\".</p>\
             <form method=\"post\" action=\"/reset\">{csrf}\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\
             <label for=\"password\">New password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required autofocus>\
             <label for=\"password2\">The same again</label>\
             <input id=\"password2\" name=\"password2\" type=\"password\" autocomplete=\"new-password\" required>\
             <button type=\"submit\">Set the password</button></form>",
            csrf = csrf_field(csrf),
            token = escape(token),
        ),
    )
}

/// Each broken rule of the policy, in words, as a sentence.
pub(super) fn rules_in_words(rules: &[PasswordRule]) -> Vec<String> {
    rules
        .iter()
        .map(|r| {
            let text = r.to_string();
            let text = text.strip_prefix("it ").unwrap_or(&text);
            format!("The password {text}.")
        })
        .collect()
}

async fn link_works(face: &HttpFace, token: &str) -> Result<bool, WebError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(false);
    }
    let token = token.to_owned();
    Ok(face
        .web_service
        .run(move |d| d.reset_link_works(&token))
        .await?)
}

pub async fn show(
    face: &HttpFace,
    request: &Request<Incoming>,
) -> Result<Response<Body>, WebError> {
    let token = token_from_query(request);
    if !link_works(face, &token).await? {
        return Ok(gone());
    }
    let csrf = FormToken::of(&face.web.sessions, request.headers());
    Ok(csrf.apply(html(StatusCode::OK, form_page(&csrf.value, &token, &[]))))
}

pub async fn submit(
    face: &HttpFace,
    request: Request<Incoming>,
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
    let csrf = fields.get("csrf");
    let token = fields.get("token").to_owned();
    if !link_works(face, &token).await? {
        return Ok(gone());
    }
    let password = fields.get("password");
    let again = fields.get("password2");
    if !super::session::same(password, again) {
        return Ok(html(
            StatusCode::BAD_REQUEST,
            form_page(
                csrf,
                &token,
                &["The two passwords are not the same.".to_owned()],
            ),
        ));
    }
    let prepared = match face.web_service.prepare_password(password.to_owned()).await {
        Ok(p) => p,
        Err(CoreError::PasswordPolicy(rules)) => {
            return Ok(html(
                StatusCode::BAD_REQUEST,
                form_page(csrf, &token, &rules_in_words(&rules)),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let spent = token.clone();
    match face
        .web_service
        .run(move |d| d.reset_password(&spent, prepared))
        .await
    {
        Ok(()) => {}
        // Spent or expired between the check and now.
        Err(CoreError::InvalidValue { .. }) => return Ok(gone()),
        Err(e) => return Err(e.into()),
    }
    info!("a password was set with a reset link");
    Ok(html(
        StatusCode::OK,
        layout(
            TITLE,
            &format!(
                "{}<p><a href=\"/account\">Sign in</a></p>",
                message(
                    "notice",
                    "Your new password is set. You can sign in with it now."
                )
            ),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_rules_read_as_sentences() {
        let words = rules_in_words(&[PasswordRule::Digit, PasswordRule::MinLength(8)]);
        assert_eq!(
            words,
            [
                "The password must contain a digit.",
                "The password must be at least 8 characters long."
            ]
        );
    }
}
