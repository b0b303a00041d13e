//! The async door to the core. Store work and password hashing block, so
//! they run on two bounded pools of their own, never on the async workers:
//! a flood of binds fills the password pool (low-priority threads of its
//! own, `password_pool.rs`) and waits there, while searches keep flowing
//! through the store pool.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::core::access::Actor;
use crate::core::audit::{with_face, Face};
use crate::core::directory::{AuthError, Directory};
use crate::core::error::{CoreError, CoreResult};
use crate::core::model::Account;
use crate::core::password::PreparedPassword;
use crate::core::password_pool::PasswordPool;
use crate::core::second_factor::Computer;
use crate::core::throttle::{Throttle, ThrottleSettings};

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
    password_pool: PasswordPool,
    /// The face this handle serves, for the audit log.
    face: Face,
    /// Failed authentications, shared by every face.
    throttle: Arc<Throttle>,
}

impl Service {
    pub fn new(directory: Directory, store_threads: usize, password_threads: usize) -> Self {
        Service {
            directory: Arc::new(directory),
            store_pool: BlockingPool::new(store_threads),
            password_pool: PasswordPool::new(password_threads),
            face: Face::Cli,
            throttle: Arc::new(Throttle::default()),
        }
    }

    /// The same service with these settings for slowing failed
    /// authentications down.
    pub fn with_throttle(self, settings: ThrottleSettings) -> Service {
        Service {
            throttle: Arc::new(Throttle::new(settings)),
            ..self
        }
    }

    /// The same service, recording its changes as made through `face`.
    pub fn for_face(&self, face: Face) -> Service {
        Service {
            face,
            ..self.clone()
        }
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
        let face = self.face;
        self.store_pool
            .run(move || with_face(face, || call(&directory)))
            .await?
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

    /// An authentication (password, or password and code) from `computer`,
    /// each step on its own pool: lookups on the store pool, argon2 on the
    /// password pool.
    pub async fn authenticate(
        &self,
        user_name: String,
        credential: String,
        computer: Computer,
    ) -> Result<Account, AuthError> {
        let address = match &computer {
            Computer::Address(ip) => Some(*ip),
            _ => None,
        };
        // Earlier failures for this account or address make this one wait,
        // on a timer: no pool thread is held meanwhile.
        let wait = self.throttle.wait(&user_name, address);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let name = user_name.clone();
        let result = self.check(user_name, credential, computer).await;
        match &result {
            Ok(_) => self.throttle.succeeded(&name),
            // A code sent or asked for follows a right password.
            Err(AuthError::CodeSent { .. } | AuthError::SecondFactorRequired(_)) => {}
            Err(_) => {
                if self.throttle.failed(&name, address) {
                    let directory = self.directory.clone();
                    let face = self.face;
                    let from = address.map_or_else(|| "(unknown)".into(), |a| a.to_string());
                    let _ = self
                        .store_pool
                        .run(move || {
                            with_face(face, || directory.record_throttle(&name, &from));
                        })
                        .await;
                }
            }
        }
        result
    }

    async fn check(
        &self,
        user_name: String,
        credential: String,
        computer: Computer,
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
        let face = self.face;
        self.store_pool
            .run(move || {
                with_face(face, || {
                    directory.finish_authentication(attempt, verdict, &computer)
                })
            })
            .await?
    }

    /// Whether `password` alone is the account's password (the old password
    /// of a password change): no second factor is asked, no code sent.
    pub async fn password_matches(&self, user_name: String, password: String) -> CoreResult<bool> {
        let attempt = self
            .run(move |d| d.begin_authentication(&user_name))
            .await?;
        let directory = self.directory.clone();
        self.password_pool
            .run(move || directory.password_matches(&attempt, &password))
            .await
    }
}
