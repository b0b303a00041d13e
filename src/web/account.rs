//! `/account`: sign in (password, and a one-time code when the account's
//! method asks for one), then change one's own password, time zone and
//! authenticator app, and sign out. Every action is `POST /account/...`
//! with the session's CSRF token.

use std::net::IpAddr;
use std::sync::OnceLock;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{HeaderMap, Request, Response, StatusCode};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tracing::info;

use super::page::{csrf_field, escape, html, layout, message, SignInForm};
use super::reset::rules_in_words;
use super::session::{self, SessionView, SESSION_COOKIE};
use super::{form, sign_in_answer, with_cookie, WebError};
use crate::core::directory::AuthError;
use crate::core::second_factor::Computer;
use crate::core::{totp, AccountChange, Actor, CoreError};
use crate::http::{Body, HttpFace, Peer};
use crate::model::{Account, AuthMethod};

/// The issuer an authenticator app shows next to the code.
const ISSUER: &str = "dirgate";

// --- signed out ------------------------------------------------------------

/// The pages' sign-in form.
const SIGN_IN: SignInForm = SignInForm {
    title: "Sign in",
    action: "/account",
    name_label: "User name",
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

// --- the session -----------------------------------------------------------

pub(super) struct SignedIn {
    pub(super) session: SessionView,
    pub(super) actor: Actor,
    pub(super) account: Account,
}

/// Why there is no session to act in.
pub(super) enum NoSession {
    None,
    /// A reset was asked for since sign-in: the account is locked.
    ResetPending,
    /// The password was changed since sign-in (elsewhere).
    PasswordChanged,
}

pub(super) async fn signed_in(
    face: &HttpFace,
    headers: &HeaderMap,
) -> Result<Result<SignedIn, NoSession>, WebError> {
    let Some(id) = session::cookie(headers, SESSION_COOKIE) else {
        return Ok(Err(NoSession::None));
    };
    let Some(view) = face.web.sessions.get(&id) else {
        return Ok(Err(NoSession::None));
    };
    let account_id = view.account;
    let (actor, stamp) = match face
        .web_service
        .run(move |d| d.actor_with_password_stamp(account_id))
        .await
    {
        Ok(found) => found,
        // Gone, inactive or archived since sign-in.
        Err(CoreError::NotFound(_) | CoreError::AccountUnusable(_)) => {
            face.web.sessions.end(&view.id);
            return Ok(Err(NoSession::None));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(account) = actor.account().cloned() else {
        return Ok(Err(NoSession::None));
    };
    if account.reset_pending {
        face.web.sessions.end(&view.id);
        return Ok(Err(NoSession::ResetPending));
    }
    if stamp != view.stamp {
        face.web.sessions.end(&view.id);
        return Ok(Err(NoSession::PasswordChanged));
    }
    Ok(Ok(SignedIn {
        session: view,
        actor,
        account,
    }))
}

pub(super) const RESET_PENDING: &str = "A new password was asked for this account, so it cannot sign in until one is set: use the link sent to its email address, or ask for a new link.";

fn no_session(face: &HttpFace, headers: &HeaderMap, why: NoSession) -> Response<Body> {
    match why {
        NoSession::None => signed_out(
            face,
            headers,
            StatusCode::UNAUTHORIZED,
            "",
            Some((
                "error",
                "You are not signed in, or your session has ended. Sign in again.",
            )),
        ),
        NoSession::ResetPending => signed_out(
            face,
            headers,
            StatusCode::FORBIDDEN,
            "",
            Some(("error", RESET_PENDING)),
        ),
        NoSession::PasswordChanged => signed_out(
            face,
            headers,
            StatusCode::UNAUTHORIZED,
            "",
            Some((
                "error",
                "The password of this account was changed, so you were signed out. Sign in with the new one.",
            )),
        ),
    }
}

// --- pages -------------------------------------------------------------------

pub async fn show(
    face: &HttpFace,
    request: &Request<Incoming>,
) -> Result<Response<Body>, WebError> {
    let headers = request.headers();
    Ok(match signed_in(face, headers).await? {
        Ok(s) => dashboard(StatusCode::OK, &s, None),
        Err(NoSession::None) => signed_out(face, headers, StatusCode::OK, "", None),
        Err(why) => no_session(face, headers, why),
    })
}

/// What the last action did, shown above the forms.
enum Note {
    Done(String),
    Refused(Vec<String>),
}

pub(super) fn time_zone_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_owned())
            .filter(|n| n.contains('/') || n == "UTC")
            .filter(|n| {
                !n.starts_with("posix/") && !n.starts_with("right/") && !n.starts_with("Etc/")
            })
            .collect();
        names.sort();
        names.dedup();
        names
    })
}

fn time_zone_options(current: &str) -> String {
    let names = time_zone_names();
    let mut out = String::new();
    if !names.iter().any(|n| n == current) {
        out.push_str(&format!("<option selected>{}</option>", escape(current)));
    }
    for name in names {
        let selected = if name == current { " selected" } else { "" };
        out.push_str(&format!("<option{selected}>{}</option>", escape(name)));
    }
    out
}

/// The QR code of `uri` as inline SVG (no XML declaration).
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .build();
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen("<svg", "<svg role=\"img\" aria-label=\"QR code\"", 1))
}

fn enrolment_section(s: &SignedIn, csrf: &str) -> String {
    let a = &s.account;
    match &s.session.pending_totp {
        Some(secret) => {
            let uri = totp::otpauth_uri(ISSUER, &a.user_name, secret);
            let qr = qr_svg(&uri).unwrap_or_default();
            format!(
                "<p>Scan this code with your authenticator app, or open the link on this phone, \
                 or type the key in by hand. Then enter the 6-digit code the app shows.</p>\
                 {qr}<p><a href=\"{href}\">Open in the authenticator app</a></p>\
                 <p>Key: <code>{key}</code></p>\
                 <form method=\"post\" action=\"/account/totp/confirm\">{csrf}\
                 <label for=\"totp-code\">Code from the app</label>\
                 <input id=\"totp-code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"6\" required>\
                 <label for=\"totp-password\">Your current password</label>\
                 <input id=\"totp-password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
                 <button type=\"submit\">Confirm</button></form>\
                 <form method=\"post\" action=\"/account/totp/cancel\">{csrf}\
                 <button type=\"submit\">Cancel</button></form>",
                href = escape(&uri),
                key = escape(&totp::base32(secret)),
            )
        }
        None => {
            let (state, button) = if a.totp_enrolled {
                (
                    "An authenticator app is set up.",
                    "Replace the authenticator app",
                )
            } else {
                (
                    "No authenticator app is set up.",
                    "Set up an authenticator app",
                )
            };
            let used = if a.auth_method == AuthMethod::TwoFactorApp {
                ""
            } else {
                " Its codes are asked for once an administrator makes Two Factor App your sign-in method."
            };
            format!(
                "<p>{state}{used}</p><form method=\"post\" action=\"/account/totp\">{csrf}\
                 <button type=\"submit\">{button}</button></form>"
            )
        }
    }
}

fn dashboard(status: StatusCode, s: &SignedIn, note: Option<Note>) -> Response<Body> {
    let a = &s.account;
    let csrf = csrf_field(&s.session.csrf);
    let note = match note {
        None => String::new(),
        Some(Note::Done(text)) => message("notice", &text),
        Some(Note::Refused(problems)) => format!(
            "<div class=\"error\" role=\"alert\"><p>Nothing was changed:</p><ul>{}</ul></div>",
            problems
                .iter()
                .map(|p| format!("<li>{}</li>", escape(p)))
                .collect::<String>()
        ),
    };
    let zone = TimeZone::get(&a.time_zone).unwrap_or(TimeZone::UTC);
    let now = Timestamp::now()
        .to_zoned(zone)
        .strftime("%H:%M on %-d %B %Y")
        .to_string();
    let body = format!(
        "{note}<p>Signed in as <strong>{name}</strong> ({user}). It is {now} in {tz}. \
         You sign in with: {method}.</p>\
         <section><h2>Password</h2>\
         <form method=\"post\" action=\"/account/password\">{csrf}\
         <label for=\"old\">Current password</label>\
         <input id=\"old\" name=\"old\" type=\"password\" autocomplete=\"current-password\" required>\
         <label for=\"new\">New password</label>\
         <input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" required>\
         <label for=\"new2\">The same again</label>\
         <input id=\"new2\" name=\"new2\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Change the password</button></form></section>\
         <section><h2>Time zone</h2>\
         <form method=\"post\" action=\"/account/time-zone\">{csrf}\
         <label for=\"tz\">Times are shown to you in</label>\
         <select id=\"tz\" name=\"time_zone\">{options}</select>\
         <button type=\"submit\">Save the time zone</button></form></section>\
         <section><h2>Authenticator app</h2>{enrolment}</section>\
         <section><form method=\"post\" action=\"/account/sign-out\">{csrf}\
         <button type=\"submit\">Sign out</button></form></section>",
        name = escape(&a.display_name()),
        user = escape(&a.user_name),
        now = escape(&now),
        tz = escape(&a.time_zone),
        method = escape(a.auth_method.display_name()),
        options = time_zone_options(&a.time_zone),
        enrolment = enrolment_section(s, &s.session.csrf),
    );
    html(status, layout("Your account", &body))
}

// --- signing in ----------------------------------------------------------------

pub async fn sign_in(
    face: &HttpFace,
    request: Request<Incoming>,
    peer: Peer,
) -> Result<Response<Body>, WebError> {
    let headers = request.headers().clone();
    let fields = form::read(request).await?;
    let user = fields.get("user").trim().to_owned();
    match authenticate_form(face, &headers, &fields, peer, "/account").await? {
        Ok(response) => Ok(response),
        Err((status, class, text)) => Ok(signed_out(
            face,
            &headers,
            status,
            &user,
            Some((class, &text)),
        )),
    }
}

/// A refused sign-in: the status, the message's class and its text.
pub(super) type Refused = (StatusCode, &'static str, String);

/// Checks a posted sign-in form (CSRF token, the address's failures, user
/// name, password and code) and, when it succeeds, starts a session and
/// answers with a redirect to `then`. Shared by `/account` and `/admin`.
pub(super) async fn authenticate_form(
    face: &HttpFace,
    headers: &HeaderMap,
    fields: &form::Form,
    peer: Peer,
    then: &'static str,
) -> Result<Result<Response<Body>, Refused>, WebError> {
    let client = peer.addr.ip();
    if !face
        .web
        .sessions
        .form_token_matches(headers, fields.get("csrf"))
    {
        return Err(WebError::Csrf);
    }
    let user = fields.get("user").trim().to_owned();
    // Counted as a failure from the start; forgiven below when it is not.
    if !face.web.failed_sign_ins.begin(client) {
        info!(%client, "too many failed sign-ins from one address");
        return Ok(Err((
            StatusCode::TOO_MANY_REQUESTS,
            "error",
            "Too many sign-ins failed from your address. Wait a quarter of an hour, then try again."
                .to_owned(),
        )));
    }
    // Behind a proxy every client has the proxy's address: no computer is
    // recognised by it.
    let computer = if peer.via_proxy {
        Computer::Unknown
    } else {
        Computer::Address(client)
    };
    let password = fields.get("password");
    let code = fields.get("code").trim();
    let credential = if code.is_empty() {
        password.to_owned()
    } else {
        format!("{password};{code}")
    };
    let result = face
        .web_service
        .authenticate(user.clone(), credential, computer)
        .await;
    if !matches!(
        result,
        Err(AuthError::InvalidCredentials | AuthError::InvalidCode)
    ) {
        face.web.failed_sign_ins.forgive(client);
    }
    match result {
        Ok(account) => {
            // A session the browser held before ends: a new id at sign-in.
            if let Some(old) = session::cookie(headers, SESSION_COOKIE) {
                face.web.sessions.end(&old);
            }
            let id = account.id;
            let (_, stamp) = face
                .web_service
                .run(move |d| d.actor_with_password_stamp(id))
                .await?;
            let view = face.web.sessions.create(account.id, stamp);
            info!(user = %account.user_name, %client, page = then, "signed in");
            let mut response = html(StatusCode::SEE_OTHER, String::new());
            response
                .headers_mut()
                .insert(LOCATION, HeaderValue::from_static(then));
            Ok(Ok(with_cookie(
                response,
                &session::set_cookie(SESSION_COOKIE, Some(&view.id)),
            )))
        }
        Err(e) => Ok(Err(refusal(e)?)),
    }
}

/// What the sign-in form says when authentication did not succeed: the
/// status, the message's class and its text. Only a store failure is an
/// error.
fn refusal(e: AuthError) -> Result<(StatusCode, &'static str, String), CoreError> {
    Ok(match e {
        AuthError::InvalidCredentials => (
            StatusCode::UNAUTHORIZED,
            "error",
            "The user name or password is wrong, or the account is not active.".to_owned(),
        ),
        AuthError::ResetPending => (StatusCode::FORBIDDEN, "error", RESET_PENDING.to_owned()),
        AuthError::CodeSent { channel, to } => (
            StatusCode::OK,
            "notice",
            format!(
                "A code was sent by {} to {to}. Enter it below, with your password again.",
                channel.display_name()
            ),
        ),
        AuthError::SecondFactorRequired(AuthMethod::TwoFactorApp) => (
            StatusCode::OK,
            "notice",
            "Enter the 6-digit code from your authenticator app, with your password again."
                .to_owned(),
        ),
        AuthError::SecondFactorRequired(_) => (
            StatusCode::OK,
            "notice",
            "Enter the 6-digit code you were sent, with your password again.".to_owned(),
        ),
        AuthError::InvalidCode => (
            StatusCode::UNAUTHORIZED,
            "error",
            "The one-time code is wrong, expired or already used. Enter your password and a new code."
                .to_owned(),
        ),
        e @ (AuthError::NotEnrolled
        | AuthError::ChannelNotConfigured(_)
        | AuthError::NoAddress(_)) => (
            StatusCode::FORBIDDEN,
            "error",
            super::capitalise(&e.to_string()) + ".",
        ),
        AuthError::Core(e) => return Err(e),
    })
}

// --- actions -------------------------------------------------------------------

pub async fn act(
    face: &HttpFace,
    request: Request<Incoming>,
    action: &str,
    client: IpAddr,
) -> Result<Response<Body>, WebError> {
    if !matches!(
        action,
        "password" | "time-zone" | "totp" | "totp/confirm" | "totp/cancel" | "sign-out"
    ) {
        return Err(WebError::NotFound);
    }
    let headers = request.headers().clone();
    let fields = form::read(request).await?;
    let mut s = match signed_in(face, &headers).await? {
        Ok(s) => s,
        Err(why) => return Ok(no_session(face, &headers, why)),
    };
    if !session::same(&s.session.csrf, fields.get("csrf")) {
        return Err(WebError::Csrf);
    }
    let note = match action {
        "password" => change_password(face, &s, &fields, client).await?,
        "time-zone" => {
            let tz = fields.get("time_zone").trim().to_owned();
            let id = s.account.id;
            let change = AccountChange {
                time_zone: Some(tz),
                ..AccountChange::default()
            };
            match face
                .web_service
                .run_as(&s.actor, move |d, a| d.update_account(a, id, change, None))
                .await
            {
                Ok(account) => {
                    let note = format!("Your time zone is now {}.", account.time_zone);
                    s.account = account;
                    Note::Done(note)
                }
                Err(e @ CoreError::InvalidTimeZone(_)) => {
                    Note::Refused(vec![super::capitalise(&e.to_string()) + "."])
                }
                Err(e) => return Err(e.into()),
            }
        }
        "totp" => {
            let secret = totp::new_secret();
            face.web
                .sessions
                .set_pending_totp(&s.session.id, Some(secret.clone()));
            s.session.pending_totp = Some(secret);
            Note::Done("Add the account to your authenticator app.".into())
        }
        "totp/confirm" => {
            let Some(secret) = s.session.pending_totp.clone() else {
                return Ok(dashboard(
                    StatusCode::BAD_REQUEST,
                    &s,
                    Some(Note::Refused(vec![
                        "Start setting up the authenticator app first.".into(),
                    ])),
                ));
            };
            let code = fields.get("code").trim().to_owned();
            let current = fields.get("password").to_owned();
            match face
                .web_service
                .enrol_own_totp(&s.actor, secret, code, current, Some(client))
                .await
            {
                Ok(()) => {
                    face.web.sessions.set_pending_totp(&s.session.id, None);
                    s.session.pending_totp = None;
                    s.account.totp_enrolled = true;
                    info!(user = %s.account.user_name, "enrolled an authenticator app");
                    Note::Done("Your authenticator app is set up.".into())
                }
                Err(AuthError::InvalidCredentials) => {
                    return Ok(dashboard(
                        StatusCode::BAD_REQUEST,
                        &s,
                        Some(Note::Refused(vec![
                            "The current password is wrong. A new authenticator app needs it."
                                .into(),
                        ])),
                    ))
                }
                Err(AuthError::Core(CoreError::InvalidValue { .. })) => {
                    return Ok(dashboard(
                        StatusCode::BAD_REQUEST,
                        &s,
                        Some(Note::Refused(vec![
                            "That code is not the one the app shows now. Check the phone's clock and try the newest code."
                                .into(),
                        ])),
                    ))
                }
                Err(AuthError::Core(e)) => return Err(e.into()),
                Err(_) => {
                    return Ok(dashboard(
                        StatusCode::BAD_REQUEST,
                        &s,
                        Some(Note::Refused(vec!["The app could not be set up.".into()])),
                    ))
                }
            }
        }
        "totp/cancel" => {
            face.web.sessions.set_pending_totp(&s.session.id, None);
            s.session.pending_totp = None;
            Note::Done("Nothing was changed.".into())
        }
        _ => {
            // "sign-out"
            face.web.sessions.end(&s.session.id);
            let response = signed_out(
                face,
                &headers,
                StatusCode::OK,
                "",
                Some(("notice", "You are signed out.")),
            );
            return Ok(with_cookie(
                response,
                &session::set_cookie(SESSION_COOKIE, None),
            ));
        }
    };
    let status = match note {
        Note::Done(_) => StatusCode::OK,
        Note::Refused(_) => StatusCode::BAD_REQUEST,
    };
    Ok(dashboard(status, &s, Some(note)))
}

async fn change_password(
    face: &HttpFace,
    s: &SignedIn,
    fields: &form::Form,
    client: IpAddr,
) -> Result<Note, WebError> {
    let new = fields.get("new");
    if !session::same(new, fields.get("new2")) {
        return Ok(Note::Refused(vec![
            "The two new passwords are not the same.".into(),
        ]));
    }
    // The core owns the order: the right, then the current password
    // (throttled and audited), then the policy.
    let result = face
        .web_service
        .change_password(
            &s.actor,
            s.account.user_name.clone(),
            Some(fields.get("old").to_owned()),
            new.to_owned(),
            Some(client),
        )
        .await;
    let id = match result {
        Ok(id) => id,
        Err(AuthError::Core(CoreError::PasswordPolicy(rules))) => {
            return Ok(Note::Refused(rules_in_words(&rules)))
        }
        Err(AuthError::Core(e)) => return Err(e.into()),
        Err(_) => return Ok(Note::Refused(vec!["The current password is wrong.".into()])),
    };
    // This session goes on with the new password; any other ends.
    let (_, stamp) = face
        .web_service
        .run(move |d| d.actor_with_password_stamp(id))
        .await?;
    face.web.sessions.set_stamp(&s.session.id, stamp);
    face.web.sessions.end_others(id, &s.session.id);
    info!(user = %s.account.user_name, "changed the password on the account page");
    Ok(Note::Done(
        "Your password is changed. Your other sessions were ended, and computers remembered for two-factor sign-in were forgotten."
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Channel;

    #[test]
    fn refusals_say_what_to_do() {
        let (status, class, text) = refusal(AuthError::CodeSent {
            channel: Channel::Sms,
            to: "+44 *** *** 123".into(),
        })
        .unwrap();
        assert_eq!((status, class), (StatusCode::OK, "notice"));
        assert_eq!(
            text,
            "A code was sent by SMS to +44 *** *** 123. Enter it below, with your password again."
        );
        let (status, _, text) = refusal(AuthError::InvalidCredentials).unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(text.contains("wrong"));
        let (status, _, text) = refusal(AuthError::ResetPending).unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(text.contains("ask for a new link"));
        let (_, _, text) = refusal(AuthError::NoAddress(Channel::Email)).unwrap();
        assert!(text.starts_with("The account has no"), "{text}");
        assert!(text.ends_with('.'));
        let (_, _, text) =
            refusal(AuthError::SecondFactorRequired(AuthMethod::TwoFactorApp)).unwrap();
        assert!(text.contains("authenticator app"));
        assert!(refusal(AuthError::Core(CoreError::ShuttingDown)).is_err());
    }
}
