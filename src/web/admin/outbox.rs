//! The outbox: the newest email and SMS messages, their state and masked
//! text (never the secret they carried). Super admins only.

use hyper::{Response, StatusCode};

use super::chrome::{page, when, Nav};
use super::{in_words, SignedIn};
use crate::http::{Body, HttpFace};
use crate::web::page::escape;
use crate::web::WebError;

const LIMIT: u32 = 100;

pub async fn show(face: &HttpFace, s: &SignedIn) -> Result<Response<Body>, WebError> {
    let result = face
        .web_service
        .run_as(&s.actor, |d, a| d.outbox_for(a, LIMIT))
        .await;
    let body = match result {
        Err(e) => format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(&in_words(e)?)
        ),
        Ok(messages) if messages.is_empty() => "<p>No messages.</p>".into(),
        Ok(messages) => {
            let mut out = format!(
                "<p>Times are in {}.</p><div class=\"wrap\"><table><thead><tr><th scope=\"col\">Queued</th><th scope=\"col\">By</th>\
                 <th scope=\"col\">To</th><th scope=\"col\">State</th><th scope=\"col\">Attempts</th>\
                 <th scope=\"col\">Text (secret masked)</th><th scope=\"col\">Last error</th></tr></thead><tbody>",
                escape(&s.account.time_zone)
            );
            for m in &messages {
                out.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&when(s, m.created)),
                    escape(m.channel.display_name()),
                    escape(&m.recipient),
                    escape(m.state.as_str()),
                    m.attempts,
                    escape(&m.audit_body),
                    escape(m.last_error.as_deref().unwrap_or("")),
                ));
            }
            out.push_str("</tbody></table></div>");
            out
        }
    };
    Ok(page(StatusCode::OK, s, "Outbox", Nav::Outbox, &body))
}
