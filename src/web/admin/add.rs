//! Server Settings › User Accounts › Add: the manual's form, "Add Account".
//! Every problem is named beside its field; the form keeps what was typed,
//! except the passwords.

use hyper::{Response, StatusCode};
use tracing::info;

use super::account_form::{self, optional, Choices, Errors, Mode, Values};
use super::chrome::{page, redirect, Nav};
use super::{in_words, refusal_status, Posted, SignedIn};
use crate::core::access::{self, Scope};
use crate::core::{CoreError, NewAccount};
use crate::http::{Body, HttpFace};
use crate::model::AdminLevel;
use crate::web::page::{csrf_field, escape};
use crate::web::reset::rules_in_words;
use crate::web::{session, WebError};

async fn choices(face: &HttpFace, s: &SignedIn) -> Result<Choices, WebError> {
    let (nodes, roles) = face
        .web_service
        .run_as(&s.actor, |d, a| {
            Ok((d.restriction_choices(a)?, d.grantable_roles(a)?))
        })
        .await?;
    Ok(Choices::for_actor(&s.actor, nodes, roles))
}

fn form(s: &SignedIn, status: StatusCode, v: &Values, e: &Errors, c: &Choices) -> Response<Body> {
    let body = format!(
        "<p><a href=\"/admin/accounts\">User Accounts</a> › Add</p>{summary}\
         <p>Fill in the following information about the user account, and click Add Account.</p>\
         <form class=\"form\" method=\"post\" action=\"/admin/accounts/new\" novalidate>{csrf}{fields}\
         <p><button type=\"submit\">Add Account</button></p></form>",
        summary = e.summary(),
        csrf = csrf_field(&s.session.csrf),
        fields = account_form::fields(Mode::Add, v, e, c),
    );
    page(status, s, "Add a User Account", Nav::Accounts, &body)
}

pub async fn show(face: &HttpFace, s: &SignedIn) -> Result<Response<Body>, WebError> {
    let c = choices(face, s).await?;
    let restricted_to = match access::scope(&s.actor) {
        Scope::Subtree(root) => c
            .nodes
            .iter()
            .find(|n| n.id == root)
            .map(|n| n.uuid.to_string())
            .unwrap_or_default(),
        Scope::Everywhere => String::new(),
    };
    let v = Values {
        time_zone: s.account.time_zone.clone(),
        auth_method: "password".into(),
        account_type: "report-reader".into(),
        restricted_to,
        admin_level: "none".into(),
        ..Values::default()
    };
    let mut e = Errors::default();
    if !face
        .web_service
        .run_as(&s.actor, |d, a| Ok(d.may_create_accounts(a)))
        .await?
    {
        e.add("", "Your account may not add accounts: it is read only, or lacks the user-management role.");
    }
    Ok(form(s, StatusCode::OK, &v, &e, &c))
}

pub async fn submit(face: &HttpFace, p: Posted) -> Result<Response<Body>, WebError> {
    let s = &p.s;
    let c = choices(face, s).await?;
    let v = Values::from_form(&p.fields, &Values::default());
    let checked = v.clone();
    let (resolved, mut e) = face
        .web_service
        .run_as(&s.actor, move |d, a| {
            account_form::check(d, a, &checked, Mode::Add)
        })
        .await?;
    let password = p.fields.get("password").to_owned();
    let mut prepared = None;
    if password.is_empty() {
        e.add("password", "Enter a password for the account.");
    } else if !session::same(&password, p.fields.get("password2")) {
        e.add("password", "The two passwords are not the same.");
    } else {
        match face.web_service.prepare_password(password).await {
            Ok(pw) => prepared = Some(pw),
            Err(CoreError::PasswordPolicy(rules)) => {
                for r in rules_in_words(&rules) {
                    e.add("password", r);
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    if !e.is_empty() {
        return Ok(form(s, StatusCode::BAD_REQUEST, &v, &e, &c));
    }
    let new = NewAccount {
        user_name: v.user_name.clone(),
        password: prepared,
        given_name: v.first_name.clone(),
        family_name: v.last_name.clone(),
        email: optional(&v.email),
        mobile: optional(&v.mobile),
        time_zone: optional(&v.time_zone),
        account_type: resolved.account_type,
        auth_method: resolved.auth_method,
        restricted_to: resolved.restricted_to,
        manager: resolved.manager,
        roles: v.roles.clone(),
        status: resolved.status,
        external_id: None,
        login_name: None,
        attributes: Default::default(),
    };
    let level = (c.admin_levels && resolved.admin_level != AdminLevel::None)
        .then_some((resolved.admin_level, resolved.admin_entity));
    let created = face
        .web_service
        .run_as(&s.actor, move |d, a| {
            let account = d.create_account(a, new)?;
            // The admin level is a second step: the account stands even
            // when it is refused, and its entry says so.
            let level_ok = match level {
                Some((level, entity)) => d.set_admin_level(a, account.id, level, entity).is_ok(),
                None => true,
            };
            Ok((account, level_ok))
        })
        .await;
    match created {
        Ok((account, level_ok)) => {
            info!(admin = %s.account.user_name, user = %account.user_name, "added an account in the console");
            let note = if level_ok {
                "added"
            } else {
                "added-without-level"
            };
            Ok(redirect(&format!(
                "/admin/accounts/{}?note={note}",
                escape(&account.user_name)
            )))
        }
        Err(err) => {
            let field = account_form::field_of(&err);
            let status = refusal_status(&err);
            let text = in_words(err)?;
            e.add(field, text);
            Ok(form(s, status, &v, &e, &c))
        }
    }
}
