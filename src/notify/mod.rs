//! The notifier: delivers the outbox's messages (one-time codes, reset
//! links) by email and SMS. The core commits a message to the store before
//! it answers; the notifier only ever reads the queue, sends, and records
//! the outcome, so nothing is lost when the process stops.
//!
//! - `worker`: the delivery loop, retries and backoff.
//! - `email`: SMTP through lettre.
//! - `sms`: a POST (JSON or form) to an HTTP gateway such as Twilio's.
//! - `sms_body`: the POST's body, from `[sms] body_template` or `fields`.
//!
//! Message bodies hold secrets: nothing here logs them or puts them in an
//! error.

pub mod email;
pub mod sms;
pub mod sms_body;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::Channel;
use crate::store::{Outbox, StoreError};

pub use email::{EmailError, EmailSender};
pub use sms::{SmsError, SmsSender};
pub use worker::{Outcome, Settings, Worker};

/// Pokes the notifier to look at the queue now rather than at its next
/// poll: what a caller does right after a message is committed. Cheap to
/// clone; a poke while the notifier is busy is kept for its next sleep.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn new() -> Wake {
        Wake::default()
    }

    pub fn wake(&self) {
        self.0.notify_one();
    }

    async fn notified(&self) {
        self.0.notified().await
    }
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wake")
    }
}

/// Why a message was not sent. The text is stored as the message's last
/// error, so it never holds the message body.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Sms(#[from] SmsError),
    #[error("no answer within {}s", .0.as_secs())]
    Timeout(Duration),
    #[error("{} is not configured: set {}", .0.display_name(), match .0 { Channel::Email => "[email] host", Channel::Sms => "[sms] url" })]
    NotConfigured(Channel),
    /// A pending message without its body: it cannot be sent.
    #[error("the message has no body")]
    NoBody,
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl NotifyError {
    /// The kind of failure, for the metrics: "refused" (the provider or
    /// server said no), "unavailable" (it could not take the message now),
    /// "timeout", "unreachable" (connecting, TLS, HTTP) or "configuration".
    pub fn reason(&self) -> &'static str {
        match self {
            NotifyError::Email(EmailError::Refused(_))
            | NotifyError::Sms(SmsError::Refused { .. })
            | NotifyError::Email(EmailError::BadRecipient(_)) => "refused",
            NotifyError::Sms(SmsError::Status(_)) => "unavailable",
            NotifyError::Timeout(_) => "timeout",
            NotifyError::Email(EmailError::Smtp(_))
            | NotifyError::Sms(SmsError::Connect(..) | SmsError::Tls(..) | SmsError::Http(_)) => {
                "unreachable"
            }
            NotifyError::Store(_) => "unavailable",
            _ => "configuration",
        }
    }

    /// Whether another attempt cannot help: the message fails at once.
    pub fn is_permanent(&self) -> bool {
        match self {
            NotifyError::Email(e) => e.is_permanent(),
            NotifyError::Sms(e) => e.is_permanent(),
            NotifyError::NotConfigured(_) | NotifyError::NoBody => true,
            NotifyError::Timeout(_) | NotifyError::Store(_) => false,
        }
    }
}

/// The configured senders; `None` for a channel that is not configured.
#[derive(Default)]
pub struct Senders {
    pub email: Option<EmailSender>,
    pub sms: Option<SmsSender>,
}

impl Senders {
    /// The senders `[email]` and `[sms]` configure.
    pub fn from_config(config: &Config) -> Result<Senders, NotifyError> {
        Ok(Senders {
            email: match config.email_configured() {
                true => Some(EmailSender::new(&config.email)?),
                false => None,
            },
            sms: match config.sms_configured() {
                true => Some(SmsSender::new(&config.sms)?),
                false => None,
            },
        })
    }
}

/// The notifier: one worker, and the handle that wakes it.
pub struct Notifier {
    worker: Worker,
    wake: Wake,
}

impl Notifier {
    /// A notifier over `store`, woken through `wake` (give it the handle the
    /// callers already hold, such as `Service::notifier_wake`).
    pub fn new(store: Arc<dyn Outbox>, senders: Senders, settings: Settings, wake: Wake) -> Self {
        Notifier {
            worker: Worker::new(store, senders, settings),
            wake,
        }
    }

    /// A notifier as the configuration says.
    pub fn from_config(
        store: Arc<dyn Outbox>,
        config: &Config,
        wake: Wake,
    ) -> Result<Notifier, NotifyError> {
        Ok(Notifier::new(
            store,
            Senders::from_config(config)?,
            Settings::from_config(config),
            wake,
        ))
    }

    /// Counts failed delivery attempts in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.worker.set_metrics(metrics);
        self
    }

    /// Pokes the worker: a message was just queued.
    pub fn wake(&self) {
        self.wake.wake();
    }

    /// A handle that pokes the worker, for whoever queues messages.
    pub fn waker(&self) -> Wake {
        self.wake.clone()
    }

    /// The worker, to deliver once without the loop (tests, tools).
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// Runs the delivery loop until `shutdown` turns true: see [`Worker::run`].
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        self.worker.run(self.wake, shutdown).await
    }

    /// Runs the delivery loop on its own task.
    pub fn spawn(self, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(self.run(shutdown))
    }
}
