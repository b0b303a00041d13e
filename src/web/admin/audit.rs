//! The audit log: by or about one account, since a day, newest first;
//! times in the signed-in account's time zone. The whole log is a super
//! admin's; anyone else reads one account it can see.

use hyper::{Response, StatusCode};
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::chrome::{page, when, Nav};
use super::{in_words, SignedIn};
use crate::http::{Body, HttpFace};
use crate::store::AuditRecord;
use crate::web::form::Form;
use crate::web::page::escape;
use crate::web::WebError;

/// Records on the page.
const LIMIT: u32 = 200;

/// Audit records as a table.
pub fn table(s: &SignedIn, records: &[AuditRecord]) -> String {
    if records.is_empty() {
        return "<p>None.</p>".into();
    }
    let mut out = String::from(
        "<div class=\"wrap\"><table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Who</th>\
         <th scope=\"col\">Face</th><th scope=\"col\">What</th><th scope=\"col\">Target</th>\
         <th scope=\"col\">Detail</th><th scope=\"col\">Result</th></tr></thead><tbody>",
    );
    for r in records {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&when(s, r.at)),
            escape(&r.actor),
            escape(&r.face),
            escape(&r.action),
            escape(&r.target),
            escape(&r.detail),
            escape(&r.result),
        ));
    }
    out.push_str("</tbody></table></div>");
    out
}

pub async fn show(face: &HttpFace, s: &SignedIn, q: &Form) -> Result<Response<Body>, WebError> {
    // Anyone but a super admin reads one account's records: their own
    // unless they name another.
    let user = match q.get("user").trim() {
        "" if !s.actor.is_super() => s.account.user_name.clone(),
        u => u.to_owned(),
    };
    let since_text = q.get("since").trim().to_owned();
    let mut problem = None;
    let since = if since_text.is_empty() {
        None
    } else {
        let zone = TimeZone::get(&s.account.time_zone).unwrap_or(TimeZone::UTC);
        match since_text
            .parse::<Date>()
            .ok()
            .and_then(|d| d.to_zoned(zone).ok())
        {
            Some(z) => Some(z.timestamp()),
            None => {
                problem = Some("The day must be written as YYYY-MM-DD.".to_owned());
                None
            }
        }
    };
    let wanted = (!user.is_empty()).then(|| user.clone());
    let records = if problem.is_some() {
        Vec::new()
    } else {
        match face
            .web_service
            .run_as(&s.actor, move |d, a| {
                d.audit_for(a, wanted.as_deref(), since, LIMIT)
            })
            .await
        {
            Ok(r) => r,
            Err(e) => {
                problem = Some(in_words(e)?);
                Vec::new()
            }
        }
    };
    let mut body = format!(
        "<form class=\"filters\" method=\"get\" action=\"/admin/audit\" role=\"search\">\
         <div><label for=\"user\">By or about (user name)</label><input id=\"user\" name=\"user\" value=\"{u}\" autocapitalize=\"none\"></div>\
         <div><label for=\"since\">Since (day, your time zone)</label><input id=\"since\" name=\"since\" type=\"date\" value=\"{since}\"></div>\
         <div><button type=\"submit\">Show</button></div></form><p>Times are in {tz}.</p>",
        u = escape(&user),
        since = escape(&since_text),
        tz = escape(&s.account.time_zone),
    );
    if let Some(p) = problem {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(&p)
        ));
    }
    body.push_str(&table(s, &records));
    Ok(page(StatusCode::OK, s, "Audit log", Nav::Audit, &body))
}
