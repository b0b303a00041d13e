//! `[password]`: password policy and the cost of hashing.

use serde::{Deserialize, Serialize};

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
