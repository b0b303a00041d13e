//! `dirgate token`: bearer tokens for the SCIM endpoint.

use super::{open_directory, CliError, GlobalArgs, TokenCommand};
use crate::config::Config;
use crate::core::Actor;

pub fn run(global: &GlobalArgs, config: &Config, cmd: TokenCommand) -> Result<(), CliError> {
    let dir = open_directory(&global.data, config)?;
    match cmd {
        TokenCommand::Issue { user, expires_days } => {
            let (info, secret) = dir.issue_token(&Actor::System, &user, expires_days)?;
            eprintln!(
                "token {} for {} ({}); it is shown once:",
                info.id,
                info.user_name,
                match info.expires {
                    Some(t) => format!("expires {t}"),
                    None => "does not expire".into(),
                }
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            println!(
                "{:<36}  {:<20}  {:<8}  {:<25}  EXPIRES",
                "ID", "USER", "STATE", "CREATED"
            );
            for t in dir.list_tokens(&Actor::System)? {
                let state = if t.revoked { "revoked" } else { "live" };
                let expires = t.expires.map_or_else(|| "never".into(), |e| e.to_string());
                println!(
                    "{:<36}  {:<20}  {:<8}  {:<25}  {}",
                    t.id,
                    t.user_name,
                    state,
                    t.created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    expires
                );
            }
        }
        TokenCommand::Revoke { id } => {
            dir.revoke_token(&Actor::System, id)?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
