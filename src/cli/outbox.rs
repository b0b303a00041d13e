//! `dirgate outbox`: the newest queued, delivered and given-up messages,
//! with their masked text (never the body, which holds the secret).

use super::{open_directory, CliError, GlobalArgs};
use crate::config::Config;

pub fn run(global: &GlobalArgs, config: &Config, limit: u32) -> Result<(), CliError> {
    let dir = open_directory(&global.data, config)?;
    let messages = dir.store().recent_messages(limit)?;
    println!(
        "{:>6}  {:<5}  {:<30}  {:<9}  {:>8}  CREATED",
        "ID", "CHAN", "RECIPIENT", "STATE", "ATTEMPTS"
    );
    for m in messages {
        println!(
            "{:>6}  {:<5}  {:<30}  {:<9}  {:>8}  {}",
            m.id,
            m.channel.as_str(),
            m.recipient,
            m.state.as_str(),
            m.attempts,
            m.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        );
        println!("        text: {}", m.audit_body.replace('\n', " / "));
        if let Some(error) = &m.last_error {
            println!("        last error: {error}");
        }
    }
    Ok(())
}
