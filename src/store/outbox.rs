//! The outbox: messages (one-time codes, reset links) committed to the store
//! before anyone is told they were sent, then delivered by the notifier with
//! retries. Delivered and abandoned messages stay for audit, without their
//! secret.

use std::fmt;

use jiff::Timestamp;

use super::StoreResult;
use crate::model::{AccountId, Channel};

/// A message to queue. `body` carries the secret; `audit_body` is the same
/// text with the secret masked, kept after delivery.
#[derive(Clone)]
pub struct NewMessage {
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub audit_body: String,
    pub account: Option<AccountId>,
}

impl fmt::Debug for NewMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewMessage")
            .field("channel", &self.channel)
            .field("recipient", &self.recipient)
            .field("subject", &self.subject)
            .field("audit_body", &self.audit_body)
            .finish_non_exhaustive()
    }
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    Pending,
    Delivered,
    /// Given up after the last retry.
    Failed,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Pending => "pending",
            MessageState::Delivered => "delivered",
            MessageState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<MessageState> {
        [
            MessageState::Pending,
            MessageState::Delivered,
            MessageState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A message as stored. `body` is `None` once the message left the queue.
#[derive(Clone)]
pub struct QueuedMessage {
    pub id: i64,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body: Option<String>,
    pub audit_body: String,
    pub account: Option<AccountId>,
    pub created: Timestamp,
    pub next_attempt: Timestamp,
    pub attempts: u32,
    pub state: MessageState,
    pub last_error: Option<String>,
    pub finished: Option<Timestamp>,
}

impl fmt::Debug for QueuedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuedMessage")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("recipient", &self.recipient)
            .field("audit_body", &self.audit_body)
            .field("attempts", &self.attempts)
            .field("state", &self.state)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

/// The queue. Every call is one transaction.
pub trait Outbox: Send + Sync + 'static {
    /// Queues a message, due now.
    fn enqueue(&self, message: &NewMessage, now: Timestamp) -> StoreResult<i64>;
    /// Pending messages due at `now`, oldest first, at most `limit`.
    fn due_messages(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<QueuedMessage>>;
    /// The earliest `next_attempt` of a pending message, if any.
    fn next_due(&self) -> StoreResult<Option<Timestamp>>;
    /// Marks a message delivered and drops its secret body.
    fn message_delivered(&self, id: i64, now: Timestamp) -> StoreResult<()>;
    /// Records a failed attempt; the message is tried again at `retry_at`.
    fn message_retry(&self, id: i64, error: &str, retry_at: Timestamp) -> StoreResult<()>;
    /// Records the last failed attempt: the message is given up and its
    /// secret body dropped.
    fn message_failed(&self, id: i64, error: &str, now: Timestamp) -> StoreResult<()>;
    /// The newest messages, newest first (for audit and the command line).
    fn recent_messages(&self, limit: u32) -> StoreResult<Vec<QueuedMessage>>;
    /// How many messages are in each state (states without one are left out).
    fn outbox_counts(&self) -> StoreResult<Vec<(MessageState, u64)>>;
}
