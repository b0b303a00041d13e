//! The audit log in SQLite.

use jiff::Timestamp;
use rusqlite::{named_params, Row};

use super::convert::{micros, query_all, timestamp};
use super::SqliteStore;
use crate::store::audit::{AuditLog, AuditRecord};
use crate::store::StoreResult;

fn record(row: &Row<'_>) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        at: timestamp(row, "at")?,
        actor: row.get("actor")?,
        face: row.get("face")?,
        action: row.get("action")?,
        target: row.get("target")?,
        detail: row.get("detail")?,
        result: row.get("result")?,
    })
}

thread_local! {
    /// The record staged by this thread for its next write transaction.
    pub(super) static STAGED: std::cell::RefCell<Option<AuditRecord>> =
        const { std::cell::RefCell::new(None) };
}

/// Writes a record inside a caller's transaction.
pub(super) fn insert(tx: &rusqlite::Transaction<'_>, r: &AuditRecord) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO audit (at, actor, face, action, target, detail, result)
                 VALUES (:at, :actor, :face, :action, :target, :detail, :result)",
    )?
    .execute(named_params! {
        ":at": micros(r.at),
        ":actor": r.actor,
        ":face": r.face,
        ":action": r.action,
        ":target": r.target,
        ":detail": r.detail,
        ":result": r.result,
    })?;
    Ok(())
}

impl AuditLog for SqliteStore {
    fn append_audit(&self, r: &AuditRecord) -> StoreResult<()> {
        self.write(|tx| insert(tx, r))
    }

    fn stage_audit(&self, record: AuditRecord) {
        STAGED.with(|s| *s.borrow_mut() = Some(record));
    }

    fn take_staged_audit(&self) -> Option<AuditRecord> {
        STAGED.with(|s| s.borrow_mut().take())
    }

    fn audit_records(
        &self,
        user: Option<&str>,
        since: Option<Timestamp>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.read(|conn| {
            query_all(
                conn,
                "SELECT at, actor, face, action, target, detail, result FROM audit
                 WHERE (:user IS NULL OR actor = :user COLLATE NOCASE
                                      OR target = :user COLLATE NOCASE)
                   AND (:since IS NULL OR at >= :since)
                 ORDER BY id DESC LIMIT :limit",
                named_params! {
                    ":user": user,
                    ":since": since.map(micros),
                    ":limit": limit,
                },
                record,
            )
        })
    }
}
