//! `dirgate user`: accounts, for bootstrap and recovery.

use std::io::Read as _;

use super::{open_directory, AccountFields, CliError, GlobalArgs, UserCommand};
use crate::config::Config;
use crate::core::{totp, AccountChange, Actor, CoreError, Directory, NewAccount};
use crate::model::{Account, AdminLevel};

pub fn run(global: &GlobalArgs, config: &Config, cmd: UserCommand) -> Result<(), CliError> {
    let dir = open_directory(&global.data, config)?;
    match cmd {
        UserCommand::SetPassword { user, .. } => {
            let password = read_password_line()?;
            let account = dir.account_by_user_name(&Actor::System, &user)?;
            let prepared = dir.prepare_password(&password)?;
            dir.set_password(&Actor::System, account.id, prepared)?;
            println!("password of {} changed", account.user_name);
        }
        UserCommand::Add {
            user,
            fields,
            password_stdin,
        } => add(&dir, user, fields, password_stdin)?,
        UserCommand::Set {
            user,
            user_name,
            fields,
            status,
            admin,
            admin_entity,
        } => set(
            &dir,
            user,
            user_name,
            fields,
            status,
            admin.map(|a| (a, admin_entity)),
        )?,
        UserCommand::EnrolTotp { user } => enrol_totp(&dir, &user)?,
        UserCommand::RequireReset { user } => {
            let account = dir.account_by_user_name(&Actor::System, &user)?;
            dir.require_password_reset(&Actor::System, account.id)?;
            println!(
                "{} must set a new password before signing in again",
                account.user_name
            );
        }
        UserCommand::Show { user } => {
            let account = dir.account_by_user_name(&Actor::System, &user)?;
            print!("{}", describe(&dir, &account)?);
        }
    }
    Ok(())
}

/// One line from standard input, without its line ending.
fn read_password_line() -> Result<String, CliError> {
    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .map_err(|source| CliError::Io {
            context: "cannot read the password from standard input".into(),
            source,
        })?;
    let line = input.lines().next().unwrap_or("").to_owned();
    if line.is_empty() {
        return Err(CliError::Usage(
            "no password on standard input (give it as one line)".into(),
        ));
    }
    Ok(line)
}

/// `user show`: every field an operator may need, never a secret.
fn describe(dir: &Directory, a: &Account) -> Result<String, CliError> {
    let store = dir.store();
    let node_name = |id| -> Result<String, CliError> {
        Ok(store.node(id)?.map_or_else(|| format!("#{id}"), |n| n.name))
    };
    let account_name = |id| -> Result<String, CliError> {
        Ok(store
            .account(id)?
            .map_or_else(|| format!("#{id}"), |m| m.user_name))
    };
    let groups = store
        .memberships(a.id)?
        .into_iter()
        .map(node_name)
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<24}{v}\n"));
    line("user name", a.user_name.clone());
    if let Some(login) = &a.login_name {
        line("login name", login.clone());
    }
    line("id", a.uuid.to_string());
    line("first name", a.given_name.clone());
    line("last name", a.family_name.clone());
    line("email", a.email.clone().unwrap_or_default());
    line("mobile phone", a.mobile.clone().unwrap_or_default());
    line("time zone", a.time_zone.clone());
    for (attr, value) in a.attributes.iter() {
        line(
            &attr.display_name().to_ascii_lowercase(),
            value.replace('\n', " / "),
        );
    }
    line("account type", a.account_type.display_name().into());
    line("authentication method", a.auth_method.display_name().into());
    line(
        "restrict access to",
        a.restricted_to
            .map(node_name)
            .transpose()?
            .unwrap_or_else(|| "(none)".into()),
    );
    line(
        "manager",
        a.manager
            .map(account_name)
            .transpose()?
            .unwrap_or_else(|| "(none)".into()),
    );
    let admin = match a.admin_entity {
        Some(e) => format!("{} of {}", a.admin_level.display_name(), node_name(e)?),
        None => a.admin_level.display_name().into(),
    };
    line("admin level", admin);
    line("security roles", a.roles.join(", "));
    line("groups", groups.join(", "));
    line("status", a.status.display_name().into());
    line("archived", yes_no(a.archived));
    line("password set", yes_no(a.has_password));
    line("reset pending", yes_no(a.reset_pending));
    line("authenticator app", yes_no(a.totp_enrolled));
    line("external id", a.external_id.clone().unwrap_or_default());
    // Directory attributes (title, department, POSIX values...), one line
    // a value.
    for (attr, value) in a.attributes.iter() {
        for v in attr.values(value) {
            line(&attr.display_name().to_lowercase(), v.to_owned());
        }
    }
    line("created", a.created.to_string());
    line("modified", a.modified.to_string());
    Ok(out)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn add(
    dir: &Directory,
    user: String,
    fields: AccountFields,
    password_stdin: bool,
) -> Result<(), CliError> {
    let sys = Actor::System;
    let mut new = NewAccount::named(user);
    if password_stdin {
        new.password = Some(dir.prepare_password(&read_password_line()?)?);
    }
    new.given_name = fields.first_name.unwrap_or_default();
    new.family_name = fields.last_name.unwrap_or_default();
    new.email = fields.email;
    new.mobile = fields.mobile;
    new.time_zone = fields.time_zone;
    if let Some(t) = fields.account_type {
        new.account_type = t.parse().map_err(CoreError::from)?;
    }
    if let Some(m) = fields.auth_method {
        new.auth_method = m.parse().map_err(CoreError::from)?;
    }
    new.restricted_to = match fields.restrict_to.as_deref() {
        None | Some("") => None,
        Some(name) => Some(dir.node_by_name(&sys, name)?.id),
    };
    new.manager = fields
        .manager
        .map(|m| dir.account_by_user_name(&sys, &m).map(|a| a.id))
        .transpose()?;
    new.roles = fields.roles;
    for (a, v) in fields.posix.attributes() {
        new.attributes.set(a, v);
    }
    let account = dir.create_account(&sys, new)?;
    println!("created {} ({})", account.user_name, account.uuid);
    Ok(())
}

fn set(
    dir: &Directory,
    user: String,
    user_name: Option<String>,
    fields: AccountFields,
    status: Option<String>,
    admin: Option<(String, Option<String>)>,
) -> Result<(), CliError> {
    let sys = Actor::System;
    let account = dir.account_by_user_name(&sys, &user)?;
    let mut change = AccountChange {
        user_name,
        given_name: fields.first_name,
        family_name: fields.last_name,
        email: fields.email.map(|e| Some(e).filter(|e| !e.is_empty())),
        mobile: fields.mobile.map(|m| Some(m).filter(|m| !m.is_empty())),
        time_zone: fields.time_zone,
        ..AccountChange::default()
    };
    if let Some(t) = fields.account_type {
        change.account_type = Some(t.parse().map_err(CoreError::from)?);
    }
    if let Some(m) = fields.auth_method {
        change.auth_method = Some(m.parse().map_err(CoreError::from)?);
    }
    if let Some(r) = fields.restrict_to {
        change.restricted_to = Some(if r.is_empty() {
            None
        } else {
            Some(dir.node_by_name(&sys, &r)?.id)
        });
    }
    if let Some(m) = fields.manager {
        change.manager = Some(if m.is_empty() {
            None
        } else {
            Some(dir.account_by_user_name(&sys, &m)?.id)
        });
    }
    if !fields.roles.is_empty() {
        change.roles = Some(fields.roles);
    }
    change.attributes = fields.posix.attributes();
    if let Some(s) = status {
        change.status = Some(s.parse().map_err(CoreError::from)?);
    }
    dir.update_account(&sys, account.id, change, None)?;
    if let Some((level, entity)) = admin {
        let level: AdminLevel = match level.to_ascii_lowercase().as_str() {
            "super" => AdminLevel::SuperAdmin,
            "account" => AdminLevel::AccountAdmin,
            other => other.parse().map_err(CoreError::from)?,
        };
        let entity = entity
            .map(|e| dir.node_by_name(&sys, &e).map(|n| n.id))
            .transpose()?;
        dir.set_admin_level(&sys, account.id, level, entity)?;
    }
    println!("changed {}", account.user_name);
    Ok(())
}

fn enrol_totp(dir: &Directory, user: &str) -> Result<(), CliError> {
    let sys = Actor::System;
    let account = dir.account_by_user_name(&sys, user)?;
    let secret = totp::new_secret();
    dir.set_totp_secret(&sys, account.id, Some(secret.clone()))?;
    eprintln!(
        "authenticator app enrolled for {}; the secret is shown once:",
        account.user_name
    );
    println!(
        "{}",
        totp::otpauth_uri("dirgate", &account.user_name, &secret)
    );
    println!("{}", totp::base32(&secret));
    Ok(())
}
