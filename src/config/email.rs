//! `[email]`: the SMTP server that sends email codes and links, and the
//! checks of its keys.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{check_login, nonzero, password_from, resolve, Secret, SecretFileError};

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

    pub(super) fn resolve_relative_to(&mut self, folder: &Path) {
        resolve(&mut self.password_file, folder);
        resolve(&mut self.ca_file, folder);
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

impl EmailConfig {
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
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
