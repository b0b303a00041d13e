//! Email through SMTP (lettre, tokio, rustls with ring): one connection per
//! message, no pool, so a server restart never leaves a dead connection.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use crate::config::{EmailConfig, SmtpSecurity};

/// Why an email was not sent. No variant carries the message body.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// `[email] host` is unset.
    #[error("email is not configured: set [email] host")]
    NotConfigured,
    /// `[email] from` is not a mailbox (the configuration check refuses it
    /// first; this is for a config built in code).
    #[error("[email] from is not a mailbox: {0}")]
    BadSender(String),
    /// The recipient is not an email address: retrying cannot help.
    #[error("the recipient is not an email address: {0}")]
    BadRecipient(String),
    #[error("the email could not be built: {0}")]
    Build(String),
    /// Connecting, TLS, or the server's answer.
    #[error("SMTP: {0}")]
    Smtp(String),
}

impl EmailError {
    /// Whether another attempt could succeed.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, EmailError::Smtp(_))
    }
}

/// Sends email as `[email]` says.
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailSender {
    /// The sender for `[email]`, or `NotConfigured` without a host.
    pub fn new(config: &EmailConfig) -> Result<EmailSender, EmailError> {
        let host = config.host.as_deref().ok_or(EmailError::NotConfigured)?;
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| EmailError::BadSender(format!("{e}")))?;
        let builder = match config.security {
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| EmailError::Smtp(e.to_string()))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| EmailError::Smtp(e.to_string()))?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout()));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(EmailSender {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one plain-text email.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), EmailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| EmailError::BadRecipient(format!("{e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| EmailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| EmailError::Smtp(e.to_string()))
    }
}
