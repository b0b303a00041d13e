//! Copies the write-ahead log back into the database file on a thread of
//! its own. SQLite's automatic checkpoint runs inside the commit that
//! crosses its threshold, so one request in every few hundred paid for
//! copying and syncing everyone's pages while holding the write lock (8% of
//! a create-flood profile). Here a passive checkpoint runs beside the
//! writer instead; readers and the writer never wait for it.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::pool::{lock, BUSY_TIMEOUT};
use crate::store::StoreResult;

/// Commits after which a checkpoint runs at once rather than at the next tick.
const COMMITS_PER_CHECKPOINT: u32 = 256;
/// The longest a committed change waits to be copied into the file.
const TICK: Duration = Duration::from_secs(1);
/// The writer's own automatic checkpoint, as a backstop should this thread
/// fall behind (WAL pages; SQLite's default is 1,000).
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: i64 = 20_000;

#[derive(Default)]
struct State {
    commits: u32,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, with a connection of its own to `path`.
    pub(super) fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("dirgate-checkpoint".into())
            .spawn(move || run(&conn, &theirs))
            .map_err(|e| {
                crate::store::StoreError::Unusable(format!("cannot start a thread: {e}"))
            })?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// Counts a commit; enough of them wake the thread early.
    pub(super) fn committed(&self) {
        let mut state = lock(&self.shared.state);
        state.commits = state.commits.saturating_add(1);
        if state.commits >= COMMITS_PER_CHECKPOINT {
            self.shared.wake.notify_one();
        }
    }
}

fn run(conn: &Connection, shared: &Shared) {
    loop {
        let mut state = lock(&shared.state);
        if state.commits < COMMITS_PER_CHECKPOINT && !state.stop {
            state = shared
                .wake
                .wait_timeout(state, TICK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if state.stop {
            return;
        }
        let commits = std::mem::take(&mut state.commits);
        drop(state);
        if commits > 0 {
            // PASSIVE copies what no reader still needs and never blocks;
            // what it leaves is copied next time.
            let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            if let Err(e) = done {
                tracing::warn!(error = %e, "checkpoint of the write-ahead log failed; retrying later");
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
