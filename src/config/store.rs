//! `[store]`: the SQLite store.

use serde::{Deserialize, Serialize};

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
