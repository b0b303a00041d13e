//! The one TOML configuration file.
//!
//! Every key has a default, so an empty file (or no file at all) gives a
//! working gateway on the loopback address. Every table refuses unknown keys,
//! so a misspelt key stops the start instead of being silently ignored. The
//! doc comments on the fields below are the documentation of the keys;
//! `dirgate.example.toml` repeats them, and a test keeps the two in step.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::de::{DeTable, DeValue};

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

/// `[posix]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosixConfig {
    /// New accounts' uidNumbers, allocated once, never reused.
    pub uid_min: i64,
    pub uid_max: i64,
    /// New groups' gidNumbers (apart from the uid range).
    pub gid_min: i64,
    pub gid_max: i64,
    /// Every new account's gidNumber; unset: its private group (its
    /// uidNumber).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_gid: Option<i64>,
    /// `{user}` is the user name.
    pub home_directory: String,
    pub login_shell: String,
}

impl Default for PosixConfig {
    fn default() -> Self {
        let d = crate::core::posix::PosixSettings::default();
        PosixConfig {
            uid_min: d.uid_min,
            uid_max: d.uid_max,
            gid_min: d.gid_min,
            gid_max: d.gid_max,
            default_gid: d.default_gid,
            home_directory: d.home_directory,
            login_shell: d.login_shell,
        }
    }
}

impl PosixConfig {
    pub fn settings(&self) -> crate::core::posix::PosixSettings {
        crate::core::posix::PosixSettings {
            uid_min: self.uid_min,
            uid_max: self.uid_max,
            gid_min: self.gid_min,
            gid_max: self.gid_max,
            default_gid: self.default_gid,
            home_directory: self.home_directory.clone(),
            login_shell: self.login_shell.clone(),
        }
    }
}

/// `[scim]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScimConfig {
    /// A SCIM `userName` that is not a valid user name (a UPN, an email
    /// login): "derive" keeps it as the account's login name and derives
    /// the user name from it; "strict" refuses it.
    pub user_names: UserNames,
}

/// `[scim] user_names`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserNames {
    #[default]
    Derive,
    Strict,
}

/// `[directory]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// The base DN of the LDAP tree; people live under `ou=people,<base_dn>`
    /// and groups under `ou=groups,<base_dn>`.
    pub base_dn: String,
    /// The IANA time zone given to accounts created without one.
    pub default_time_zone: String,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            base_dn: "dc=example,dc=com".to_string(),
            default_time_zone: "UTC".to_string(),
        }
    }
}

/// `[ldap]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapConfig {
    /// Plain LDAP (StartTLS available) address, or "off".
    pub listen: Listen,
    /// LDAP over TLS address, or "off".
    pub ldaps_listen: Listen,
    /// Allow a simple bind over plain (not yet StartTLS) LDAP from a
    /// non-loopback client. Off by default: the password would cross the
    /// network in clear text.
    pub allow_insecure_bind: bool,
    /// What an unauthenticated client may read: "rootdse" (only the root DSE
    /// and the subschema entry, so clients can discover the server) or "none".
    pub anonymous: AnonymousAccess,
    /// Connections served at once, LDAP and LDAPS together; one more is
    /// told `busy` and closed.
    pub max_connections: usize,
    /// Seconds a connection may stay silent before it is closed.
    pub idle_timeout_secs: u64,
    /// Largest LDAP message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most entries one search returns (without paging).
    pub max_search_entries: usize,
}

impl Default for LdapConfig {
    fn default() -> Self {
        LdapConfig {
            listen: Listen::on(SocketAddr::from(([127, 0, 0, 1], 3389))),
            ldaps_listen: Listen::on(SocketAddr::from(([127, 0, 0, 1], 3636))),
            allow_insecure_bind: false,
            anonymous: AnonymousAccess::RootDse,
            max_connections: 16384,
            idle_timeout_secs: 300,
            max_message_bytes: 1_048_576,
            max_search_entries: 1000,
        }
    }
}

impl LdapConfig {
    /// `idle_timeout_secs` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

/// `[ldap] anonymous`: what an unauthenticated LDAP client may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum AnonymousAccess {
    /// The root DSE and the subschema entry only.
    #[serde(rename = "rootdse")]
    RootDse,
    /// Nothing: every search needs a bind first.
    #[serde(rename = "none")]
    None,
}

/// `[http]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// HTTPS address for SCIM and the web pages, or "off".
    pub https_listen: Listen,
    /// Plain HTTP address, or "off"; only for use behind a TLS-terminating
    /// proxy on the same machine.
    pub http_listen: Listen,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Connections served at once, HTTPS and HTTP together; one more is
    /// closed (over plain HTTP after a 503).
    pub max_connections: usize,
    /// Seconds a connection may stay silent before it is closed.
    pub idle_timeout_secs: u64,
    /// The address people reach the web pages at, for the links sent to
    /// them (`https://id.example.com`). Unset: `https://` and the address
    /// of `https_listen`, with `localhost` for a loopback address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Who may read `/metrics` (Prometheus) on these listeners.
    pub metrics: MetricsAccess,
}

/// `[http] metrics`: who may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccess {
    /// Clients on this machine only. Over plain HTTP (behind a proxy, whose
    /// address every client shares) only requests without forwarding
    /// headers, so that what a proxy forwards is refused.
    #[default]
    Loopback,
    /// Any client.
    Everyone,
    /// Not served (404).
    Off,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            https_listen: Listen::on(SocketAddr::from(([127, 0, 0, 1], 8443))),
            http_listen: Listen::OFF,
            max_body_bytes: 1_048_576,
            max_connections: 1024,
            idle_timeout_secs: 60,
            public_url: None,
            metrics: MetricsAccess::Loopback,
        }
    }
}

impl HttpConfig {
    /// `idle_timeout_secs` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

/// `[tls]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain, server certificate first. Set both `cert_file`
    /// and `key_file`, or neither: then a self-signed certificate is
    /// generated into `DATA/tls/`. A relative path is taken from the folder
    /// of the configuration file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, SEC1 or PKCS#1) of the certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

/// `[password]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    /// Fewest characters in a new password (1 to 256). The other rules (an
    /// upper-case letter, a lower-case letter, a digit, no "password") always
    /// apply.
    pub min_length: usize,
    /// Argon2id memory cost per hash, in KiB (at least 8 × parallelism, at
    /// most 4 GiB).
    pub argon2_memory_kib: u32,
    /// Argon2id passes over the memory (at least 1).
    pub argon2_iterations: u32,
    /// Argon2id lanes (1 to 16).
    pub argon2_parallelism: u32,
    /// Failed authentications an account may have (in 15 minutes) before
    /// the next ones wait, doubling from 250 ms with each further failure.
    pub failures_free_per_account: u32,
    /// The same for one client address (shared by everyone behind a NAT).
    pub failures_free_per_address: u32,
    /// The longest such wait, in milliseconds (0 turns waiting off).
    pub failure_wait_max_ms: u64,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        // The argon2id parameters recommended by OWASP (m=19 MiB, t=2, p=1).
        PasswordConfig {
            min_length: 8,
            argon2_memory_kib: 19456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            failures_free_per_account: 3,
            failures_free_per_address: 10,
            failure_wait_max_ms: 8000,
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite connections kept open for reads (1 to 64); writes go through
    /// one writer.
    pub readers: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { readers: 4 }
    }
}

/// `[workers]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkersConfig {
    /// Threads that hash and verify passwords; 0 means one per core.
    pub password_threads: usize,
}

impl WorkersConfig {
    /// The number of password threads to start: the configured number, or
    /// one per core when it is 0.
    pub fn password_threads(&self) -> usize {
        if self.password_threads > 0 {
            return self.password_threads;
        }
        // If the core count cannot be read (odd containers), one thread still
        // works; it is only slower.
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }
}

/// `[second_factor]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecondFactorConfig {
    /// Seconds an email or SMS code stays valid (30 to 3600).
    pub code_lifetime_secs: u64,
    /// Wrong codes allowed before the code is dropped (1 to 20).
    pub code_tries: u32,
    /// Fewest seconds between two codes sent to one account (0 to 3600).
    pub resend_interval_secs: u64,
    /// Days a computer stays recognised after a two-factor bind (0 to 365;
    /// 0 makes every method ask every time).
    pub remember_computer_days: u64,
}

impl Default for SecondFactorConfig {
    fn default() -> Self {
        SecondFactorConfig {
            code_lifetime_secs: 300,
            code_tries: 5,
            resend_interval_secs: 60,
            remember_computer_days: 30,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// "text" for people, "json" for log collectors.
    pub format: LogFormat,
    /// The least severe level written: error, warn, info, debug or trace.
    pub level: LogLevel,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: LogLevel::Info,
        }
    }
}

/// `[log] format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `[log] level`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The name as written in the file, which is also the name tracing's
    /// filters understand.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
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

/// `[email]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// The SMTP server's host name. Unset means email is not configured:
    /// messages for email then fail with an error saying so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The SMTP server's port.
    pub port: u16,
    /// "starttls" (plain connection upgraded to TLS, required), "tls" (TLS
    /// from the first byte, usually port 465) or "none" (no encryption: only
    /// for a relay on the same machine, and then without a login).
    pub security: SmtpSecurity,
    /// The SMTP user name; with `password` or `password_file`. The login
    /// (AUTH PLAIN or LOGIN) is only ever sent over TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The SMTP password (never logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// A file holding the SMTP password instead (a systemd credential):
    /// its content without the final line break.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// PEM certificates of the authorities the SMTP server's certificate
    /// must chain to, instead of the public web roots (a private CA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The sender, as a mailbox: `name <address>` or a bare address.
    pub from: String,
    /// Seconds one delivery (connect, send, quit) may take.
    pub timeout_secs: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            host: None,
            port: 587,
            security: SmtpSecurity::StartTls,
            username: None,
            password: None,
            password_file: None,
            ca_file: None,
            from: "dirgate <dirgate@localhost>".to_string(),
            timeout_secs: 30,
        }
    }
}

impl EmailConfig {
    /// `timeout_secs` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The SMTP password, from `password` or `password_file`.
    pub fn password(&self) -> Result<Option<Secret>, SecretFileError> {
        password_from(&self.password, &self.password_file)
    }

    fn resolve_relative_to(&mut self, folder: &Path) {
        resolve(&mut self.password_file, folder);
        resolve(&mut self.ca_file, folder);
    }
}

fn resolve(file: &mut Option<PathBuf>, folder: &Path) {
    if let Some(file) = file {
        if file.is_relative() {
            *file = folder.join(&*file);
        }
    }
}

/// `[email] security`: how the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SmtpSecurity {
    /// Plain connection, then STARTTLS; refuses a server without it.
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte (SMTPS).
    #[serde(rename = "tls")]
    Tls,
    /// No encryption.
    #[serde(rename = "none")]
    None,
}

/// `[sms] provider`: who the gateway is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum SmsProvider {
    /// Any HTTP gateway: `url`, `format` and the rest say how to reach it;
    /// a 2xx answer means accepted.
    #[default]
    #[serde(rename = "generic")]
    Generic,
    /// Twilio's Messages resource: a form POST to
    /// `/2010-04-01/Accounts/{account}/Messages.json` with basic
    /// authentication, the fields `To`, `From` and `Body`, and the answer's
    /// `status` and `error_code` read.
    #[serde(rename = "twilio")]
    Twilio,
}

/// `[sms] format`: how the POST's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum SmsFormat {
    /// `body_template`, filled in (application/json).
    #[serde(rename = "json")]
    Json,
    /// URL-encoded form fields named by `fields`
    /// (application/x-www-form-urlencoded).
    #[serde(rename = "form")]
    Form,
}

/// `[sms] fields`: the provider's names of the form fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsFields {
    /// The recipient's number.
    pub to: String,
    /// The sender (`[sms] from`); not sent when `from` is unset.
    pub from: String,
    /// The message text.
    pub text: String,
}

impl Default for SmsFields {
    fn default() -> Self {
        SmsFields {
            to: "to".to_string(),
            from: "from".to_string(),
            text: "text".to_string(),
        }
    }
}

/// Twilio's API, when `[sms] url` is unset.
pub const TWILIO_API: &str = "https://api.twilio.com";

/// `[sms]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// "generic" (any HTTP gateway, as the keys below describe) or "twilio"
    /// (Twilio's Messages API: form fields To/From/Body, basic
    /// authentication with `username` and `password`, its answer read).
    pub provider: SmsProvider,
    /// The gateway's URL (http:// or https://); each SMS is one POST to it.
    /// Unset means SMS is not configured (messages for SMS then fail with an
    /// error saying so), except with provider "twilio", where the URL is
    /// Twilio's (`https://api.twilio.com`) and this key, when set, replaces
    /// only the scheme, host and port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// "json" (the body is `body_template`) or "form" (URL-encoded fields
    /// named by `fields`). Unset: "json", or "form" for Twilio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<SmsFormat>,
    /// The JSON body of the POST. `{to}`, `{text}` and `{from}` are replaced
    /// by the recipient, the text and `from`, escaped for a JSON string (so
    /// put them inside quotes); `{to_digits}` is the recipient without its
    /// `+`. The result must be valid JSON.
    pub body_template: String,
    /// The form fields' names, as `{ to = "To", from = "From", text =
    /// "Body" }`. Unset: to, from and text (To, From and Body for Twilio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<SmsFields>,
    /// The sender: a number or a name the provider allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The user of HTTP basic authentication (Twilio: the Account SID or an
    /// API key SID; Vonage: the API key); with `password` or
    /// `password_file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password of basic authentication (Twilio: the auth token or the
    /// API key secret); never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// A file holding that password instead (a systemd credential).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Twilio: the Account SID in the URL, when `username` is an API key.
    /// Unset: `username`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The whole Authorization header instead of basic authentication, such
    /// as "Bearer TOKEN" (never logged). Unset sends none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<Secret>,
    /// Seconds one delivery (connect, request, answer) may take.
    pub timeout_secs: u64,
}

/// The default `[sms] body_template`.
pub const DEFAULT_SMS_TEMPLATE: &str = r#"{"to": "{to}", "text": "{text}"}"#;

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: SmsProvider::Generic,
            url: None,
            format: None,
            body_template: DEFAULT_SMS_TEMPLATE.to_string(),
            fields: None,
            from: None,
            username: None,
            password: None,
            password_file: None,
            account: None,
            auth_header: None,
            timeout_secs: 30,
        }
    }
}

impl SmsConfig {
    /// `timeout_secs` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Whether there is somewhere to send: a URL, or Twilio's.
    pub fn configured(&self) -> bool {
        self.url.is_some() || self.provider == SmsProvider::Twilio
    }

    /// The body format, with the provider's default.
    pub fn body_format(&self) -> SmsFormat {
        match (self.format, self.provider) {
            (Some(format), _) => format,
            (None, SmsProvider::Twilio) => SmsFormat::Form,
            (None, SmsProvider::Generic) => SmsFormat::Json,
        }
    }

    /// The form fields' names, with the provider's defaults.
    pub fn field_names(&self) -> SmsFields {
        match (&self.fields, self.provider) {
            (Some(fields), _) => fields.clone(),
            (None, SmsProvider::Twilio) => SmsFields {
                to: "To".to_string(),
                from: "From".to_string(),
                text: "Body".to_string(),
            },
            (None, SmsProvider::Generic) => SmsFields::default(),
        }
    }

    /// The URL each message is POSTed to, or `None` when SMS is not
    /// configured. Twilio's is its Messages resource for the account.
    pub fn endpoint(&self) -> Option<String> {
        match self.provider {
            SmsProvider::Generic => self.url.clone(),
            SmsProvider::Twilio => {
                let base = self.url.as_deref().unwrap_or(TWILIO_API);
                let account = self.account.as_ref().or(self.username.as_ref())?;
                Some(format!(
                    "{}/2010-04-01/Accounts/{}/Messages.json",
                    base.trim_end_matches('/'),
                    form_urlencoded::byte_serialize(account.as_bytes()).collect::<String>()
                ))
            }
        }
    }

    /// The basic-authentication password, from `password` or
    /// `password_file`.
    pub fn password(&self) -> Result<Option<Secret>, SecretFileError> {
        password_from(&self.password, &self.password_file)
    }

    /// The JSON body for one message: `body_template` with `{to}`,
    /// `{to_digits}`, `{from}` and `{text}` replaced, in one pass (so a
    /// recipient or text that itself contains `{text}` is not replaced
    /// again), by JSON-escaped strings without their quotes.
    pub fn render(&self, to: &str, text: &str) -> String {
        render_template(
            &self.body_template,
            to,
            text,
            self.from.as_deref().unwrap_or(""),
        )
    }

    /// The form body for one message: the recipient, the sender (when
    /// `from` is set) and the text, under `fields`' names.
    pub fn render_form(&self, to: &str, text: &str) -> String {
        let names = self.field_names();
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair(&names.to, to);
        if let Some(from) = &self.from {
            form.append_pair(&names.from, from);
        }
        form.append_pair(&names.text, text);
        form.finish()
    }

    fn resolve_relative_to(&mut self, folder: &Path) {
        resolve(&mut self.password_file, folder);
    }
}

fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn render_template(template: &str, to: &str, text: &str, from: &str) -> String {
    let to_digits = to.trim_start_matches('+');
    let values = [
        ("{to}", to),
        ("{to_digits}", to_digits),
        ("{text}", text),
        ("{from}", from),
    ];
    let mut out = String::with_capacity(template.len() + to.len() + text.len());
    let mut rest = template;
    'outer: while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        for (placeholder, value) in values {
            if let Some(after) = tail.strip_prefix(placeholder) {
                out.push_str(&json_escaped(value));
                rest = after;
                continue 'outer;
            }
        }
        out.push('{');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

/// `[outbox]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Attempts at one message before it is given up (1 to 100).
    pub max_attempts: u32,
    /// Seconds before the first retry; the wait doubles with every failed
    /// attempt, up to an hour (1 to 3600).
    pub retry_base_secs: u64,
    /// Seconds between looks at the queue when nothing wakes the notifier
    /// (1 to 3600).
    pub poll_secs: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            max_attempts: 8,
            retry_base_secs: 5,
            poll_secs: 5,
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

impl EmailConfig {
    fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(host) = &self.host {
            if host.trim().is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
                return Err((
                    "email.host",
                    format!("{host:?} is not a host name (leave the key out to send no email)"),
                ));
            }
        }
        nonzero("email.port", self.port.into())?;
        nonzero("email.timeout_secs", self.timeout_secs)?;
        check_login(
            "email",
            self.username.is_some(),
            self.password.is_some(),
            self.password_file.is_some(),
        )?;
        if self.username.is_some() && self.security == SmtpSecurity::None {
            return Err((
                "email.security",
                "is \"none\", so the login would cross the network in clear: use \
                 \"starttls\" or \"tls\", or send through a local relay without a login"
                    .to_string(),
            ));
        }
        if self.ca_file.is_some() && self.security == SmtpSecurity::None {
            return Err((
                "email.ca_file",
                "is set but security is \"none\": no certificate would be checked".to_string(),
            ));
        }
        if let Err(e) = self.from.parse::<lettre::message::Mailbox>() {
            return Err((
                "email.from",
                format!(
                    "{:?} is not a mailbox such as \"dirgate <dirgate@example.com>\" ({e})",
                    self.from
                ),
            ));
        }
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

impl SmsConfig {
    fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(url) = &self.url {
            check_http_url(url).map_err(|why| ("sms.url", format!("{url:?} {why}")))?;
        }
        check_login(
            "sms",
            self.username.is_some(),
            self.password.is_some(),
            self.password_file.is_some(),
        )?;
        if self.auth_header.is_some() && self.username.is_some() {
            return Err((
                "sms.auth_header",
                "is set beside sms.username: use basic authentication or a header, not both"
                    .to_string(),
            ));
        }
        if self.provider == SmsProvider::Twilio {
            if self.username.is_none() {
                return Err((
                    "sms.username",
                    "missing: Twilio needs the Account SID (or an API key SID) as username, \
                     and its auth token (or key secret) as password"
                        .to_string(),
                ));
            }
            if self.from.is_none() {
                return Err((
                    "sms.from",
                    "missing: Twilio needs the number (or sender ID) messages come from"
                        .to_string(),
                ));
            }
            if self.format == Some(SmsFormat::Json) {
                return Err((
                    "sms.format",
                    "Twilio's Messages API takes a form, not JSON: leave format out".to_string(),
                ));
            }
            if self.url.as_deref().and_then(url_path).is_some() {
                return Err((
                    "sms.url",
                    "with provider \"twilio\" is only the API's scheme, host and port (such \
                     as https://api.dublin.ie1.twilio.com): the path is Twilio's"
                        .to_string(),
                ));
            }
        } else if self.account.is_some() {
            return Err(("sms.account", "is only for provider \"twilio\"".to_string()));
        }
        match self.body_format() {
            SmsFormat::Json => self.check_template()?,
            SmsFormat::Form => {
                let names = self.field_names();
                if [&names.to, &names.from, &names.text]
                    .iter()
                    .any(|n| n.is_empty())
                {
                    return Err(("sms.fields", "a field name is empty".to_string()));
                }
            }
        }
        if let Some(header) = &self.auth_header {
            if hyper::header::HeaderValue::from_str(header.expose()).is_err() {
                return Err((
                    "sms.auth_header",
                    "is not a valid header value (no line breaks or control characters)"
                        .to_string(),
                ));
            }
        }
        nonzero("sms.timeout_secs", self.timeout_secs)?;
        Ok(())
    }

    fn check_template(&self) -> Result<(), (&'static str, String)> {
        if !self.body_template.contains("{to}") && !self.body_template.contains("{to_digits}") {
            return Err((
                "sms.body_template",
                "has no {to} (or {to_digits}): the gateway would not get it".to_string(),
            ));
        }
        if !self.body_template.contains("{text}") {
            return Err((
                "sms.body_template",
                "has no {text}: the gateway would not get it".to_string(),
            ));
        }
        // Values with every character that needs escaping.
        let sample = render_template(
            &self.body_template,
            "+44 \"7700\" 900\\123",
            "code:\n\t\"1234\" {text} é",
            "a \"b\"",
        );
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&sample) {
            return Err((
                "sms.body_template",
                format!(
                    "is not valid JSON once {{to}} and {{text}} are filled in ({e}); \
                     put them inside quotes, as in {DEFAULT_SMS_TEMPLATE}"
                ),
            ));
        }
        Ok(())
    }
}

/// The path of an http(s) URL, when it has one beyond `/`.
fn url_path(url: &str) -> Option<String> {
    let uri: hyper::Uri = url.parse().ok()?;
    let path = uri.path_and_query()?.as_str();
    (path != "/" && !path.is_empty()).then(|| path.to_string())
}

/// Accepts an absolute http:// or https:// URL with a host.
fn check_http_url(url: &str) -> Result<(), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err("must start with http:// or https://".to_string()),
    }
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err("has no host".to_string()),
    }
}

impl TlsConfig {
    fn resolve_relative_to(&mut self, folder: &Path) {
        for file in [&mut self.cert_file, &mut self.key_file]
            .into_iter()
            .flatten()
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
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

/// Checks a DN in the string form of RFC 4514: RDNs separated by commas, each
/// one or more `attribute=value` pairs joined by `+`, where the attribute is a
/// name or a numeric OID and the value is not empty. Backslash escapes are
/// honoured so that `o=Acme\, Inc` is one RDN.
fn check_dn(dn: &str) -> Result<(), String> {
    if dn.trim().is_empty() {
        return Err("it is empty".to_string());
    }
    for rdn in split_unescaped(dn, ',') {
        for ava in split_unescaped(rdn, '+') {
            let Some((attr, value)) = ava.split_once('=') else {
                return Err(format!("{:?} is not attribute=value", ava.trim()));
            };
            let attr = attr.trim();
            if !is_attribute_name(attr) {
                return Err(format!("{attr:?} is not an attribute name"));
            }
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("the value of {attr:?} is empty"));
            }
            if value.ends_with('\\') && !value.ends_with("\\\\") {
                return Err(format!("the value of {attr:?} ends in a lone backslash"));
            }
        }
    }
    Ok(())
}

/// Splits at `sep` where it is not escaped by a backslash.
fn split_unescaped(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// An attribute descriptor (`dc`, `ou`, `x-foo1`) or a numeric OID (`0.9.2342.19200300.100.1.25`).
fn is_attribute_name(attr: &str) -> bool {
    let mut chars = attr.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => chars.all(|c| c.is_ascii_alphanumeric() || c == '-'),
        Some(c) if c.is_ascii_digit() => attr
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit())),
        _ => false,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(text, "test.toml")
    }

    fn err(text: &str) -> ConfigError {
        match parse(text) {
            Ok(config) => panic!("expected an error for {text:?}, got {config:?}"),
            Err(e) => e,
        }
    }

    /// The example file with every `# key = value` line uncommented.
    fn example_uncommented() -> String {
        let example = include_str!("../dirgate.example.toml");
        let mut out = String::new();
        for line in example.lines() {
            let uncommented = line
                .strip_prefix("# ")
                .filter(|rest| looks_like_key_line(rest));
            out.push_str(uncommented.unwrap_or(line));
            out.push('\n');
        }
        out
    }

    fn looks_like_key_line(line: &str) -> bool {
        let Some((key, _)) = line.split_once(" = ") else {
            return false;
        };
        !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }

    /// Every key of a TOML table, as dotted paths.
    fn key_paths(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) => key_paths(inner, &path, out),
                _ => out.push(path),
            }
        }
    }

    #[test]
    fn example_file_matches_defaults() {
        let text = example_uncommented();
        let parsed = parse(&text).expect("the uncommented example parses");
        assert_eq!(parsed, Config::default());

        // Same values is not enough: every key must be documented there too.
        let mut in_example = Vec::new();
        key_paths(&toml::from_str(&text).expect("toml"), "", &mut in_example);
        let defaults = toml::to_string(&Config::default()).expect("serialises");
        let mut in_defaults = Vec::new();
        key_paths(
            &toml::from_str(&defaults).expect("toml"),
            "",
            &mut in_defaults,
        );
        in_example.sort();
        in_defaults.sort();
        assert_eq!(in_example, in_defaults);

        // The two keys without a default are shown as examples.
        let example = include_str!("../dirgate.example.toml");
        assert!(example.contains("cert_file = "));
        assert!(example.contains("key_file = "));
        for key in [
            "host = ",
            "username = ",
            "password = ",
            "url = ",
            "auth_header = ",
            "public_url = ",
        ] {
            assert!(example.contains(key), "{key}");
        }
    }

    #[test]
    fn example_file_as_shipped_is_defaults() {
        let parsed = parse(include_str!("../dirgate.example.toml")).expect("example parses");
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn the_packaged_configuration_is_valid() {
        let parsed = parse(include_str!("../dist/dirgate.toml")).expect("dist config parses");
        parsed.validate().expect("dist config validates");
        assert_eq!(parsed.ldap.listen.addr().map(|a| a.port()), Some(3389));
        assert!(!parsed.email_configured() && !parsed.sms_configured());
    }

    #[test]
    fn empty_file_and_no_file_are_defaults() {
        assert_eq!(parse("").expect("empty"), Config::default());
        assert_eq!(Config::load(None).expect("none"), Config::default());
    }

    #[test]
    fn defaults_serialise_and_parse_back() {
        let text = toml::to_string(&Config::default()).expect("serialises");
        assert_eq!(parse(&text).expect("parses"), Config::default());
    }

    #[test]
    fn unknown_key_is_named() {
        let e = err("[ldap]\nlisten = \"off\"\nmax_conections = 5\n");
        assert_eq!(e.key(), Some("ldap.max_conections"));
        let msg = e.to_string();
        assert!(msg.contains("ldap.max_conections"), "{msg}");
        assert!(msg.contains("test.toml, line 3"), "{msg}");
        assert!(msg.contains("unknown field"), "{msg}");
    }

    #[test]
    fn unknown_key_in_dotted_and_inline_forms_is_named() {
        assert_eq!(err("ldap.bogus = 1\n").key(), Some("ldap.bogus"));
        assert_eq!(err("http = { bogus = 1 }\n").key(), Some("http.bogus"));
    }

    #[test]
    fn unknown_table_is_named() {
        let e = err("[ldpa]\nlisten = \"off\"\n");
        assert_eq!(e.key(), Some("ldpa"));
        assert!(e.to_string().contains("ldpa"), "{e}");
    }

    #[test]
    fn wrong_type_is_named() {
        let e = err("[store]\nreaders = \"four\"\n");
        assert_eq!(e.key(), Some("store.readers"));
        assert!(e.to_string().contains("store.readers"), "{e}");
    }

    #[test]
    fn table_where_a_value_belongs_is_named() {
        assert_eq!(
            err("[store]\nreaders = { a = 1 }\n").key(),
            Some("store.readers")
        );
        assert_eq!(err("[store]\nreaders = [1]\n").key(), Some("store.readers"));
        assert_eq!(err("store = \"x\"\n").key(), Some("store"));
    }

    #[test]
    fn bad_enum_value_is_named() {
        let e = err("[log]\nlevel = \"loud\"\n");
        assert_eq!(e.key(), Some("log.level"));
        let e = err("[ldap]\nanonymous = \"all\"\n");
        assert_eq!(e.key(), Some("ldap.anonymous"));
    }

    #[test]
    fn bad_listen_is_named() {
        let e = err("[http]\nhttps_listen = \"localhost:8443\"\n");
        assert_eq!(e.key(), Some("http.https_listen"));
        assert!(e.to_string().contains("\"off\""), "{e}");
    }

    #[test]
    fn syntax_error_gives_the_line() {
        let e = err("[ldap]\nlisten = \n");
        assert!(e.to_string().starts_with("test.toml, line 2"), "{e}");
    }

    #[test]
    fn bad_base_dn_is_named() {
        let e = err("[directory]\nbase_dn = \"dc=,x\"\n");
        assert_eq!(e.key(), Some("directory.base_dn"));
        let msg = e.to_string();
        assert!(
            msg.contains("directory.base_dn: \"dc=,x\" is not a valid DN"),
            "{msg}"
        );
        assert!(msg.starts_with("test.toml, line 2"), "{msg}");
    }

    #[test]
    fn dn_checks() {
        for good in [
            "dc=example,dc=com",
            "o=Acme\\, Inc, c=US",
            "ou=people + l=Paris, dc=x",
            "0.9.2342.19200300.100.1.25=example",
        ] {
            assert!(check_dn(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "dc=",
            "dc=,x",
            "example.com",
            "dc=a,,dc=b",
            "=x",
            "1a=x",
            "dc=a\\",
        ] {
            assert!(check_dn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_time_zone_is_named() {
        let e = err("[directory]\ndefault_time_zone = \"Mars/Olympus\"\n");
        assert_eq!(e.key(), Some("directory.default_time_zone"));
        let ok = parse("[directory]\ndefault_time_zone = \"Europe/Paris\"\n").expect("valid zone");
        assert_eq!(ok.directory.default_time_zone, "Europe/Paris");
    }

    #[test]
    fn zero_limits_are_refused() {
        for (table, key) in [
            ("ldap", "max_connections"),
            ("ldap", "idle_timeout_secs"),
            ("ldap", "max_message_bytes"),
            ("ldap", "max_search_entries"),
            ("http", "max_body_bytes"),
            ("http", "max_connections"),
            ("http", "idle_timeout_secs"),
            ("store", "readers"),
            ("password", "min_length"),
            ("password", "argon2_iterations"),
            ("password", "argon2_parallelism"),
        ] {
            let e = err(&format!("[{table}]\n{key} = 0\n"));
            assert_eq!(e.key(), Some(format!("{table}.{key}").as_str()), "{e}");
        }
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(
            err("[password]\nmin_length = 257\n").key(),
            Some("password.min_length")
        );
        assert_eq!(err("[store]\nreaders = 65\n").key(), Some("store.readers"));
        assert_eq!(
            err("[password]\nargon2_parallelism = 17\n").key(),
            Some("password.argon2_parallelism")
        );
        // 4 lanes need at least 32 KiB.
        let e = err("[password]\nargon2_parallelism = 4\nargon2_memory_kib = 31\n");
        assert_eq!(e.key(), Some("password.argon2_memory_kib"));
        parse("[password]\nargon2_parallelism = 4\nargon2_memory_kib = 32\n")
            .expect("32 KiB is enough");
        // A negative number does not fit the type and is named too.
        assert_eq!(err("[store]\nreaders = -1\n").key(), Some("store.readers"));
    }

    #[test]
    fn off_listeners() {
        let c = parse(
            "[ldap]\nlisten = \"off\"\nldaps_listen = \"[::]:636\"\n[http]\nhttps_listen = \"OFF\"\nhttp_listen = \"127.0.0.1:8080\"\n",
        )
        .expect("parses");
        assert!(c.ldap.listen.is_off());
        assert_eq!(
            c.ldap.ldaps_listen.addr(),
            Some("[::]:636".parse().expect("addr"))
        );
        assert_eq!(c.http.https_listen, Listen::OFF);
        assert_eq!(c.http.http_listen.to_string(), "127.0.0.1:8080");
        assert!(Config::default().http.http_listen.is_off());
    }

    #[test]
    fn tls_files_both_or_neither() {
        let e = err("[tls]\ncert_file = \"cert.pem\"\n");
        assert_eq!(e.key(), Some("tls.key_file"));
        assert!(
            e.to_string().starts_with("test.toml, line 1: tls.key_file"),
            "{e}"
        );
        let e = err("[tls]\nkey_file = \"key.pem\"\n");
        assert_eq!(e.key(), Some("tls.cert_file"));
        let c =
            parse("[tls]\ncert_file = \"/a/cert.pem\"\nkey_file = \"/a/key.pem\"\n").expect("both");
        assert_eq!(c.tls.cert_file.as_deref(), Some(Path::new("/a/cert.pem")));
        assert_eq!(c.tls.key_file.as_deref(), Some(Path::new("/a/key.pem")));
    }

    #[test]
    fn load_reads_a_file_and_resolves_relative_tls_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dirgate.toml");
        std::fs::write(
            &path,
            "[tls]\ncert_file = \"tls/cert.pem\"\nkey_file = \"/etc/key.pem\"\n[store]\nreaders = 2\n",
        )
        .expect("write");
        let c = Config::load(Some(&path)).expect("loads");
        assert_eq!(c.store.readers, 2);
        assert_eq!(c.tls.cert_file, Some(dir.path().join("tls/cert.pem")));
        assert_eq!(c.tls.key_file.as_deref(), Some(Path::new("/etc/key.pem")));

        std::fs::write(&path, "[store]\nreaderz = 2\n").expect("write");
        let e = Config::load(Some(&path)).expect_err("unknown key");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        assert!(e.to_string().contains("store.readerz"), "{e}");

        let missing = dir.path().join("missing.toml");
        let e = Config::load(Some(&missing)).expect_err("missing file");
        assert!(matches!(e, ConfigError::Read { .. }));
        assert!(e.to_string().contains("missing.toml"), "{e}");
    }

    #[test]
    fn validate_checks_a_config_built_in_code() {
        assert!(Config::default().validate().is_ok());
        let mut c = Config::default();
        c.ldap.max_search_entries = 0;
        let e = c.validate().expect_err("zero");
        assert_eq!(e.key(), Some("ldap.max_search_entries"));
        assert_eq!(
            e.to_string(),
            "configuration: ldap.max_search_entries: must be greater than 0"
        );
    }

    #[test]
    fn public_url_must_be_a_url() {
        let c = parse("[http]\npublic_url = \"https://id.example.com\"\n").expect("parses");
        assert_eq!(c.http.public_url.as_deref(), Some("https://id.example.com"));
        for bad in [
            "id.example.com",
            "https://",
            "https://a b",
            "https://x/?q=1",
        ] {
            let e = err(&format!("[http]\npublic_url = {bad:?}\n"));
            assert_eq!(e.key(), Some("http.public_url"), "{bad}");
        }
    }

    #[test]
    fn password_threads_resolves_zero() {
        let w = WorkersConfig {
            password_threads: 0,
        };
        assert!(w.password_threads() >= 1);
        let w = WorkersConfig {
            password_threads: 3,
        };
        assert_eq!(w.password_threads(), 3);
    }

    #[test]
    fn notifier_defaults() {
        let c = Config::default();
        assert!(!c.email_configured());
        assert!(!c.sms_configured());
        assert_eq!(c.email.port, 587);
        assert_eq!(c.email.security, SmtpSecurity::StartTls);
        assert_eq!(c.email.from, "dirgate <dirgate@localhost>");
        assert_eq!(c.sms.body_template, DEFAULT_SMS_TEMPLATE);
        assert_eq!(c.outbox.max_attempts, 8);
        assert_eq!(c.outbox.retry_base_secs, 5);
        assert_eq!(c.outbox.poll_secs, 5);
    }

    #[test]
    fn email_and_sms_configured() {
        let c = parse(
            "[email]\nhost = \"smtp.example.com\"\nsecurity = \"tls\"\nport = 465\n\
             username = \"u\"\npassword = \"p\"\nfrom = \"x@example.com\"\n\
             [sms]\nurl = \"https://sms.example.com/send\"\nauth_header = \"Bearer t\"\n",
        )
        .expect("parses");
        assert!(c.email_configured());
        assert!(c.sms_configured());
        assert_eq!(c.email.security, SmtpSecurity::Tls);
        assert_eq!(c.email.password.as_ref().map(Secret::expose), Some("p"));
        assert_eq!(
            c.sms.auth_header.as_ref().map(Secret::expose),
            Some("Bearer t")
        );
    }

    #[test]
    fn secrets_are_not_in_debug() {
        let c = parse(
            "[email]\nhost = \"h\"\nusername = \"u\"\npassword = \"hunter2-smtp\"\n\
             [sms]\nurl = \"http://127.0.0.1:1/\"\nauth_header = \"Bearer tok-secret\"\n",
        )
        .expect("parses");
        let debug = format!("{c:?} {:#?}", c);
        assert!(!debug.contains("hunter2-smtp"), "{debug}");
        assert!(!debug.contains("tok-secret"), "{debug}");
        assert!(debug.contains("Secret(***)"), "{debug}");
    }

    #[test]
    fn bad_security_is_named() {
        let e = err("[email]\nsecurity = \"ssl\"\n");
        assert_eq!(e.key(), Some("email.security"));
        assert!(e.to_string().contains("email.security"), "{e}");
    }

    #[test]
    fn email_credentials_both_or_neither() {
        let e = err("[email]\nhost = \"h\"\nusername = \"u\"\n");
        assert_eq!(e.key(), Some("email.password"));
        assert!(e.to_string().contains("email.username is set"), "{e}");
        let e = err("[email]\nhost = \"h\"\npassword = \"p\"\n");
        assert_eq!(e.key(), Some("email.username"));
        let e = err("[email]\nhost = \"\"\n");
        assert_eq!(e.key(), Some("email.host"));
    }

    #[test]
    fn bad_from_is_named() {
        let e = err("[email]\nfrom = \"not a mailbox\"\n");
        assert_eq!(e.key(), Some("email.from"));
        assert!(e.to_string().contains("is not a mailbox"), "{e}");
        parse("[email]\nfrom = \"x@example.com\"\n").expect("bare address");
    }

    #[test]
    fn bad_sms_url_is_named() {
        for bad in ["ftp://x/", "sms.example.com/send", "http://", "not a url"] {
            let e = err(&format!("[sms]\nurl = \"{bad}\"\n"));
            assert_eq!(e.key(), Some("sms.url"), "{bad}: {e}");
        }
        parse("[sms]\nurl = \"http://127.0.0.1:8080/send?x=1\"\n").expect("http");
    }

    #[test]
    fn bad_template_is_named() {
        // Unquoted placeholders make invalid JSON once filled in.
        let e = err("[sms]\nbody_template = '{\"to\": {to}, \"text\": \"{text}\"}'\n");
        assert_eq!(e.key(), Some("sms.body_template"));
        let msg = e.to_string();
        assert!(msg.contains("not valid JSON"), "{msg}");
        assert!(msg.starts_with("test.toml, line 2"), "{msg}");
        let e = err("[sms]\nbody_template = '{\"to\": \"{to}\"}'\n");
        assert_eq!(e.key(), Some("sms.body_template"));
        assert!(e.to_string().contains("{text}"), "{e}");
        let e = err("[sms]\nauth_header = \"Bearer x\\ny\"\n");
        assert_eq!(e.key(), Some("sms.auth_header"));
    }

    #[test]
    fn template_renders_escaped_json_in_one_pass() {
        let sms = SmsConfig {
            body_template: r#"{"msisdn": "{to}", "message": {"body": "{text}"}, "n": 1}"#
                .to_string(),
            ..SmsConfig::default()
        };
        let out = sms.render("{text}", "say \"hi\"\nline {to}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["msisdn"], "{text}");
        assert_eq!(v["message"]["body"], "say \"hi\"\nline {to}");
        assert_eq!(v["n"], 1);
    }

    #[test]
    fn outbox_ranges() {
        for (key, value) in [
            ("max_attempts", 0),
            ("max_attempts", 101),
            ("retry_base_secs", 0),
            ("retry_base_secs", 3601),
            ("poll_secs", 0),
        ] {
            let e = err(&format!("[outbox]\n{key} = {value}\n"));
            assert_eq!(e.key(), Some(format!("outbox.{key}").as_str()), "{e}");
        }
        for (table, key) in [
            ("email", "timeout_secs"),
            ("sms", "timeout_secs"),
            ("email", "port"),
        ] {
            let e = err(&format!("[{table}]\n{key} = 0\n"));
            assert_eq!(e.key(), Some(format!("{table}.{key}").as_str()), "{e}");
        }
    }

    #[test]
    fn twilio_preset_fills_in_the_url_fields_and_format() {
        let c = parse(
            "[sms]\nprovider = \"twilio\"\nusername = \"AC123\"\npassword = \"tok\"\n\
             from = \"+15005550006\"\n",
        )
        .expect("parses");
        assert!(c.sms_configured());
        assert_eq!(c.sms.body_format(), SmsFormat::Form);
        assert_eq!(
            c.sms.endpoint().as_deref(),
            Some("https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json")
        );
        assert_eq!(
            c.sms.render_form("+15005550001", "Code 1 & 2"),
            "To=%2B15005550001&From=%2B15005550006&Body=Code+1+%26+2"
        );
        // An API key as the user, the account named apart, a regional edge.
        let c = parse(
            "[sms]\nprovider = \"twilio\"\nusername = \"SK9\"\npassword = \"s\"\n\
             account = \"AC7\"\nfrom = \"x\"\nurl = \"https://api.dublin.ie1.twilio.com/\"\n",
        )
        .expect("parses");
        assert_eq!(
            c.sms.endpoint().as_deref(),
            Some("https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC7/Messages.json")
        );
        for (text, key) in [
            ("password = \"p\"\nfrom = \"x\"\n", "sms.username"),
            ("username = \"AC1\"\npassword = \"p\"\n", "sms.from"),
            (
                "username = \"AC1\"\npassword = \"p\"\nfrom = \"x\"\nformat = \"json\"\n",
                "sms.format",
            ),
            (
                "username = \"AC1\"\npassword = \"p\"\nfrom = \"x\"\nurl = \"http://h/x\"\n",
                "sms.url",
            ),
        ] {
            let e = err(&format!("[sms]\nprovider = \"twilio\"\n{text}"));
            assert_eq!(e.key(), Some(key), "{text}: {e}");
        }
    }

    #[test]
    fn sms_logins_and_forms_are_checked() {
        for (text, key) in [
            ("url = \"http://h/\"\nusername = \"u\"\n", "sms.password"),
            (
                "url = \"http://h/\"\nusername = \"u\"\npassword = \"p\"\npassword_file = \"f\"\n",
                "sms.password_file",
            ),
            (
                "url = \"http://h/\"\nusername = \"u\"\npassword = \"p\"\nauth_header = \"B x\"\n",
                "sms.auth_header",
            ),
            ("url = \"http://h/\"\naccount = \"AC1\"\n", "sms.account"),
            (
                "url = \"http://h/\"\nformat = \"form\"\nfields = { to = \"\" }\n",
                "sms.fields",
            ),
        ] {
            let e = err(&format!("[sms]\n{text}"));
            assert_eq!(e.key(), Some(key), "{text}: {e}");
        }
        let c = parse(
            "[sms]\nurl = \"http://h/\"\nformat = \"form\"\nfrom = \"Acme\"\n\
             fields = { to = \"msisdn\", text = \"message\" }\n",
        )
        .expect("parses");
        assert_eq!(
            c.sms.render_form("+1555", "hi"),
            "msisdn=%2B1555&from=Acme&message=hi"
        );
        let c = parse(
            "[sms]\nurl = \"http://h/\"\nfrom = \"Acme\"\n\
             body_template = '{\"to\": \"{to_digits}\", \"from\": \"{from}\", \"text\": \"{text}\"}'\n",
        )
        .expect("parses");
        let v: serde_json::Value =
            serde_json::from_str(&c.sms.render("+447700900123", "x")).expect("json");
        assert_eq!(v["to"], "447700900123");
        assert_eq!(v["from"], "Acme");
    }

    #[test]
    fn a_login_needs_tls_and_passwords_come_from_files() {
        let e =
            err("[email]\nhost = \"h\"\nsecurity = \"none\"\nusername = \"u\"\npassword = \"p\"\n");
        assert_eq!(e.key(), Some("email.security"));
        let e = err("[email]\nhost = \"h\"\nsecurity = \"none\"\nca_file = \"ca.pem\"\n");
        assert_eq!(e.key(), Some("email.ca_file"));

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("smtp-pw"), "s3cret pass\n").expect("write");
        std::fs::write(dir.path().join("empty"), "").expect("write");
        let file = dir.path().join("dirgate.toml");
        std::fs::write(
            &file,
            "[email]\nhost = \"h\"\nusername = \"u\"\npassword_file = \"smtp-pw\"\n\
             ca_file = \"ca.pem\"\n\
             [sms]\nurl = \"http://h/\"\nusername = \"u\"\npassword_file = \"empty\"\n",
        )
        .expect("write");
        let c = Config::load(Some(&file)).expect("loads");
        assert_eq!(c.email.password_file, Some(dir.path().join("smtp-pw")));
        assert_eq!(c.email.ca_file, Some(dir.path().join("ca.pem")));
        let password = c.email.password().expect("read").expect("set");
        assert_eq!(password.expose(), "s3cret pass");
        let e = c.sms.password().expect_err("empty");
        assert!(e.to_string().contains("is empty"), "{e}");
        let missing = SmsConfig {
            password_file: Some(dir.path().join("nope")),
            ..SmsConfig::default()
        };
        let e = missing.password().expect_err("missing");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
