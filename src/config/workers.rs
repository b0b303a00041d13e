//! `[workers]`: the pool that runs blocking work off the async workers.

use serde::{Deserialize, Serialize};

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
