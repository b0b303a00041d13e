//! Schema versions, and the safety check an existing file passes before
//! dirgate changes anything in it.
//!
//! Each migration runs once, in order, in its own transaction that also
//! records its number in `PRAGMA user_version`: a crash mid-way leaves the
//! file at the previous version, never half-migrated.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::pool::BUSY_TIMEOUT;
use crate::store::{StoreError, StoreResult};

pub(super) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every schema change, oldest first; versions are 1, 2, 3... with no gaps.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "search",
        sql: include_str!("migrations/0002_search.sql"),
    },
    Migration {
        version: 3,
        name: "messages",
        sql: include_str!("migrations/0003_messages.sql"),
    },
    Migration {
        version: 4,
        name: "audit",
        sql: include_str!("migrations/0004_audit.sql"),
    },
    Migration {
        version: 5,
        name: "identity providers",
        sql: include_str!("migrations/0005_identity_providers.sql"),
    },
    Migration {
        version: 6,
        name: "posix",
        sql: include_str!("migrations/0006_posix.sql"),
    },
];

/// The newest schema version this binary knows.
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// `PRAGMA application_id` of a dirgate file ("dirg" in ASCII), so that a
/// SQLite file of another application is recognised and left alone.
pub(super) const APPLICATION_ID: i32 = 0x6469_7267;

/// Checks an existing file through a read-only connection, so that a file
/// dirgate must not use is refused with its bytes untouched: not SQLite, another
/// application's database, a newer schema, or a failed integrity check.
pub(super) fn inspect(path: &Path) -> StoreResult<()> {
    let shown = path.display();
    let not_ours = |why: &str| {
        StoreError::Unusable(format!(
            "{shown} is not a dirgate database ({why}): it was left unchanged"
        ))
    };
    let unreadable = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => not_ours(&e.to_string()),
        _ => StoreError::Unusable(format!(
            "{shown} cannot be read ({e}): it was left unchanged"
        )),
    };

    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(unreadable)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unreadable)?;

    // SQLite reads the file header lazily: this first query is where a file
    // that is not a database is found out.
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(unreadable)?;
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(unreadable)?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(not_ours("it belongs to another application"));
    }
    if version < 0 {
        return Err(not_ours(&format!("unknown schema version {version}")));
    }
    if version == 0 {
        // Version 0 is a fresh file; one that already holds tables is
        // somebody else's.
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(unreadable)?;
        if tables > 0 {
            return Err(not_ours("it holds tables of another application"));
        }
    }
    if version > latest() {
        return Err(newer_schema(path, version));
    }

    let mut problems = Vec::new();
    let mut stmt = conn.prepare("PRAGMA quick_check").map_err(unreadable)?;
    let mut rows = stmt.query([]).map_err(unreadable)?;
    while let Some(row) = rows.next().map_err(unreadable)? {
        let line: String = row.get(0).map_err(unreadable)?;
        if line != "ok" && problems.len() < 5 {
            problems.push(line);
        }
    }
    if !problems.is_empty() {
        return Err(StoreError::Unusable(format!(
            "{shown} failed its integrity check ({}): restore it from a backup; \
             the file was left unchanged",
            problems.join("; ")
        )));
    }
    Ok(())
}

fn newer_schema(path: &Path, version: i64) -> StoreError {
    StoreError::Unusable(format!(
        "{} has schema version {version} but this dirgate knows only up to {}: \
         upgrade dirgate; the file was left unchanged",
        path.display(),
        latest()
    ))
}

/// Applies every migration the file does not have yet.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> StoreResult<()> {
    for migration in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read under the write lock: another process may have migrated
        // between our check and now.
        let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if current > latest() {
            return Err(newer_schema(path, current));
        }
        if current >= migration.version {
            continue; // already applied; dropping `tx` ends it
        }
        tx.execute_batch(migration.sql).map_err(|e| {
            StoreError::Unusable(format!(
                "{}: schema migration {:04}_{} failed ({e}); the file was left at version {current}",
                path.display(),
                migration.version,
                migration.name
            ))
        })?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "migration {}", m.name);
        }
    }
}
