//! The command line: `dirgate serve`, `token`, `user`. Commands other than
//! `serve` open the same store the daemon uses (SQLite WAL allows both at
//! once) and act as the operator.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::core::model::Account;
use crate::core::password::PasswordHasher;
use crate::core::validate::PasswordPolicy;
use crate::core::{Actor, CoreError, Directory};
use crate::store::{SqliteStore, StoreError};

/// The store file inside the data folder.
pub const DATABASE_FILE: &str = "dirgate.db";

#[derive(Debug, Parser)]
#[command(
    name = "dirgate",
    version,
    about = "An LDAP and SCIM 2.0 directory gateway"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The data folder: the SQLite store and the generated certificate.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "dirgate-data"
    )]
    pub data: PathBuf,
    /// The TOML configuration file (every key has a default; see
    /// dirgate.example.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: LDAP (127.0.0.1:3389), LDAPS (127.0.0.1:3636) and
    /// HTTPS with SCIM under /scim/v2 (127.0.0.1:8443), by default.
    ///
    /// Configuration keys (TOML, all optional): [directory] base_dn,
    /// default_time_zone; [ldap] listen, ldaps_listen, allow_insecure_bind,
    /// anonymous, max_connections, idle_timeout_secs, max_message_bytes,
    /// max_search_entries; [http] https_listen, http_listen, max_body_bytes,
    /// idle_timeout_secs; [tls] cert_file, key_file; [password] min_length,
    /// argon2_memory_kib, argon2_iterations, argon2_parallelism; [store]
    /// readers; [workers] password_threads; [log] format, level. A listener
    /// set to "off" is not started. See dirgate.example.toml for each key.
    Serve,
    /// Bearer tokens for the SCIM endpoint.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Accounts, for bootstrap and recovery.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new bearer token that acts with USER's rights.
    Issue {
        user: String,
        /// Days until the token expires (default: never).
        #[arg(long, value_name = "N")]
        expires_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke the token with this id.
    Revoke { id: uuid::Uuid },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Set USER's password, read from standard input (one line).
    SetPassword {
        user: String,
        /// Read the password from standard input (the only way: a password
        /// on the command line would show in the process list).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Show an account (never its password).
    Show { user: String },
}

/// Why a command failed, for a one-line message and a non-zero exit.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Core(#[from] CoreError),
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}

/// Opens the store in `data` and the core over it, as configured.
pub fn open_directory(data: &Path, config: &Config) -> Result<Directory, CliError> {
    std::fs::create_dir_all(data).map_err(|source| CliError::Io {
        context: format!("cannot create the data folder {}", data.display()),
        source,
    })?;
    let store = SqliteStore::open(&data.join(DATABASE_FILE), config.store.readers)?;
    let p = &config.password;
    let hasher = PasswordHasher::new(
        p.argon2_memory_kib,
        p.argon2_iterations,
        p.argon2_parallelism,
    )?;
    let policy = PasswordPolicy {
        min_length: p.min_length,
    };
    Ok(Directory::new(
        Arc::new(store),
        policy,
        hasher,
        config.directory.default_time_zone.clone(),
    )?)
}

pub fn run_token(global: &GlobalArgs, config: &Config, cmd: TokenCommand) -> Result<(), CliError> {
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

pub fn run_user(global: &GlobalArgs, config: &Config, cmd: UserCommand) -> Result<(), CliError> {
    let dir = open_directory(&global.data, config)?;
    match cmd {
        UserCommand::SetPassword { user, .. } => {
            let password = read_password_line()?;
            let account = dir.account_by_user_name(&Actor::System, &user)?;
            let prepared = dir.prepare_password(&password)?;
            dir.set_password(&Actor::System, account.id, prepared)?;
            println!("password of {} changed", account.user_name);
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
    line("id", a.uuid.to_string());
    line("first name", a.given_name.clone());
    line("last name", a.family_name.clone());
    line("email", a.email.clone().unwrap_or_default());
    line("mobile phone", a.mobile.clone().unwrap_or_default());
    line("time zone", a.time_zone.clone());
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
    line("created", a.created.to_string());
    line("modified", a.modified.to_string());
    Ok(out)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}
