//! The HTML around every self-service page: one layout, readable on a
//! phone, no script; `escape` for every value a page echoes; the security
//! headers every answer carries.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use crate::http::Body;

/// HTML-escapes text for an element's content or a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34em;margin:0 auto;padding:1em;line-height:1.5}\
label{display:block;margin-top:.8em}\
input,select,button{font-size:1em;width:100%;box-sizing:border-box;padding:.5em;margin-top:.2em}\
button{margin-top:1em}\
section{border-top:1px solid #ccc;margin-top:1.5em}\
.error{color:#a00}.notice{color:#060}\
svg{width:100%;max-width:16em;height:auto}\
code{word-break:break-all}";

/// A whole page: `body` is HTML the caller built with `escape`d values.
pub fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - dirgate</title><style>{STYLE}</style></head>\
         <body><h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title),
    )
}

/// A paragraph of class `error` (or `notice`) around an escaped message.
pub fn message(class: &str, text: &str) -> String {
    format!("<p class=\"{class}\" role=\"alert\">{}</p>", escape(text))
}

/// A hidden input carrying the CSRF token.
/// Where a sign-in form posts and how it is labelled (the pages' and the
/// console's).
pub struct SignInForm {
    pub title: &'static str,
    pub action: &'static str,
    pub name_label: &'static str,
}

/// The sign-in form of the pages and the console: a name (the user name,
/// the login name or an email address), the password, and a one-time code
/// when the account's method asks for one.
pub fn sign_in_page(
    form: &SignInForm,
    token: &str,
    user: &str,
    note: Option<(&str, &str)>,
) -> String {
    let SignInForm {
        title,
        action,
        name_label,
    } = form;
    let note = note
        .map(|(class, text)| message(class, text))
        .unwrap_or_default();
    layout(
        title,
        &format!(
            "{note}<form method=\"post\" action=\"{action}\">{csrf}\
             <label for=\"user\">{name_label}</label>\
             <input id=\"user\" name=\"user\" value=\"{user}\" autocomplete=\"username\" autocapitalize=\"none\" required>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <label for=\"code\">One-time code (if you were asked for one)</label>\
             <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"6\">\
             <button type=\"submit\">Sign in</button></form>\
             <p><a href=\"/forgot\">Forgotten your password?</a></p>",
            csrf = csrf_field(token),
            user = escape(user),
        ),
    )
}

pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(token)
    )
}

/// An HTML answer with the security headers.
pub fn html(status: StatusCode, html: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(html)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        (
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// A page with only a title and a message.
pub fn simple(status: StatusCode, title: &str, text: &str) -> Response<Body> {
    html(status, layout(title, &format!("<p>{}</p>", escape(text))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain Zoë"), "plain Zoë");
    }

    #[test]
    fn pages_carry_the_security_headers() {
        let r = simple(StatusCode::OK, "T<", "m&");
        let h = r.headers();
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
}
