//! The one TOML configuration file.
//!
//! Every key has a default, so an empty file (or no file at all) gives a
//! working gateway on the loopback address. Every table refuses unknown keys,
//! so a misspelt key stops the start instead of being silently ignored. The
//! doc comments on the fields are the documentation of the keys;
//! `dirgate.example.toml` repeats them, and a test (`tests.rs`) keeps the
//! two in step.
//!
//! One file a table (`directory.rs` for `[directory]`, `sms.rs` for `[sms]`
//! and so on) with its defaults; `email.rs`, `sms.rs` and `directory.rs`
//! (the base DN) also hold their checks. Here are `Config`, loading,
//! `Config::check` with the other tables' range checks, the shared `Listen`
//! and `Secret`, and the placing of an error at its file, line and key.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::de::{DeTable, DeValue};

mod directory;
mod email;
mod http;
mod ldap;
mod log;
mod outbox;
mod password;
mod posix;
mod scim;
mod second_factor;
mod sms;
mod store;
mod tls;
mod workers;

#[cfg(test)]
mod tests;

pub use directory::DirectoryConfig;
pub use email::{EmailConfig, SmtpSecurity};
pub use http::{HttpConfig, MetricsAccess};
pub use ldap::{AnonymousAccess, LdapConfig};
pub use log::{LogConfig, LogFormat, LogLevel};
pub use outbox::OutboxConfig;
pub use password::PasswordConfig;
pub use posix::PosixConfig;
pub use scim::{ScimConfig, UserNames};
pub use second_factor::SecondFactorConfig;
pub use sms::{SmsConfig, SmsFields, SmsFormat, SmsProvider, DEFAULT_SMS_TEMPLATE, TWILIO_API};
pub use store::StoreConfig;
pub use tls::TlsConfig;
pub use workers::WorkersConfig;

use directory::check_dn;

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[directory]`: the tree both faces show.
    pub directory: DirectoryConfig,
    /// `[ldap]`: the LDAP listener.
    pub ldap: LdapConfig,
    /// `[http]`: the SCIM API and the web pages.
    pub http: HttpConfig,
    /// `[tls]`: the certificate both faces present.
    pub tls: TlsConfig,
    /// `[password]`: password policy and hashing cost.
    pub password: PasswordConfig,
    /// `[store]`: the SQLite store.
    pub store: StoreConfig,
    /// `[workers]`: the pool that runs blocking work off the async workers.
    pub workers: WorkersConfig,
    /// `[log]`: what is logged and how.
    pub log: LogConfig,
    /// `[second_factor]`: email and SMS codes, recognised computers.
    pub second_factor: SecondFactorConfig,
    /// `[email]`: the SMTP server that sends email codes and links.
    pub email: EmailConfig,
    /// `[sms]`: the HTTP gateway that sends SMS codes.
    pub sms: SmsConfig,
    /// `[outbox]`: how queued messages are retried.
    pub outbox: OutboxConfig,
    /// `[scim]`: what identity providers may send.
    pub scim: ScimConfig,
    /// `[posix]`: numbers, home directories and shells for Linux hosts.
    pub posix: PosixConfig,
}

/// A secret from the configuration file (a password, an Authorization
/// header). Its `Debug` form never shows it, so it cannot reach a log through
/// a `{:?}` of the configuration.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A secret kept in a file of its own (a systemd credential, a mounted
    /// secret): the whole file, without its final line break. An empty file
    /// is refused, so a credential that was not passed in is noticed.
    pub fn from_file(path: &Path) -> Result<Secret, SecretFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let value = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        if value.is_empty() {
            return Err(SecretFileError::Empty(path.to_path_buf()));
        }
        Ok(Secret(value.to_string()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a `password_file` gave no secret. Never holds the file's content.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is empty", .0.display())]
    Empty(PathBuf),
}

/// A password given in the file (`password`) or in a file of its own
/// (`password_file`); the configuration check allows at most one.
fn password_from(
    password: &Option<Secret>,
    file: &Option<PathBuf>,
) -> Result<Option<Secret>, SecretFileError> {
    match (password, file) {
        (Some(password), _) => Ok(Some(password.clone())),
        (None, Some(file)) => Secret::from_file(file).map(Some),
        (None, None) => Ok(None),
    }
}

fn resolve(file: &mut Option<PathBuf>, folder: &Path) {
    if let Some(file) = file {
        if file.is_relative() {
            *file = folder.join(&*file);
        }
    }
}

/// A listening address that may be switched off: written in the file as an
/// IP address and port (`"127.0.0.1:3389"`, `"[::]:3389"`) or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listen(pub Option<SocketAddr>);

impl Listen {
    /// A listener that is not started.
    pub const OFF: Listen = Listen(None);

    /// A listener on `addr`.
    pub fn on(addr: SocketAddr) -> Listen {
        Listen(Some(addr))
    }

    /// The address to listen on, or `None` when switched off.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.0
    }

    pub fn is_off(&self) -> bool {
        self.0.is_none()
    }
}

/// Why a listen value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is neither an IP address with a port (such as \"127.0.0.1:3389\" or \"[::]:3389\") nor \"off\"")]
pub struct ListenParseError {
    pub value: String,
}

impl FromStr for Listen {
    type Err = ListenParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Listen::OFF);
        }
        // Host names are not accepted: what a name resolves to can change
        // between starts, and a listener should bind where the file says.
        s.parse::<SocketAddr>()
            .map(Listen::on)
            .map_err(|_| ListenParseError {
                value: s.to_string(),
            })
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => f.write_str("off"),
        }
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Listen {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why the configuration could not be used. Each message names the file (or
/// origin), the line where known, and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, or a value of the wrong type or spelling.
    #[error("{place}: {}{message}", key_prefix(.key.as_deref()))]
    Parse {
        /// The origin, with line and column when known.
        place: String,
        /// The dotted key path, e.g. `ldap.listen`, when the error is at a key.
        key: Option<String>,
        message: String,
    },
    /// Well-formed, but a value is out of range or meaningless.
    #[error("{place}: {key}: {message}")]
    Invalid {
        /// The origin, with the line of the key when it is in the file.
        place: String,
        /// The dotted key path, e.g. `directory.base_dn`.
        key: String,
        message: String,
    },
}

fn key_prefix(key: Option<&str>) -> String {
    key.map(|k| format!("{k}: ")).unwrap_or_default()
}

impl ConfigError {
    /// The dotted path of the offending key, when the error is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Parse { key, .. } => key.as_deref(),
            ConfigError::Invalid { key, .. } => Some(key),
        }
    }
}

impl Config {
    /// Reads the configuration file at `path`, or gives every default when
    /// `path` is `None`. Relative TLS file paths are taken from the folder of
    /// the file, so the file means the same whatever the working folder.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::from_toml_str(&text, &path.display().to_string())?;
        if let Some(folder) = path.parent() {
            config.tls.resolve_relative_to(folder);
            config.email.resolve_relative_to(folder);
            config.sms.resolve_relative_to(folder);
        }
        Ok(config)
    }

    /// Parses and validates configuration text; `origin` names where it came
    /// from in error messages (usually the file name).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| {
            let span = err.span();
            ConfigError::Parse {
                place: place(origin, text, span.as_ref().map(|s| s.start), true),
                key: span.and_then(|s| key_path_at(text, &s)),
                message: err.message().trim_end().to_string(),
            }
        })?;
        config.check().map_err(|(key, message)| {
            // A key that is missing (the other half of a pair) has no line
            // of its own: point at its table instead.
            let offset = key_span(text, key)
                .or_else(|| {
                    key.rsplit_once('.')
                        .and_then(|(table, _)| key_span(text, table))
                })
                .map(|s| s.start);
            ConfigError::Invalid {
                place: place(origin, text, offset, false),
                key: key.to_string(),
                message,
            }
        })?;
        Ok(config)
    }

    /// Checks the values that the types alone cannot. `from_toml_str` and
    /// `load` already do; this is for a `Config` built or changed in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check().map_err(|(key, message)| ConfigError::Invalid {
            place: "configuration".to_string(),
            key: key.to_string(),
            message,
        })
    }

    /// Whether email can be sent: `[email] host` is set.
    pub fn email_configured(&self) -> bool {
        self.email.host.is_some()
    }

    /// Whether SMS can be sent: `[sms] url` is set, or the provider is
    /// Twilio.
    pub fn sms_configured(&self) -> bool {
        self.sms.configured()
    }

    /// The checks of `validate`; on failure gives the dotted key and what is
    /// wrong with it.
    fn check(&self) -> Result<(), (&'static str, String)> {
        let d = &self.directory;
        if let Err(why) = check_dn(&d.base_dn) {
            return Err((
                "directory.base_dn",
                format!("{:?} is not a valid DN: {why}", d.base_dn),
            ));
        }
        if let Err(err) = jiff::tz::TimeZone::get(&d.default_time_zone) {
            return Err((
                "directory.default_time_zone",
                format!(
                    "{:?} is not an IANA time zone name such as \"Europe/Paris\" ({err})",
                    d.default_time_zone
                ),
            ));
        }

        let l = &self.ldap;
        nonzero("ldap.max_connections", l.max_connections as u64)?;
        nonzero("ldap.idle_timeout_secs", l.idle_timeout_secs)?;
        nonzero("ldap.max_message_bytes", l.max_message_bytes as u64)?;
        nonzero("ldap.max_search_entries", l.max_search_entries as u64)?;

        let h = &self.http;
        nonzero("http.max_body_bytes", h.max_body_bytes as u64)?;
        nonzero("http.max_connections", h.max_connections as u64)?;
        nonzero("http.idle_timeout_secs", h.idle_timeout_secs)?;
        if let Some(url) = &h.public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .unwrap_or("");
            if rest.is_empty() || rest.contains(|c: char| c.is_whitespace() || c == '?' || c == '#')
            {
                return Err((
                    "http.public_url",
                    format!("{url:?} is not a URL such as \"https://id.example.com\""),
                ));
            }
        }

        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(_), None) => {
                return Err((
                    "tls.key_file",
                    "missing: tls.cert_file is set, so tls.key_file must be set too".to_string(),
                ))
            }
            (None, Some(_)) => {
                return Err((
                    "tls.cert_file",
                    "missing: tls.key_file is set, so tls.cert_file must be set too".to_string(),
                ))
            }
            _ => {}
        }

        let f = &self.second_factor;
        in_range(
            "second_factor.code_lifetime_secs",
            f.code_lifetime_secs,
            30,
            3600,
        )?;
        in_range("second_factor.code_tries", f.code_tries.into(), 1, 20)?;
        in_range(
            "second_factor.resend_interval_secs",
            f.resend_interval_secs,
            0,
            3600,
        )?;
        in_range(
            "second_factor.remember_computer_days",
            f.remember_computer_days,
            0,
            365,
        )?;

        let p = &self.password;
        in_range(
            "password.failure_wait_max_ms",
            p.failure_wait_max_ms,
            0,
            60_000,
        )?;
        in_range("password.min_length", p.min_length as u64, 1, 256)?;
        in_range(
            "password.argon2_parallelism",
            p.argon2_parallelism.into(),
            1,
            16,
        )?;
        in_range(
            "password.argon2_iterations",
            p.argon2_iterations.into(),
            1,
            u32::MAX.into(),
        )?;
        // argon2 needs 8 KiB per lane; the upper bound is ours: every
        // password thread holds this much at once, so a typo here could
        // exhaust the machine's memory under a bind flood.
        in_range(
            "password.argon2_memory_kib",
            p.argon2_memory_kib.into(),
            8 * u64::from(p.argon2_parallelism),
            4 * 1024 * 1024,
        )?;

        in_range("store.readers", self.store.readers as u64, 1, 64)?;
        // 0 means one per core; the cap only catches typos.
        in_range(
            "workers.password_threads",
            self.workers.password_threads as u64,
            0,
            1024,
        )?;

        self.email.check()?;
        self.sms.check()?;
        let o = &self.outbox;
        in_range("outbox.max_attempts", o.max_attempts.into(), 1, 100)?;
        in_range("outbox.retry_base_secs", o.retry_base_secs, 1, 3600)?;
        in_range("outbox.poll_secs", o.poll_secs, 1, 3600)?;
        Ok(())
    }
}

/// A login is a user name with exactly one of a password and a password
/// file; `table` names the keys in the messages.
fn check_login(
    table: &'static str,
    username: bool,
    password: bool,
    password_file: bool,
) -> Result<(), (&'static str, String)> {
    let (user_key, password_key, file_key) = match table {
        "email" => ("email.username", "email.password", "email.password_file"),
        _ => ("sms.username", "sms.password", "sms.password_file"),
    };
    match (username, password, password_file) {
        (_, true, true) => Err((
            file_key,
            format!("is set beside {password_key}: keep one of them"),
        )),
        (true, false, false) => Err((
            password_key,
            format!(
                "missing: {user_key} is set, so {password_key} (or {file_key}) must be set too"
            ),
        )),
        (false, true, _) | (false, _, true) => Err((
            user_key,
            "missing: a password is set, so the user name must be set too".to_string(),
        )),
        _ => Ok(()),
    }
}

fn nonzero(key: &'static str, value: u64) -> Result<(), (&'static str, String)> {
    if value == 0 {
        return Err((key, "must be greater than 0".to_string()));
    }
    Ok(())
}

fn in_range(
    key: &'static str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), (&'static str, String)> {
    if value < min || value > max {
        return Err((
            key,
            format!("{value} is out of range: must be from {min} to {max}"),
        ));
    }
    Ok(())
}

/// "origin, line L, column C" for a byte offset into `text`, or just the
/// origin when the offset is unknown.
fn place(origin: &str, text: &str, offset: Option<usize>, with_column: bool) -> String {
    let Some(offset) = offset.filter(|&o| o <= text.len() && text.is_char_boundary(o)) else {
        return origin.to_string();
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    if !with_column {
        return format!("{origin}, line {line}");
    }
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    format!("{origin}, line {line}, column {column}")
}

/// The dotted key path (`ldap.listen`) of the key or value that covers the
/// byte range `span`. toml's own messages give the line but not the table the
/// key is in, and a `[table]` header may be far above the line.
fn key_path_at(text: &str, span: &Range<usize>) -> Option<String> {
    let root = DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    if find_in_table(root.get_ref(), span, &mut path) {
        Some(path.join("."))
    } else {
        None
    }
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

fn find_in_table(table: &DeTable<'_>, span: &Range<usize>, path: &mut Vec<String>) -> bool {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        // A `[table]`'s span is only its header, so tables are searched
        // first whatever their span; a value's own span counts only when
        // nothing inside it matched.
        if covers(&key.span(), span)
            || find_in_value(value.get_ref(), span, path)
            || covers(&value.span(), span)
        {
            return true;
        }
        path.pop();
    }
    false
}

fn find_in_value(value: &DeValue<'_>, span: &Range<usize>, path: &mut Vec<String>) -> bool {
    match value {
        DeValue::Table(table) => find_in_table(table, span, path),
        DeValue::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(i.to_string());
            let found = find_in_value(item.get_ref(), span, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

/// The byte range of the key at dotted `path` in `text`, if it is written
/// there (a defaulted key is not).
fn key_span(text: &str, path: &str) -> Option<Range<usize>> {
    let root = DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let (key, value) = table.iter().find(|(k, _)| k.get_ref() == part)?;
        if parts.peek().is_none() {
            return Some(key.span());
        }
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => return None,
        }
    }
    None
}
