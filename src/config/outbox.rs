//! `[outbox]`: how queued messages are retried.

use serde::{Deserialize, Serialize};

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
