//! An account's entry: every field (the user name in plain sight, for the
//! manager whose sub-user lost it), its edit and Save, Status Active or
//! Inactive (nothing is deleted), a password-reset link, resetting its
//! authenticator app, its recognised computers, groups, sub-users and
//! recent audit rows. What is offered is what the core lets the signed-in
//! account do; an account it may not see answers like a missing one.

use hyper::{Response, StatusCode};
use tracing::info;

use super::account_form::{self, optional, Choices, Errors, Mode, Values};
use super::chrome::{button, note, page, when, Nav, Note};
use super::{in_words, missing, refusal_status, Posted, SignedIn};
use crate::core::second_factor::masked;
use crate::core::{AccountChange, CoreError};
use crate::http::{Body, HttpFace};
use crate::model::query::{AccountField, Filter, Slice, Test, Value};
use crate::model::{Account, AdminLevel, Channel};
use crate::store::{AuditRecord, RecognisedComputer};
use crate::web::form::Form;
use crate::web::page::{csrf_field, escape};
use crate::web::WebError;

/// Everything the entry shows, read as the signed-in account.
struct Entry {
    account: Account,
    values: Values,
    manages: bool,
    groups: Vec<String>,
    sub_users: Vec<Account>,
    computers: Vec<RecognisedComputer>,
    audit: Vec<AuditRecord>,
    choices: Choices,
    restricted_name: String,
    entity_name: String,
}

/// The note a redirect asked for.
pub fn note_from(q: &Form) -> Option<Note> {
    match q.get("note") {
        "added" => Some(Note::Done("The account was added.".into())),
        "added-without-level" => Some(Note::Refused(
            "The account was added, but its admin level was refused.".into(),
        )),
        _ => None,
    }
}

async fn load(face: &HttpFace, s: &SignedIn, user: &str) -> Result<Option<Entry>, WebError> {
    let user = user.to_owned();
    let found = face
        .web_service
        .run_as(&s.actor, move |d, a| {
            let account = match d.account_by_user_name(a, &user) {
                Ok(account) => account,
                Err(CoreError::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            let related = d.related(a, &[&account], &[])?;
            let node = |id: Option<i64>| -> Option<crate::model::Node> {
                id.and_then(|i| d.node(a, i).ok())
            };
            let restricted = node(account.restricted_to);
            let entity = node(account.admin_entity);
            let manager = account
                .manager
                .and_then(|m| related.account_names.get(&m).cloned());
            let values = Values::of(
                &account,
                restricted.as_ref(),
                entity.as_ref(),
                manager.as_deref(),
            );
            let groups = related
                .groups_of
                .get(&account.id)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|g| related.node_names.get(g).cloned())
                        .collect()
                })
                .unwrap_or_default();
            let subs = Filter::Test(
                AccountField::Manager,
                Test::Equals(Value::Text(account.user_name.clone())),
            );
            let sub_users = d.search_accounts(a, &subs, None, Slice::first(200))?;
            let manages = d.may_manage(a, &account)?;
            let computers = if manages {
                d.computers(a, account.id)?
            } else {
                Vec::new()
            };
            let audit = d.audit_for(a, Some(&account.user_name), None, 20)?;
            let choices = Choices::for_actor(a, d.restriction_choices(a)?, d.grantable_roles(a)?);
            Ok(Some(Entry {
                restricted_name: restricted.map(|n| n.name).unwrap_or_default(),
                entity_name: entity.map(|n| n.name).unwrap_or_default(),
                account,
                values,
                manages,
                groups,
                sub_users,
                computers,
                audit,
                choices,
            }))
        })
        .await?;
    Ok(found)
}

pub async fn show(
    face: &HttpFace,
    s: &SignedIn,
    user: &str,
    n: Option<Note>,
) -> Result<Response<Body>, WebError> {
    render(face, s, user, n, None, StatusCode::OK).await
}

async fn render(
    face: &HttpFace,
    s: &SignedIn,
    user: &str,
    n: Option<Note>,
    edited: Option<(Values, Errors)>,
    status: StatusCode,
) -> Result<Response<Body>, WebError> {
    let Some(e) = load(face, s, user).await? else {
        return Ok(missing(s, "account"));
    };
    let a = &e.account;
    let csrf = &s.session.csrf;
    let base = format!("/admin/accounts/{}", escape(&a.user_name));
    let dd = |v: &str| {
        if v.is_empty() {
            "—".to_owned()
        } else {
            escape(v)
        }
    };
    let mut body = format!(
        "<p><a href=\"/admin/accounts\">User Accounts</a> › {u}</p>{note}\
         <dl><dt>User Name</dt><dd>{u}</dd><dt>First Name</dt><dd>{first}</dd>\
         <dt>Last Name</dt><dd>{last}</dd><dt>Email Address</dt><dd>{email}</dd>\
         <dt>Mobile Phone</dt><dd>{mobile}</dd><dt>Authentication Method</dt><dd>{method}</dd>\
         <dt>Time Zone</dt><dd>{tz}</dd><dt>Account Type</dt><dd>{kind}</dd>\
         <dt>Restrict Access To</dt><dd>{restricted}</dd><dt>Manager</dt><dd>{manager}</dd>\
         <dt>Security Roles</dt><dd>{roles}</dd><dt>Admin Level</dt><dd>{level}{entity}</dd>\
         <dt>Status</dt><dd>{status}</dd><dt>Password</dt><dd>{password}</dd>\
         <dt>Authenticator app</dt><dd>{app}</dd>\
         {login}{directory}\
         <dt>Created</dt><dd>{created}</dd><dt>Changed</dt><dd>{modified}</dd></dl>",
        u = escape(&a.user_name),
        // What an identity provider calls the account, and the directory
        // attributes it sent (set over SCIM).
        login = a
            .login_name
            .as_deref()
            .map(|l| format!("<dt>Login Name</dt><dd>{}</dd>", escape(l)))
            .unwrap_or_default(),
        directory = a
            .attributes
            .iter()
            .map(|(attr, v)| format!(
                "<dt>{}</dt><dd>{}</dd>",
                escape(attr.display_name()),
                escape(v)
            ))
            .collect::<String>(),
        note = note(n.as_ref()),
        first = dd(&a.given_name),
        last = dd(&a.family_name),
        email = dd(a.email.as_deref().unwrap_or("")),
        mobile = dd(a.mobile.as_deref().unwrap_or("")),
        method = escape(a.auth_method.display_name()),
        tz = escape(&a.time_zone),
        kind = escape(a.account_type.display_name()),
        restricted = dd(&e.restricted_name),
        manager = dd(&e.values.manager),
        roles = dd(&a.roles.join(", ")),
        level = escape(a.admin_level.display_name()),
        entity = if e.entity_name.is_empty() {
            String::new()
        } else {
            format!(" of {}", escape(&e.entity_name))
        },
        status = escape(a.status.display_name()),
        password = if a.reset_pending {
            "a new password is required (reset pending)"
        } else if a.has_password {
            "set"
        } else {
            "none"
        },
        app = if a.totp_enrolled { "set up" } else { "none" },
        created = escape(&when(s, a.created)),
        modified = escape(&when(s, a.modified)),
    );
    if e.manages {
        let (values, errors) = edited.unwrap_or_else(|| (e.values.clone(), Errors::default()));
        body.push_str(&format!(
            "<section><h2>Edit</h2>{summary}<form class=\"form\" method=\"post\" action=\"{base}/save\" novalidate>{csrf_in}{fields}\
             <p><button type=\"submit\">Save</button></p></form></section>",
            summary = errors.summary(),
            csrf_in = csrf_field(csrf),
            fields = account_form::fields(Mode::Edit, &values, &errors, &e.choices),
        ));
        let reset_to = a
            .email
            .as_deref()
            .map(|m| format!(" (to {})", escape(&masked(Channel::Email, m))))
            .unwrap_or_default();
        body.push_str(&format!(
            "<section><h2>Password and authenticator app</h2>\
             <p>A reset link lets the person set a new password{reset_to}; until then the account cannot sign in or bind.</p>\
             <p>{reset} {app}</p></section>",
            reset = button(csrf, &format!("{base}/reset-link"), "Send a password-reset link", false),
            app = button(csrf, &format!("{base}/reset-app"), "Reset the authenticator app", true),
        ));
        body.push_str("<section><h2>Recognised computers</h2>");
        if e.computers.is_empty() {
            body.push_str("<p>None: the next two-factor sign-in asks for a code.</p>");
        } else {
            body.push_str("<div class=\"wrap\"><table><thead><tr><th scope=\"col\">Computer</th><th scope=\"col\">Last seen</th><th scope=\"col\">Until</th><th scope=\"col\"></th></tr></thead><tbody>");
            for c in &e.computers {
                body.push_str(&format!(
                    "<tr><td>{name}</td><td>{seen}</td><td>{until}</td><td>{revoke}</td></tr>",
                    name = escape(&c.computer),
                    seen = escape(&when(s, c.last_seen)),
                    until = escape(&when(s, c.expires)),
                    revoke = button(
                        csrf,
                        &format!("{base}/computers/{}", c.uuid),
                        "Revoke",
                        true
                    ),
                ));
            }
            body.push_str("</tbody></table></div>");
        }
        body.push_str("</section>");
    } else {
        if let Some((_, errors)) = &edited {
            body.push_str(&errors.summary());
        }
        body.push_str("<p>You may read this account, not change it.</p>");
    }
    body.push_str("<section><h2>Groups</h2>");
    if e.groups.is_empty() {
        body.push_str("<p>None.</p>");
    } else {
        body.push_str("<ul>");
        for g in &e.groups {
            body.push_str(&format!("<li>{}</li>", escape(g)));
        }
        body.push_str("</ul>");
    }
    body.push_str("</section><section><h2>Sub-users</h2>");
    if e.sub_users.is_empty() {
        body.push_str("<p>None.</p>");
    } else {
        body.push_str("<ul>");
        for u in &e.sub_users {
            body.push_str(&format!(
                "<li><a href=\"/admin/accounts/{n}\">{n}</a> {name} ({st})</li>",
                n = escape(&u.user_name),
                name = escape(&u.display_name()),
                st = escape(u.status.display_name()),
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("</section><section><h2>Recent audit records</h2>");
    body.push_str(&super::audit::table(s, &e.audit));
    body.push_str("</section>");
    Ok(page(
        status,
        s,
        &format!("Account {}", a.user_name),
        Nav::Accounts,
        &body,
    ))
}

/// The change the edit form asks for: only the fields it alters.
fn change(
    current: &Values,
    v: &Values,
    r: &account_form::Resolved,
    a: &Account,
    offered: &[String],
) -> AccountChange {
    let mut c = AccountChange::default();
    if v.user_name != current.user_name {
        c.user_name = Some(v.user_name.clone());
    }
    if v.first_name != current.first_name {
        c.given_name = Some(v.first_name.clone());
    }
    if v.last_name != current.last_name {
        c.family_name = Some(v.last_name.clone());
    }
    if v.email != current.email {
        c.email = Some(optional(&v.email));
    }
    if v.mobile != current.mobile {
        c.mobile = Some(optional(&v.mobile));
    }
    if v.time_zone != current.time_zone {
        c.time_zone = Some(v.time_zone.clone());
    }
    if r.account_type != a.account_type {
        c.account_type = Some(r.account_type);
    }
    if r.auth_method != a.auth_method {
        c.auth_method = Some(r.auth_method);
    }
    if v.restricted_to != current.restricted_to {
        c.restricted_to = Some(r.restricted_to);
    }
    if v.manager != current.manager {
        c.manager = Some(r.manager);
    }
    // Roles the form did not offer (the signed-in account lacks them) stay.
    let mut roles: Vec<String> = a
        .roles
        .iter()
        .filter(|r| !offered.iter().any(|o| o.eq_ignore_ascii_case(r)))
        .cloned()
        .collect();
    roles.extend(v.roles.iter().cloned());
    roles.sort();
    roles.dedup();
    let sorted_new = roles.clone();
    let mut sorted_old = a.roles.clone();
    sorted_old.sort();
    if sorted_new != sorted_old {
        c.roles = Some(roles);
    }
    if r.status != a.status {
        c.status = Some(r.status);
    }
    c
}

pub async fn act(
    face: &HttpFace,
    p: Posted,
    user: &str,
    action: &str,
) -> Result<Response<Body>, WebError> {
    let s = &p.s;
    let Some(e) = load(face, s, user).await? else {
        return Ok(missing(s, "account"));
    };
    let id = e.account.id;
    let name = e.account.user_name.clone();
    let result: Result<Note, CoreError> = match action {
        "save" => {
            let v = Values::from_form(&p.fields, &e.values);
            let checked = v.clone();
            let (r, mut errors) = face
                .web_service
                .run_as(&s.actor, move |d, a| account_form::check(d, a, &checked, Mode::Edit))
                .await?;
            if !errors.is_empty() {
                return render(face, s, user, None, Some((v, errors)), StatusCode::BAD_REQUEST).await;
            }
            let c = change(&e.values, &v, &r, &e.account, &e.choices.roles);
            let level = (e.choices.admin_levels
                && (r.admin_level != e.account.admin_level || r.admin_entity != e.account.admin_entity))
                .then_some((r.admin_level, r.admin_entity));
            let done = face
                .web_service
                .run_as(&s.actor, move |d, a| {
                    let account = d.update_account(a, id, c, None)?;
                    if let Some((level, entity)) = level {
                        let entity = if level == AdminLevel::AccountAdmin { entity } else { None };
                        d.set_admin_level(a, id, level, entity)?;
                    }
                    Ok(account)
                })
                .await;
            match done {
                Ok(account) => {
                    info!(admin = %s.account.user_name, user = %account.user_name, "changed an account in the console");
                    return render(
                        face,
                        s,
                        &account.user_name,
                        Some(Note::Done("Saved.".into())),
                        None,
                        StatusCode::OK,
                    )
                    .await;
                }
                Err(err) => {
                    let field = account_form::field_of(&err);
                    let status = refusal_status(&err);
                    errors.add(field, in_words(err)?);
                    return render(face, s, user, None, Some((v, errors)), status).await;
                }
            }
        }
        "reset-link" => {
            let base = face.web.public_url.clone();
            face.web_service
                .run_as(&s.actor, move |d, a| d.send_reset_link(a, id, &base))
                .await
                .map(|()| Note::Done(format!(
                    "A reset link was sent to {name}'s email address (at most 3 an hour). The account cannot sign in until a new password is set."
                )))
        }
        "reset-app" => face
            .web_service
            .run_as(&s.actor, move |d, a| d.set_totp_secret(a, id, None))
            .await
            .map(|()| Note::Done("The authenticator app was reset: the person sets up a new one on their account page.".into())),
        computer => {
            let Some(which) = computer
                .strip_prefix("computers/")
                .and_then(|c| c.parse::<uuid::Uuid>().ok())
            else {
                return Err(WebError::NotFound);
            };
            face.web_service
                .run_as(&s.actor, move |d, a| d.forget_computers(a, id, Some(which)))
                .await
                .map(|n| Note::Done(format!("{n} computer forgotten: the next two-factor sign-in from it asks for a code.")))
        }
    };
    let (status, n) = match result {
        Ok(n) => (StatusCode::OK, n),
        Err(err) => (StatusCode::FORBIDDEN, Note::Refused(in_words(err)?)),
    };
    render(face, s, &name, Some(n), None, status).await
}
