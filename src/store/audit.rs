//! The audit log's storage: one row an event, appended, never changed.

use jiff::Timestamp;

use super::StoreResult;

/// One audited event. `detail` names what changed and never holds a
/// secret value (a password, a code, a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: Timestamp,
    /// The acting account's user name, or `system` (the command line).
    pub actor: String,
    /// `ldap`, `scim`, `web` or `cli`.
    pub face: String,
    /// What was done: `account.create`, `bind`, `group.change`...
    pub action: String,
    /// What it was done to: a user name or a group name.
    pub target: String,
    pub detail: String,
    /// `ok`, or what stopped it.
    pub result: String,
}

pub trait AuditLog: Send + Sync + 'static {
    fn append_audit(&self, record: &AuditRecord) -> StoreResult<()>;
    /// Hands over a record to be written in the same transaction as this
    /// thread's next write, so that a change and its audit row commit
    /// together. (Every store call of one core operation runs on the
    /// calling thread.)
    fn stage_audit(&self, record: AuditRecord);
    /// Takes back a staged record that no write has taken yet.
    fn take_staged_audit(&self) -> Option<AuditRecord>;
    /// Newest first: events by or about `user` (ignoring case) when given,
    /// at or after `since` when given, at most `limit`.
    fn audit_records(
        &self,
        user: Option<&str>,
        since: Option<Timestamp>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
}
