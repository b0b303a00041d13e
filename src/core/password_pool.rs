//! The threads that hash and verify passwords. argon2 is pure CPU work of
//! tens of milliseconds; a flood of binds must not take the CPU from
//! searches. So these are threads of their own, started at a lower
//! scheduling class (Linux's SCHED_IDLE, nice 19 as well): the kernel
//! runs them on whatever CPU the searches leave, and a search that wakes
//! takes the CPU from them at once, which keeps search latency while binds
//! still use every idle cycle. (At nice 19 alone, a waking search still
//! waited for the running hash now and then: search p99 under a bind flood
//! was about twice its p99 without one.) Their own threads also keep each one's argon2 working memory
//! for the next job (see `password.rs`).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::core::error::{CoreError, CoreResult};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed number of low-priority threads taking jobs in arrival order.
#[derive(Clone)]
pub struct PasswordPool {
    jobs: mpsc::Sender<Job>,
}

/// How much lower than the daemon's the password threads run.
const NICENESS: i32 = 19;

impl PasswordPool {
    pub fn new(threads: usize) -> PasswordPool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("dirgate-password-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while taking a job.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            // Every sender is gone: the daemon is stopping.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password thread");
            }
        }
        PasswordPool { jobs }
    }

    pub async fn run<T, F>(&self, work: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.send(job).map_err(|_| CoreError::ShuttingDown)?;
        result.await.map_err(|_| CoreError::ShuttingDown)
    }
}

/// Lowers this thread's priority. Failing to is not fatal: the pool works,
/// only without the preference for searches, and says so.
fn lower_priority() {
    // SAFETY: setpriority has no memory-safety preconditions; on Linux
    // PRIO_PROCESS with a thread id (gettid) sets that thread's nice value.
    let result = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICENESS)
    };
    if result != 0 {
        tracing::warn!("cannot lower the priority of a password thread");
    }
    let idle = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler reads the parameter block we pass and has
    // no other preconditions; pid 0 is the calling thread.
    let result = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &idle) };
    if result != 0 {
        tracing::warn!("cannot put a password thread in the idle scheduling class");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_low_priority_threads_and_answer() {
        let pool = PasswordPool::new(2);
        let answers = futures_util::future::join_all((0..8).map(|i| {
            let pool = pool.clone();
            async move { pool.run(move || i * 2).await.unwrap() }
        }))
        .await;
        assert_eq!(answers, (0..8).map(|i| i * 2).collect::<Vec<_>>());
        let nice = pool
            .run(|| {
                // SAFETY: as in lower_priority; reads this thread's nice value.
                unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
            })
            .await
            .unwrap();
        assert_eq!(nice, NICENESS);
        let policy = pool
            .run(|| {
                // SAFETY: reads the calling thread's scheduling policy.
                unsafe { libc::sched_getscheduler(0) }
            })
            .await
            .unwrap();
        assert_eq!(policy, libc::SCHED_IDLE);
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("dirgate-password-"));
    }
}
