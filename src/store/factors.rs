//! What second factors and password resets keep: the pending email or SMS
//! code of an account, the computers it is recognised from, and reset
//! tokens. Only hashes of codes and tokens are stored.

use jiff::Timestamp;
use uuid::Uuid;

use super::outbox::NewMessage;
use super::StoreResult;
use crate::model::{AccountId, Channel};

/// The pending one-time code of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    pub code_hash: [u8; 32],
    pub channel: Channel,
    pub created: Timestamp,
    pub expires: Timestamp,
    pub tries: u32,
}

/// A computer an account is recognised from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecognisedComputer {
    pub uuid: Uuid,
    /// `address:IP` or `certificate:SHA-256 hex`.
    pub computer: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub expires: Timestamp,
}

/// A reset token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetToken {
    pub account: AccountId,
    pub created: Timestamp,
    pub expires: Timestamp,
    pub spent: Option<Timestamp>,
}

pub trait Factors: Send + Sync + 'static {
    // --- one-time codes ---------------------------------------------------
    /// Replaces the account's pending code and queues the message that
    /// carries it, in one transaction: no code without its message.
    fn issue_code(
        &self,
        account: AccountId,
        code: &PendingCode,
        message: &NewMessage,
        now: Timestamp,
    ) -> StoreResult<()>;
    fn pending_code(&self, account: AccountId) -> StoreResult<Option<PendingCode>>;
    /// Spends the code if it is still the pending one and unexpired; false
    /// if another bind spent it first. One statement, so two binds racing
    /// with one code cannot both win.
    fn spend_code(
        &self,
        account: AccountId,
        code_hash: &[u8; 32],
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Counts a wrong try. Returns the tries so far; a code with
    /// `max_tries` or more is dead (never accepted) but kept until it
    /// expires or is replaced, so that its time still spaces the next one.
    fn wrong_code(&self, account: AccountId, max_tries: u32) -> StoreResult<u32>;

    // --- recognised computers ---------------------------------------------
    fn computer_recognised(
        &self,
        account: AccountId,
        computer: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Recognises (or re-recognises) a computer until `expires`.
    fn recognise_computer(
        &self,
        account: AccountId,
        computer: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> StoreResult<()>;
    /// The account's computers still recognised at `now`, newest first.
    fn computers(&self, account: AccountId, now: Timestamp)
        -> StoreResult<Vec<RecognisedComputer>>;
    /// Forgets one computer (by id) or all; returns how many went.
    fn forget_computers(&self, account: AccountId, which: Option<Uuid>) -> StoreResult<u64>;

    // --- password resets --------------------------------------------------
    /// Stores a reset token, marks the account reset-pending (it cannot
    /// bind until the password changes) and queues the message with the
    /// link, in one transaction.
    fn issue_reset(
        &self,
        account: AccountId,
        token_hash: &[u8; 32],
        expires: Timestamp,
        message: &NewMessage,
        now: Timestamp,
    ) -> StoreResult<()>;
    fn reset_token(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ResetToken>>;
    /// Resets issued for the account since `since` (for rate limiting).
    fn resets_since(&self, account: AccountId, since: Timestamp) -> StoreResult<u64>;
    /// Spends the token and sets the new password, clears the reset state
    /// and forgets every recognised computer, in one transaction. False if
    /// the token was spent or expired meanwhile.
    fn spend_reset(
        &self,
        token_hash: &[u8; 32],
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
}
