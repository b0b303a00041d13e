//! Email through SMTP (lettre, tokio, rustls with ring): one connection per
//! message, no pool, so a server restart never leaves a dead connection.
//! With "starttls" or "tls" the server's certificate is checked against the
//! public web roots, or against `[email] ca_file` alone when it is set; the
//! login (AUTH PLAIN or LOGIN) is only ever sent once TLS is up.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use crate::config::{EmailConfig, SecretFileError, SmtpSecurity};

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
    #[error("[email] password_file: {0}")]
    PasswordFile(#[from] SecretFileError),
    #[error("[email] ca_file {0}: {1}")]
    CaFile(String, String),
    /// A login over a connection without TLS (the configuration check
    /// refuses it first; this is for a config built in code).
    #[error("[email] username is set but security is \"none\": the login would be sent in clear")]
    LoginWithoutTls,
    /// The server answered with a permanent (5xx) refusal: the same
    /// message would be refused again.
    #[error("SMTP server refused: {0}")]
    Refused(String),
    /// Connecting, TLS, or a transient answer of the server.
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
    /// The sender for `[email]`, or `NotConfigured` without a host. Reads
    /// `password_file` and `ca_file` now, so a missing one stops the start.
    pub fn new(config: &EmailConfig) -> Result<EmailSender, EmailError> {
        let host = config.host.as_deref().ok_or(EmailError::NotConfigured)?;
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| EmailError::BadSender(format!("{e}")))?;
        let tls = match config.security {
            SmtpSecurity::StartTls => Tls::Required(tls_parameters(host, config)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(host, config)?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout()));
        if let (Some(user), Some(password)) = (&config.username, config.password()?) {
            if config.security == SmtpSecurity::None {
                return Err(EmailError::LoginWithoutTls);
            }
            builder = builder
                .credentials(Credentials::new(
                    user.clone(),
                    password.expose().to_string(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
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
            .map_err(|e| match e.is_permanent() {
                true => EmailError::Refused(describe(&e)),
                false => EmailError::Smtp(describe(&e)),
            })
    }
}

/// lettre's error with its causes (where a TLS failure says what was wrong
/// with the certificate).
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    // lettre repeats its kind in front of its cause ("Connection error:
    // Connection error: ..."): once is enough.
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// TLS towards `host`: its certificate must name it and chain to the web
/// roots, or to the authorities in `ca_file` alone when that is set.
fn tls_parameters(host: &str, config: &EmailConfig) -> Result<TlsParameters, EmailError> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(ca_file) = &config.ca_file {
        let shown = ca_file.display().to_string();
        let pem = std::fs::read(ca_file)
            .map_err(|e| EmailError::CaFile(shown.clone(), format!("cannot read it: {e}")))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(EmailError::CaFile(
                shown,
                "holds no PEM certificate".to_string(),
            ));
        }
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| EmailError::CaFile(shown.clone(), e.to_string()))?;
        builder = builder
            .certificate_store(CertificateStore::None)
            .add_root_certificate(certificate);
    } else {
        builder = builder.certificate_store(CertificateStore::WebpkiRoots);
    }
    builder
        .build_rustls()
        .map_err(|e| EmailError::Smtp(format!("TLS setup: {e}")))
}
