//! The command line: `dirgate serve`, `token`, `user`. Commands other than
//! `serve` open the same store the daemon uses (SQLite WAL allows both at
//! once) and act as the operator.

mod audit;
mod backup;
mod computers;
mod group;
mod import;
mod outbox;
mod token;
mod user;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::core::password::PasswordHasher;
use crate::core::second_factor::SecondFactorSettings;
use crate::core::validate::PasswordPolicy;
use crate::core::{CoreError, Directory};
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
    /// Log as JSON lines (for a log collector), whatever [log] format says.
    #[arg(long, global = true)]
    pub log_json: bool,
}

// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: LDAP (127.0.0.1:3389), LDAPS (127.0.0.1:3636) and
    /// HTTPS with SCIM under /scim/v2 (127.0.0.1:8443), by default.
    ///
    /// Configuration keys (TOML, all optional): [directory] base_dn,
    /// default_time_zone; [ldap] listen, ldaps_listen, allow_insecure_bind,
    /// anonymous, max_connections, idle_timeout_secs, max_message_bytes,
    /// max_search_entries; [http] https_listen, http_listen, max_body_bytes,
    /// max_connections, idle_timeout_secs; [tls] cert_file, key_file; [password] min_length,
    /// argon2_memory_kib, argon2_iterations, argon2_parallelism; [store]
    /// readers; [workers] password_threads; [log] format, level; [email]
    /// host, port, security, username, password, password_file, ca_file,
    /// from, timeout_secs; [sms] provider, url, format, body_template,
    /// fields, from, username, password, password_file, account,
    /// auth_header, timeout_secs; [outbox] max_attempts,
    /// retry_base_secs, poll_secs; [scim] user_names; [posix] uid_min,
    /// uid_max, gid_min, gid_max, default_gid, home_directory,
    /// login_shell. A listener
    /// set to "off" is not started. See dirgate.example.toml for each key.
    Serve,
    /// Bearer tokens for the SCIM endpoint.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Accounts: create, change, show, set passwords, enrol authenticator apps.
    #[command(subcommand)]
    User(UserCommand),
    /// Business entities and groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Computers a user is recognised from after a two-factor bind.
    #[command(subcommand)]
    Computers(ComputersCommand),
    /// Write a consistent copy of the store to FILE (a new file), while the
    /// daemon serves.
    Backup { file: PathBuf },
    /// Replace the store with the backup FILE; the daemon must be stopped.
    Restore { file: PathBuf },
    /// The audit log, newest first: every change (who, through which face,
    /// what, the result) and every failed authentication.
    Audit {
        /// Only events by or about this user.
        #[arg(long)]
        user: Option<String>,
        /// Only events at or after this time (2026-11-23T10:00:00Z or 2026-11-23).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Write everything out: LDIF (what LDAP shows) or JSON (what SCIM
    /// shows), to standard output. No password hashes unless --secrets.
    Export {
        #[arg(long, value_parser = ["ldif", "json"], default_value = "ldif")]
        format: String,
        /// Include password hashes.
        #[arg(long)]
        secrets: bool,
    },
    /// Import people and groups from an LDIF export (OpenLDAP's slapcat or
    /// ldapsearch); password hashes are kept and replaced by argon2id at
    /// each account's next bind.
    Import {
        file: PathBuf,
        /// Check the file and say what would be imported; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The newest messages of the outbox (codes and links sent by email or
    /// SMS): state, attempts, last error and the text with its secret
    /// masked; never the secret itself.
    Outbox {
        /// How many messages to show, newest first.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ComputersCommand {
    /// List the computers USER is recognised from.
    List { user: String },
    /// Forget one computer (by its id from `list`), or all of USER's.
    Revoke {
        user: String,
        id: Option<uuid::Uuid>,
    },
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
    /// Create an account (as the operator; the rules of the core apply).
    Add {
        user: String,
        #[command(flatten)]
        fields: AccountFields,
        /// Read the first password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an account's data.
    Set {
        user: String,
        /// A new user name (letters and digits): the LDAP uid and what the
        /// person types, also for one derived from an identity provider's
        /// login name.
        #[arg(long, value_name = "NAME")]
        user_name: Option<String>,
        #[command(flatten)]
        fields: AccountFields,
        /// active or inactive (accounts are never deleted).
        #[arg(long)]
        status: Option<String>,
        /// Make the account a super admin, an account admin (with
        /// --admin-entity), or neither: super, account, none.
        #[arg(long, value_name = "LEVEL")]
        admin: Option<String>,
        /// The business entity an account admin administers.
        #[arg(long, value_name = "ENTITY")]
        admin_entity: Option<String>,
    },
    /// Give the account a new authenticator-app secret and print it (as an
    /// otpauth:// URI and in base32) for the user's app.
    EnrolTotp { user: String },
    /// Require a password change: the account cannot authenticate until its
    /// password is set again.
    RequireReset { user: String },
}

/// Account fields shared by `user add` and `user set`.
#[derive(Debug, Clone, Default, Args)]
pub struct AccountFields {
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub mobile: Option<String>,
    /// An IANA time zone, such as Europe/London.
    #[arg(long)]
    pub time_zone: Option<String>,
    /// Administrator, Report Reader or Remote Assistance Technician.
    #[arg(long = "type", value_name = "TYPE")]
    pub account_type: Option<String>,
    /// Password, Two Factor Email, Two Factor Email Everytime, Two Factor
    /// SMS, Two Factor SMS Everytime or Two Factor App.
    #[arg(long = "method", value_name = "METHOD")]
    pub auth_method: Option<String>,
    /// Restrict the account to this group or business entity ("" lifts it).
    #[arg(long, value_name = "GROUP")]
    pub restrict_to: Option<String>,
    /// The account above this one in the sub-user hierarchy.
    #[arg(long, value_name = "USER")]
    pub manager: Option<String>,
    /// A security role (repeat for several); replaces the account's roles.
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    #[command(flatten)]
    pub posix: PosixFields,
}

/// The POSIX values Linux hosts read ("" removes one; a uidNumber stays).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PosixFields {
    /// The POSIX uidNumber (unique; allocated when not given).
    #[arg(long, value_name = "NUMBER")]
    pub uid_number: Option<String>,
    /// The POSIX primary group number.
    #[arg(long, value_name = "NUMBER")]
    pub gid_number: Option<String>,
    #[arg(long, value_name = "PATH")]
    pub home_directory: Option<String>,
    #[arg(long, value_name = "PATH")]
    pub login_shell: Option<String>,
    #[arg(long)]
    pub gecos: Option<String>,
    /// An OpenSSH public key (repeat for several); replaces the account's
    /// keys. `--ssh-key ""` removes them.
    #[arg(long = "ssh-key", value_name = "KEY")]
    pub ssh_keys: Vec<String>,
}

impl PosixFields {
    /// The directory attributes given, `None` where "" removes one.
    pub fn attributes(self) -> Vec<(crate::model::Attribute, Option<String>)> {
        use crate::model::Attribute as A;
        let keys = (!self.ssh_keys.is_empty()).then(|| self.ssh_keys.join("\n"));
        [
            (A::UidNumber, self.uid_number),
            (A::GidNumber, self.gid_number),
            (A::HomeDirectory, self.home_directory),
            (A::LoginShell, self.login_shell),
            (A::Gecos, self.gecos),
            (A::SshPublicKeys, keys),
        ]
        .into_iter()
        .filter_map(|(a, v)| Some((a, Some(v?).filter(|v| !v.trim().is_empty()))))
        .collect()
    }
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group (or, with --entity, a business entity).
    Add {
        name: String,
        /// The group or business entity it sits under.
        #[arg(long)]
        parent: Option<String>,
        /// Make a business entity rather than a group.
        #[arg(long)]
        entity: bool,
    },
    /// Put an account into a group.
    AddMember { group: String, user: String },
    /// Take an account out of a group.
    RemoveMember { group: String, user: String },
    /// List groups and business entities.
    List,
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
    crate::store::sqlite::files::private_folder(data).map_err(|source| CliError::Io {
        context: format!("cannot create the data folder {}", data.display()),
        source,
    })?;
    let store = SqliteStore::open(&data.join(DATABASE_FILE), config.store.readers)?;
    let hasher = password_hasher(config)?;
    let policy = PasswordPolicy {
        min_length: config.password.min_length,
    };
    let mut directory = Directory::new(
        Arc::new(store),
        policy,
        hasher,
        config.directory.default_time_zone.clone(),
    )?;
    directory.set_second_factor(second_factor_settings(config));
    directory.set_posix(config.posix.settings())?;
    directory.set_login_names(match config.scim.user_names {
        crate::config::UserNames::Derive => crate::core::LoginNames::Derive,
        crate::config::UserNames::Strict => crate::core::LoginNames::Strict,
    });
    Ok(directory)
}

/// argon2id with the `[password]` parameters.
pub fn password_hasher(config: &Config) -> Result<PasswordHasher, CliError> {
    let p = &config.password;
    Ok(PasswordHasher::new(
        p.argon2_memory_kib,
        p.argon2_iterations,
        p.argon2_parallelism,
    )?)
}

/// `[second_factor]`, and which channels `[email]` and `[sms]` configure.
pub fn second_factor_settings(config: &Config) -> SecondFactorSettings {
    let f = &config.second_factor;
    SecondFactorSettings {
        code_lifetime: Duration::from_secs(f.code_lifetime_secs),
        code_tries: f.code_tries,
        resend_interval: Duration::from_secs(f.resend_interval_secs),
        remember_computer: Duration::from_secs(f.remember_computer_days * 86_400),
        email: config.email_configured(),
        sms: config.sms_configured(),
    }
}

pub fn run(global: &GlobalArgs, config: &Config, command: Command) -> Result<(), CliError> {
    quiet_on_closed_pipe();
    match command {
        Command::Serve => Err(CliError::Usage("serve runs through the daemon".into())),
        Command::Token(cmd) => token::run(global, config, cmd),
        Command::User(cmd) => user::run(global, config, cmd),
        Command::Group(cmd) => group::run(global, config, cmd),
        Command::Computers(cmd) => computers::run(global, config, cmd),
        Command::Backup { file } => backup::backup(global, &file),
        Command::Restore { file } => backup::restore(global, &file),
        Command::Audit {
            user,
            since,
            limit,
            json,
        } => audit::run(global, config, user, since, limit, json),
        Command::Import { file, dry_run } => import::run(global, config, &file, dry_run),
        Command::Export { format, secrets } => {
            let dir = open_directory(&global.data, config)?;
            let layout = crate::ldap::dn::Layout::new(&config.directory.base_dn)
                .map_err(|e| CliError::Usage(format!("directory.base_dn: {e}")))?;
            let format = match format.as_str() {
                "json" => crate::export::Format::Json,
                _ => crate::export::Format::Ldif,
            };
            print!("{}", crate::export::export(&dir, &layout, format, secrets)?);
            Ok(())
        }
        Command::Outbox { limit } => outbox::run(global, config, limit),
    }
}

/// A command's output piped into a reader that stops early (`dirgate token
/// list | head -1`) ends the command quietly, as for any Unix tool, rather
/// than as a panic of `println!` on the broken pipe. Only the commands: the
/// daemon keeps SIGPIPE ignored, its sockets report closed peers as errors.
fn quiet_on_closed_pipe() {
    // SAFETY: sets the disposition of one signal to its default before any
    // thread of the command starts; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
