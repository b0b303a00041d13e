//! `dirgate computers`: the computers a user passed a second factor from,
//! which then ask for no code until they are forgotten or expire.

use super::{open_directory, CliError, ComputersCommand, GlobalArgs};
use crate::config::Config;
use crate::core::Actor;

pub fn run(global: &GlobalArgs, config: &Config, cmd: ComputersCommand) -> Result<(), CliError> {
    let dir = open_directory(&global.data, config)?;
    let system = Actor::System;
    match cmd {
        ComputersCommand::List { user } => {
            let account = dir.account_by_user_name(&system, &user)?;
            let computers = dir.computers(&system, account.id)?;
            println!(
                "{:<36}  {:<20}  {:<20}  {:<20}  COMPUTER",
                "ID", "FIRST SEEN", "LAST SEEN", "RECOGNISED UNTIL"
            );
            let time = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            for c in computers {
                println!(
                    "{:<36}  {:<20}  {:<20}  {:<20}  {}",
                    c.uuid,
                    time(c.first_seen),
                    time(c.last_seen),
                    time(c.expires),
                    c.computer
                );
            }
        }
        ComputersCommand::Revoke { user, id } => {
            let account = dir.account_by_user_name(&system, &user)?;
            let gone = dir.forget_computers(&system, account.id, id)?;
            if id.is_some() && gone == 0 {
                return Err(CliError::Usage(format!(
                    "{user} has no recognised computer with that id"
                )));
            }
            println!("{gone} computer(s) of {user} forgotten: they will ask for a code again");
        }
    }
    Ok(())
}
