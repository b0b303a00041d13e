//! Copies of the store: taken while the daemon serves (SQLite's online
//! backup, one step, so the copy is one consistent snapshot even while
//! another process writes), and put back while it is stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::migrations;
use crate::store::{StoreError, StoreResult};

fn unusable(what: &str, path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unusable(format!("{what} {}: {e}", path.display()))
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes a consistent copy of the database at `source` to `dest` (a new
/// file; an existing one is refused). The copy is written beside `dest`
/// and renamed into place, so `dest` is never half-written.
pub fn backup(source: &Path, dest: &Path) -> StoreResult<()> {
    if dest.try_exists().unwrap_or(true) {
        return Err(StoreError::Unusable(format!(
            "{} exists already: name a new file",
            dest.display()
        )));
    }
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unusable("cannot open", source, e))?;
    src.busy_timeout(Duration::from_secs(10))?;
    let partial = beside(dest, ".partial");
    let _ = std::fs::remove_file(&partial);
    // The copy holds what the store holds: the owner's alone.
    super::files::private_file(&partial).map_err(|e| unusable("cannot create", &partial, e))?;
    let mut dst = Connection::open(&partial).map_err(|e| unusable("cannot create", &partial, e))?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        // Every page in one step: one read transaction on the source, so
        // writes by the daemon meanwhile cannot tear the copy.
        backup.step(-1)?;
    }
    // The copy is a plain rollback-journal file, ready to be moved.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    // Rebuilt from its live rows only: whatever free space the pages
    // carried (deleted text from before secure_delete) stays behind.
    dst.execute_batch("VACUUM")?;
    drop(dst);
    migrations::inspect(&partial)?;
    std::fs::rename(&partial, dest).map_err(|e| unusable("cannot write", dest, e))?;
    Ok(())
}

/// Replaces the database at `target` with the backup at `backup`, after
/// checking the backup is a sound dirgate store this version can open.
/// The daemon must be stopped (the caller checks its lock).
pub fn restore(backup: &Path, target: &Path) -> StoreResult<()> {
    migrations::inspect(backup)?;
    let staging = beside(target, ".restoring");
    let _ = std::fs::remove_file(&staging);
    super::files::private_file(&staging).map_err(|e| unusable("cannot write", &staging, e))?;
    // Copied into the private file (a copy would take the backup's mode).
    std::io::copy(
        &mut std::fs::File::open(backup).map_err(|e| unusable("cannot read", backup, e))?,
        &mut std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&staging)
            .map_err(|e| unusable("cannot write", &staging, e))?,
    )
    .map_err(|e| unusable("cannot write", &staging, e))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| unusable("cannot write", &staging, e))?;
    // The old file's write-ahead log belongs to the old file.
    for suffix in ["-wal", "-shm"] {
        let side = beside(target, suffix);
        if side.try_exists().unwrap_or(false) {
            std::fs::remove_file(&side).map_err(|e| unusable("cannot remove", &side, e))?;
        }
    }
    std::fs::rename(&staging, target).map_err(|e| unusable("cannot replace", target, e))?;
    Ok(())
}
