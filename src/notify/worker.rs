//! The delivery loop: takes due messages from the outbox, sends each with a
//! time limit, and records the outcome. Everything it knows is in the store,
//! so a restart picks up where the last run stopped; a message that was
//! being sent when the process died is sent again (at least once).

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::{NotifyError, Senders, Wake};
use crate::config::Config;
use crate::core::second_factor::masked;
use crate::metrics::Metrics;
use crate::model::Channel;
use crate::store::{Outbox, QueuedMessage, StoreError, StoreResult};

/// The longest wait between two attempts at one message.
pub const RETRY_CAP: Duration = Duration::from_secs(3600);

/// Messages taken from the queue at once.
const BATCH: u32 = 32;

/// How the worker paces itself; from `[outbox]`, `[email]` and `[sms]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Attempts before a message is given up (at least 1).
    pub max_attempts: u32,
    /// The wait after the first failed attempt; doubled after each further one.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_cap: Duration,
    /// The longest sleep when nothing is due and nothing wakes the worker.
    pub poll: Duration,
    /// Time limit of one email delivery.
    pub email_timeout: Duration,
    /// Time limit of one SMS delivery.
    pub sms_timeout: Duration,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            max_attempts: config.outbox.max_attempts,
            retry_base: Duration::from_secs(config.outbox.retry_base_secs),
            retry_cap: RETRY_CAP,
            poll: Duration::from_secs(config.outbox.poll_secs),
            email_timeout: config.email.timeout(),
            sms_timeout: config.sms.timeout(),
        }
    }

    /// The wait after `failed` failed attempts (1 for the first):
    /// `retry_base × 2^(failed − 1)`, at most `retry_cap`.
    pub fn backoff(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.retry_base
            .checked_mul(1u32 << doublings)
            .map_or(self.retry_cap, |d| d.min(self.retry_cap))
    }

    fn timeout(&self, channel: Channel) -> Duration {
        match channel {
            Channel::Email => self.email_timeout,
            Channel::Sms => self.sms_timeout,
        }
    }
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Failed, to be tried again later.
    Retry,
    /// Failed for good.
    Failed,
}

/// Takes messages from the store and sends them.
pub struct Worker {
    store: Arc<dyn Outbox>,
    senders: Senders,
    settings: Settings,
    metrics: Option<Metrics>,
}

impl Worker {
    pub fn new(store: Arc<dyn Outbox>, senders: Senders, settings: Settings) -> Worker {
        Worker {
            store,
            senders,
            settings,
            metrics: None,
        }
    }

    /// Counts failed delivery attempts in `metrics`.
    pub fn set_metrics(&mut self, metrics: Metrics) {
        self.metrics = Some(metrics);
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs until `shutdown` turns true (or its sender is gone): delivers
    /// what is due, then sleeps until the next message is due, `wake` is
    /// poked, or `poll` has passed. A send in progress at shutdown finishes
    /// (within its time limit) and is recorded.
    pub async fn run(&self, wake: Wake, mut shutdown: watch::Receiver<bool>) {
        info!(
            email = self.senders.email.is_some(),
            sms = self.senders.sms.is_some(),
            "notifier started"
        );
        loop {
            if *shutdown.borrow() {
                break;
            }
            let now = Timestamp::now();
            let sleep = match self.deliver_due_until(now, &shutdown).await {
                // A full batch: more may be waiting.
                Ok(taken) if taken >= BATCH as usize => Duration::ZERO,
                Ok(_) => match self.blocking(|s| s.next_due()).await {
                    Ok(next) => self.sleep_until(next),
                    Err(e) => {
                        warn!(error = %e, "notifier cannot read the outbox");
                        self.settings.poll
                    }
                },
                Err(e) => {
                    warn!(error = %e, "notifier cannot read the outbox");
                    self.settings.poll
                }
            };
            if sleep.is_zero() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = wake.notified() => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        info!("notifier stopped");
    }

    /// How long to sleep when the earliest pending message is due at `next`.
    fn sleep_until(&self, next: Option<Timestamp>) -> Duration {
        let Some(next) = next else {
            return self.settings.poll;
        };
        let wait = next.duration_since(Timestamp::now());
        if wait.is_negative() || wait.is_zero() {
            return Duration::ZERO;
        }
        wait.unsigned_abs().min(self.settings.poll)
    }

    /// Delivers the messages due at `now` (one batch), recording every
    /// outcome as at `now`; gives each message's id and outcome. For tests
    /// and one-shot use: the clock is the caller's.
    pub async fn deliver_due(&self, now: Timestamp) -> StoreResult<Vec<(i64, Outcome)>> {
        let due = self.blocking(move |s| s.due_messages(now, BATCH)).await?;
        let mut outcomes = Vec::with_capacity(due.len());
        for message in due {
            let id = message.id;
            outcomes.push((id, self.deliver(message, now).await?));
        }
        Ok(outcomes)
    }

    async fn deliver_due_until(
        &self,
        now: Timestamp,
        shutdown: &watch::Receiver<bool>,
    ) -> StoreResult<usize> {
        let due = self.blocking(move |s| s.due_messages(now, BATCH)).await?;
        let taken = due.len();
        for message in due {
            if *shutdown.borrow() {
                break;
            }
            self.deliver(message, Timestamp::now()).await?;
        }
        Ok(taken)
    }

    /// Sends one message and records the outcome.
    async fn deliver(&self, message: QueuedMessage, now: Timestamp) -> StoreResult<Outcome> {
        let id = message.id;
        let channel = message.channel;
        let to = masked(channel, &message.recipient);
        let attempt = message.attempts + 1;
        let result = self.send(&message).await;
        if let (Err(e), Some(metrics)) = (&result, &self.metrics) {
            let channel = match channel {
                Channel::Email => "email",
                Channel::Sms => "sms",
            };
            metrics.delivery_failure(channel, e.reason());
        }
        match result {
            Ok(()) => {
                self.blocking(move |s| s.message_delivered(id, now)).await?;
                info!(id, %channel, %to, attempt, "message delivered");
                Ok(Outcome::Delivered)
            }
            Err(e) if e.is_permanent() || attempt >= self.settings.max_attempts => {
                let text = e.to_string();
                self.blocking(move |s| s.message_failed(id, &text, now))
                    .await?;
                error!(id, %channel, %to, attempt, error = %e, "message given up");
                Ok(Outcome::Failed)
            }
            Err(e) => {
                let wait = self.settings.backoff(attempt);
                let retry_at = SignedDuration::try_from(wait)
                    .ok()
                    .and_then(|d| now.checked_add(d).ok())
                    .unwrap_or(now);
                let text = e.to_string();
                self.blocking(move |s| s.message_retry(id, &text, retry_at))
                    .await?;
                warn!(
                    id, %channel, %to, attempt, error = %e, retry_in_secs = wait.as_secs_f64(),
                    "message not delivered; will retry"
                );
                Ok(Outcome::Retry)
            }
        }
    }

    async fn send(&self, message: &QueuedMessage) -> Result<(), NotifyError> {
        let Some(body) = message.body.as_deref() else {
            return Err(NotifyError::NoBody);
        };
        let limit = self.settings.timeout(message.channel);
        let sent = match message.channel {
            Channel::Email => {
                let sender = self
                    .senders
                    .email
                    .as_ref()
                    .ok_or(NotifyError::NotConfigured(Channel::Email))?;
                tokio::time::timeout(
                    limit,
                    sender.send(&message.recipient, &message.subject, body),
                )
                .await
                .map(|r| r.map_err(NotifyError::from))
            }
            Channel::Sms => {
                let sender = self
                    .senders
                    .sms
                    .as_ref()
                    .ok_or(NotifyError::NotConfigured(Channel::Sms))?;
                tokio::time::timeout(limit, sender.send(&message.recipient, body))
                    .await
                    .map(|r| r.map_err(NotifyError::from))
            }
        };
        sent.unwrap_or(Err(NotifyError::Timeout(limit)))
    }

    /// A store call on a blocking thread.
    async fn blocking<T, F>(&self, call: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Outbox) -> StoreResult<T> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(&*store))
            .await
            .map_err(|e| StoreError::Unusable(format!("a store call did not finish: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Settings::from_config(&Config::default());
        assert_eq!(s.backoff(1), Duration::from_secs(5));
        assert_eq!(s.backoff(2), Duration::from_secs(10));
        assert_eq!(s.backoff(3), Duration::from_secs(20));
        assert_eq!(s.backoff(10), Duration::from_secs(2560));
        assert_eq!(s.backoff(11), RETRY_CAP);
        assert_eq!(s.backoff(u32::MAX), RETRY_CAP);
        assert_eq!(s.backoff(0), Duration::from_secs(5));
    }
}
