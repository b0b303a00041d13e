//! The connections: one writer, and a small pool of read-only readers that
//! WAL lets run alongside it (readers never wait for the writer).

use std::cell::Cell;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::{StoreError, StoreResult};

/// How long a statement waits for a lock held by another connection (another
/// process, a backup) before failing with "database is locked".
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection; the dynamic SQL (visibility
/// variants, update SET lists) makes a few dozen distinct statements.
const STATEMENT_CACHE: usize = 64;

/// Locks a mutex, recovering it if a thread panicked while holding it. That
/// is safe here: a panic inside a write drops its `Transaction`, which rolls
/// back, so the connection is left with no half-done work.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Opens the read-write connection and sets it up: WAL (readers run beside
/// the writer), `synchronous=NORMAL` (with WAL, a committed transaction
/// survives a process crash; only a power cut may lose the last few), and
/// foreign keys on (SQLite leaves them off by default).
pub(super) fn open_writer(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| {
        StoreError::Unusable(format!(
            "{} cannot be opened for writing: {e}",
            path.display()
        ))
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unusable(format!(
            "{} cannot use write-ahead logging (journal mode stayed {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // What is deleted or overwritten (a delivered message's text, a used
    // reset token, an old password hash) is zeroed in the file, not left
    // in free space for a copy of the file to carry.
    conn.pragma_update(None, "secure_delete", true)?;
    // A write-ahead log restarted after a checkpoint is cut back to
    // nothing, so old frames (old contents of pages) do not linger in it.
    conn.pragma_update(None, "journal_size_limit", 0)?;
    tune_cache(&conn)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// SQLite's default 2 MiB page cache stops holding the hot index pages
/// somewhere past tens of thousands of accounts, and a lookup then costs
/// system calls. A larger cache per connection, and a memory map whose pages
/// the OS shares between connections, keep a search's cost flat as the
/// directory grows.
fn tune_cache(conn: &Connection) -> StoreResult<()> {
    const CACHE_KIB: i64 = 16 * 1024;
    const MMAP_BYTES: i64 = 256 * 1024 * 1024;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    // Without the query-planner stability guarantee, SQLite recompiles a
    // cached statement whenever a bound value might change its plan: every
    // search for a different uid paid a full parse (seen in a profile as
    // sqlite3Reprepare). The indexes make the first plan right for any value.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // The answer is the size granted (0 where mmap is unavailable): fine.
    let _: i64 = conn.pragma_update_and_check(None, "mmap_size", MMAP_BYTES, |r| r.get(0))?;
    Ok(())
}

fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    tune_cache(&conn)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// A fixed set of read-only connections. Each sits behind its own mutex
/// (only ever taken by the thread that checked it out, so never contended);
/// `free` lists the ones nobody holds, and `returned` wakes a thread waiting
/// for one.
pub(super) struct ReaderPool {
    conns: Vec<Mutex<Connection>>,
    free: Mutex<Vec<usize>>,
    returned: Condvar,
}

impl ReaderPool {
    pub(super) fn open(path: &Path, size: usize) -> StoreResult<ReaderPool> {
        let size = size.max(1);
        let conns = (0..size)
            .map(|_| open_reader(path).map(Mutex::new))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ReaderPool {
            conns,
            free: Mutex::new((0..size).collect()),
            returned: Condvar::new(),
        })
    }

    /// Takes a free reader, waiting for one if all are busy. It goes back to
    /// the pool when the returned guard is dropped.
    pub(super) fn checkout(&self) -> Reader<'_> {
        let index = self.reserve();
        Reader {
            pool: self,
            index,
            conn: lock(&self.conns[index]),
        }
    }

    /// Runs `work` with one reader reserved for this thread inside one read
    /// transaction: every `read` the work makes on this thread uses that
    /// reader, so they all see one snapshot and pay for locking the
    /// database once instead of once per statement. Nested calls join the
    /// outer snapshot.
    pub(super) fn snapshot(&self, work: &mut dyn FnMut()) -> StoreResult<()> {
        if self.pinned().is_some() {
            work();
            return Ok(());
        }
        let index = self.reserve();
        let pin = Pinned { pool: self, index };
        // Cached statements: parsing BEGIN and COMMIT anew each time showed
        // in a search profile.
        lock(&self.conns[index])
            .prepare_cached("BEGIN")?
            .execute([])?;
        PINNED.with(|p| p.set(Some((self.id(), index))));
        work();
        drop(pin);
        Ok(())
    }

    /// The reader this thread reserved with `snapshot`, if any.
    pub(super) fn pinned(&self) -> Option<MutexGuard<'_, Connection>> {
        let (pool, index) = PINNED.with(Cell::get)?;
        (pool == self.id()).then(|| lock(&self.conns[index]))
    }

    /// Tells pools apart in the thread-local (tests open several stores).
    fn id(&self) -> usize {
        self as *const ReaderPool as usize
    }

    /// Takes a free reader's index off the list, waiting for one.
    fn reserve(&self) -> usize {
        let mut free = lock(&self.free);
        let index = loop {
            if let Some(index) = free.pop() {
                break index;
            }
            free = self
                .returned
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        };
        drop(free);
        index
    }

    fn release(&self, index: usize) {
        lock(&self.free).push(index);
        self.returned.notify_one();
    }
}

thread_local! {
    /// (pool, reader) reserved by a `snapshot` running on this thread.
    static PINNED: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// Ends a snapshot, even when its work panicked: the read transaction ends
/// (a read has nothing to keep), the thread forgets the reader and the
/// reader goes back to the pool.
struct Pinned<'a> {
    pool: &'a ReaderPool,
    index: usize,
}

impl Drop for Pinned<'_> {
    fn drop(&mut self) {
        PINNED.with(|p| p.set(None));
        let conn = lock(&self.pool.conns[self.index]);
        if !conn.is_autocommit() {
            // A read has nothing to keep: should COMMIT fail, ROLLBACK ends
            // the transaction all the same, so the reader is fit for the
            // next BEGIN.
            let ended = conn
                .prepare_cached("COMMIT")
                .and_then(|mut end| end.execute([]));
            if ended.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
        drop(conn);
        self.pool.release(self.index);
    }
}

/// A checked-out reader; derefs to its connection.
pub(super) struct Reader<'a> {
    pool: &'a ReaderPool,
    index: usize,
    conn: MutexGuard<'a, Connection>,
}

impl Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.pool.release(self.index);
    }
}
