//! The page around every console page: the tabs, the signed-in account and
//! its sign-out button, a layout for tables that still reads on a phone;
//! times in the signed-in account's time zone.

use hyper::header::{HeaderValue, LOCATION};
use hyper::{Response, StatusCode};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::SignedIn;
use crate::http::Body;
use crate::web::page::{csrf_field, escape, html};

/// The tab a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Accounts,
    Groups,
    Tokens,
    Audit,
    Outbox,
    None,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72em;margin:0 auto;padding:.5em 1em;line-height:1.45}\
header{display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center;border-bottom:2px solid #2a4d7a;padding-bottom:.4em}\
header strong{margin-right:auto}\
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.2em;padding:0;margin:.3em 0}\
nav a{display:inline-block;padding:.35em .7em;border:1px solid #2a4d7a;border-radius:.3em;text-decoration:none;color:#2a4d7a}\
nav a[aria-current=page]{background:#2a4d7a;color:#fff}\
a:focus,button:focus,input:focus,select:focus{outline:3px solid #e8a33d;outline-offset:1px}\
label{display:block;margin-top:.7em;font-weight:600}\
input,select,button{font-size:1em;padding:.4em;margin-top:.2em;box-sizing:border-box}\
.form input:not([type=checkbox]),.form select{width:100%;max-width:28em}\
.form label.check{font-weight:normal}\
button{cursor:pointer;background:#2a4d7a;color:#fff;border:0;border-radius:.3em;padding:.5em 1em}\
button.quiet{background:#eee;color:#222;border:1px solid #999}\
.inline{display:inline}\
.inline button{margin:0}\
.wrap{overflow-x:auto}\
table{border-collapse:collapse;width:100%;font-size:.95em}\
th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #ddd;vertical-align:top}\
th{background:#f1f4f8}\
.error{color:#a00}.notice{color:#060}\
.field-error{color:#a00;margin:.2em 0 0;font-weight:normal}\
.filters{display:flex;flex-wrap:wrap;gap:.5em;align-items:flex-end}\
.filters label{margin:0}\
section{border-top:1px solid #ccc;margin-top:1.2em}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0}\
code{word-break:break-all}";

fn tab(nav: Nav, this: Nav, href: &str, label: &str) -> String {
    let current = if nav == this {
        " aria-current=\"page\""
    } else {
        ""
    };
    format!("<li><a href=\"{href}\"{current}>{label}</a></li>")
}

/// A console page: `body` is HTML built with `escape`d values.
pub fn page(status: StatusCode, s: &SignedIn, title: &str, nav: Nav, body: &str) -> Response<Body> {
    let tabs = [
        tab(nav, Nav::Accounts, "/admin/accounts", "User Accounts"),
        tab(nav, Nav::Groups, "/admin/groups", "Groups"),
        tab(nav, Nav::Tokens, "/admin/tokens", "Tokens"),
        tab(nav, Nav::Audit, "/admin/audit", "Audit log"),
        tab(nav, Nav::Outbox, "/admin/outbox", "Outbox"),
    ]
    .concat();
    let text = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - dirgate</title><style>{STYLE}</style></head><body>\
         <header><strong>dirgate · Server Settings</strong>\
         <span>Signed in as {user} ({kind})</span>\
         <a href=\"/account\">Your account</a>\
         <form class=\"inline\" method=\"post\" action=\"/admin/sign-out\">{csrf}\
         <button type=\"submit\" class=\"quiet\">Sign out</button></form></header>\
         <nav aria-label=\"Server Settings\"><ul>{tabs}</ul></nav>\
         <main><h1>{title}</h1>\n{body}\n</main></body></html>\n",
        title = escape(title),
        user = escape(&s.account.user_name),
        kind = escape(s.account.account_type.display_name()),
        csrf = csrf_field(&s.session.csrf),
    );
    html(status, text)
}

/// A `303 See Other` to `to` (a path of this server).
pub fn redirect(to: &str) -> Response<Body> {
    let mut response = html(StatusCode::SEE_OTHER, String::new());
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

/// A time as the signed-in account reads it, in its own time zone.
pub fn when(s: &SignedIn, t: Timestamp) -> String {
    let zone = TimeZone::get(&s.account.time_zone).unwrap_or(TimeZone::UTC);
    t.to_zoned(zone)
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// What the last action did, above a page.
pub enum Note {
    Done(String),
    Refused(String),
}

pub fn note(note: Option<&Note>) -> String {
    match note {
        None => String::new(),
        Some(Note::Done(t)) => format!("<p class=\"notice\" role=\"status\">{}</p>", escape(t)),
        Some(Note::Refused(t)) => format!("<p class=\"error\" role=\"alert\">{}</p>", escape(t)),
    }
}

/// A one-button form posting to `action`.
pub fn button(csrf: &str, action: &str, label: &str, quiet: bool) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{action}\">{csrf}\
         <button type=\"submit\"{class}>{label}</button></form>",
        action = escape(action),
        csrf = csrf_field(csrf),
        class = if quiet { " class=\"quiet\"" } else { "" },
        label = escape(label),
    )
}
