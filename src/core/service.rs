//! The async door to the core. Store work and password hashing block, so
//! they run on two bounded pools of their own, never on the async workers:
//! a flood of binds fills the password pool and waits there, while searches
//! keep flowing through the store pool.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::core::access::Actor;
use crate::core::directory::{AuthError, Directory};
use crate::core::error::{CoreError, CoreResult};
use crate::core::model::Account;
use crate::core::password::PreparedPassword;
use crate::notify::Wake;

/// At most `size` closures running at once on tokio's blocking threads; the
/// rest wait their turn without holding a thread.
#[derive(Clone)]
pub struct BlockingPool {
    permits: Arc<Semaphore>,
}

impl BlockingPool {
    pub fn new(size: usize) -> Self {
        BlockingPool {
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    pub async fn run<T, F>(&self, work: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CoreError::ShuttingDown)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| CoreError::ShuttingDown)
    }
}

/// The directory core, shared by every face.
#[derive(Clone)]
pub struct Service {
    directory: Arc<Directory>,
    store_pool: BlockingPool,
    password_pool: BlockingPool,
    /// Pokes the notifier after a core call queued a message (a code, a
    /// reset link), so it is sent now rather than at the next poll.
    notifier: Wake,
}

impl Service {
    pub fn new(directory: Directory, store_threads: usize, password_threads: usize) -> Self {
        Service {
            directory: Arc::new(directory),
            store_pool: BlockingPool::new(store_threads),
            password_pool: BlockingPool::new(password_threads),
            notifier: Wake::new(),
        }
    }

    /// The handle the notifier listens on; the daemon gives it to the
    /// `Notifier` it starts.
    pub fn notifier_wake(&self) -> &Wake {
        &self.notifier
    }

    /// Tells the notifier that a message was just committed to the outbox.
    /// Harmless when no notifier runs.
    pub fn wake_notifier(&self) {
        self.notifier.wake();
    }

    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }

    /// Runs a core call on the store pool.
    pub async fn run<T, F>(&self, call: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Directory) -> CoreResult<T> + Send + 'static,
    {
        let directory = self.directory.clone();
        self.store_pool.run(move || call(&directory)).await?
    }

    /// Runs a core call as `actor` on the store pool: what every face does
    /// for a request once it knows who is asking.
    pub async fn run_as<T, F>(&self, actor: &Actor, call: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Directory, &Actor) -> CoreResult<T> + Send + 'static,
    {
        let actor = actor.clone();
        self.run(move |d| call(d, &actor)).await
    }

    /// Checks the policy and hashes on the password pool.
    pub async fn prepare_password(&self, password: String) -> CoreResult<PreparedPassword> {
        let directory = self.directory.clone();
        self.password_pool
            .run(move || directory.prepare_password(&password))
            .await?
    }

    /// An authentication (password, or password and code), each step on
    /// its own pool: lookups on the store pool, argon2 on the password pool.
    pub async fn authenticate(
        &self,
        user_name: String,
        credential: String,
    ) -> Result<Account, AuthError> {
        let attempt = self
            .run(move |d| d.begin_authentication(&user_name))
            .await?;
        let directory = self.directory.clone();
        let (attempt, verdict) = self
            .password_pool
            .run(move || {
                let verdict = directory.check_credential(&attempt, &credential);
                (attempt, verdict)
            })
            .await?;
        let directory = self.directory.clone();
        self.store_pool
            .run(move || directory.finish_authentication(attempt, verdict))
            .await?
    }
}
