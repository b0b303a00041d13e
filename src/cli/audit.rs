//! `dirgate audit [--user U] [--since T] [--limit N] [--json]`: the audit
//! log, newest first.

use super::{open_directory, CliError, GlobalArgs};
use crate::config::Config;

pub fn run(
    global: &GlobalArgs,
    config: &Config,
    user: Option<String>,
    since: Option<String>,
    limit: u32,
    json: bool,
) -> Result<(), CliError> {
    let since = since
        .map(|t| parse_time(&t))
        .transpose()
        .map_err(CliError::Usage)?;
    let dir = open_directory(&global.data, config)?;
    let records = dir.audit_records(user.as_deref(), since, limit)?;
    if json {
        for r in &records {
            let line = serde_json::json!({
                "at": r.at.to_string(), "actor": r.actor, "face": r.face,
                "action": r.action, "target": r.target, "detail": r.detail,
                "result": r.result,
            });
            println!("{line}");
        }
        return Ok(());
    }
    for r in &records {
        println!(
            "{}  {:<5} {:<16} {:<22} {:<16} {}  [{}]",
            r.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            r.face,
            r.actor,
            r.action,
            r.target,
            r.detail,
            r.result
        );
    }
    Ok(())
}

/// An RFC 3339 time (`2026-11-23T10:00:00Z`) or a date (`2026-11-23`, UTC).
fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse::<jiff::Timestamp>()
        .or_else(|_| {
            text.parse::<jiff::civil::Date>()
                .map_err(|e| e.to_string())
                .and_then(|d| {
                    d.to_zoned(jiff::tz::TimeZone::UTC)
                        .map(|z| z.timestamp())
                        .map_err(|e| e.to_string())
                })
        })
        .map_err(|e| {
            format!("--since {text:?}: not a time like 2026-11-23T10:00:00Z or a date ({e})")
        })
}
