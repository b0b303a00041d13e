//! SCIM bearer tokens: one's own (issue, shown once; revoke), and for a
//! super admin those of every account.

use hyper::{Response, StatusCode};
use tracing::info;

use super::chrome::{button, note, page, when, Nav, Note};
use super::{in_words, Posted, SignedIn};
use crate::http::{Body, HttpFace};
use crate::web::page::{csrf_field, escape};
use crate::web::WebError;

/// Days a token issued here lasts unless the form says otherwise.
const DEFAULT_DAYS: u32 = 90;

pub async fn show(
    face: &HttpFace,
    s: &SignedIn,
    n: Option<Note>,
) -> Result<Response<Body>, WebError> {
    render(face, s, n, None).await
}

async fn render(
    face: &HttpFace,
    s: &SignedIn,
    n: Option<Note>,
    issued: Option<String>,
) -> Result<Response<Body>, WebError> {
    let tokens = face
        .web_service
        .run_as(&s.actor, |d, a| d.list_tokens(a))
        .await?;
    let csrf = &s.session.csrf;
    let mut body = note(n.as_ref());
    if let Some(secret) = issued {
        body.push_str(&format!(
            "<div class=\"notice\" role=\"status\"><p>The new token, shown this once (copy it now; only its hash is kept):</p>\
             <p><code id=\"new-token\">{}</code></p></div>",
            escape(&secret)
        ));
    }
    body.push_str(&format!(
        "<p>A token acts over SCIM with the rights of its account.</p>\
         <form class=\"form\" method=\"post\" action=\"/admin/tokens/issue\">{c}\
         <label for=\"days\">Expires after (days)</label><input id=\"days\" name=\"days\" inputmode=\"numeric\" value=\"{DEFAULT_DAYS}\">",
        c = csrf_field(csrf)
    ));
    if s.actor.is_super() {
        body.push_str(&format!(
            "<label for=\"token-user\">For the account (user name)</label>\
             <input id=\"token-user\" name=\"user\" value=\"{}\" autocapitalize=\"none\">",
            escape(&s.account.user_name)
        ));
    }
    body.push_str("<p><button type=\"submit\">Issue a token</button></p></form>");
    body.push_str("<div class=\"wrap\"><table><thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Created</th>\
                   <th scope=\"col\">Expires</th><th scope=\"col\">State</th><th scope=\"col\"></th></tr></thead><tbody>");
    for t in &tokens {
        let revoke = if t.revoked {
            String::new()
        } else {
            button(
                csrf,
                &format!("/admin/tokens/{}/revoke", t.id),
                "Revoke",
                true,
            )
        };
        body.push_str(&format!(
            "<tr><td>{u}</td><td>{c}</td><td>{e}</td><td>{st}</td><td>{revoke}</td></tr>",
            u = escape(&t.user_name),
            c = escape(&when(s, t.created)),
            e = escape(
                &t.expires
                    .map(|e| when(s, e))
                    .unwrap_or_else(|| "never".into())
            ),
            st = if t.revoked { "revoked" } else { "live" },
        ));
    }
    body.push_str("</tbody></table></div>");
    Ok(page(StatusCode::OK, s, "Tokens", Nav::Tokens, &body))
}

pub async fn issue(face: &HttpFace, p: Posted) -> Result<Response<Body>, WebError> {
    let s = &p.s;
    let days_text = p.fields.get("days").trim();
    let days = if days_text.is_empty() {
        None
    } else {
        match days_text.parse::<u32>() {
            Ok(d) if d > 0 => Some(d),
            _ => {
                return render(
                    face,
                    s,
                    Some(Note::Refused(
                        "The expiry must be a whole number of days.".into(),
                    )),
                    None,
                )
                .await
            }
        }
    };
    let user = match p.fields.get("user").trim() {
        "" => s.account.user_name.clone(),
        u => u.to_owned(),
    };
    let result = face
        .web_service
        .run_as(&s.actor, move |d, a| d.issue_token(a, &user, days))
        .await;
    match result {
        Ok((info, secret)) => {
            info!(admin = %s.account.user_name, user = %info.user_name, id = %info.id, "issued a bearer token in the console");
            render(face, s, None, Some(secret)).await
        }
        Err(e) => render(face, s, Some(Note::Refused(in_words(e)?)), None).await,
    }
}

pub async fn revoke(face: &HttpFace, p: Posted, id: &str) -> Result<Response<Body>, WebError> {
    let s = &p.s;
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Err(WebError::NotFound);
    };
    let result = face
        .web_service
        .run_as(&s.actor, move |d, a| d.revoke_token(a, id))
        .await;
    let n = match result {
        Ok(()) => Note::Done("The token is revoked.".into()),
        Err(e) => Note::Refused(in_words(e)?),
    };
    render(face, s, Some(n), None).await
}
