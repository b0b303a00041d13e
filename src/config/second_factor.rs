//! `[second_factor]`: email and SMS codes, and recognised computers.

use serde::{Deserialize, Serialize};

/// `[second_factor]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecondFactorConfig {
    /// Seconds an email or SMS code stays valid (30 to 3600).
    pub code_lifetime_secs: u64,
    /// Wrong codes allowed before the code is dropped (1 to 20).
    pub code_tries: u32,
    /// Fewest seconds between two codes sent to one account (0 to 3600).
    pub resend_interval_secs: u64,
    /// Days a computer stays recognised after a two-factor bind (0 to 365;
    /// 0 makes every method ask every time).
    pub remember_computer_days: u64,
}

impl Default for SecondFactorConfig {
    fn default() -> Self {
        SecondFactorConfig {
            code_lifetime_secs: 300,
            code_tries: 5,
            resend_interval_secs: 60,
            remember_computer_days: 30,
        }
    }
}
